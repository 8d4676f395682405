"""Text transformers built by hand in PyTorch from their authors' code: GPT-2 (124M) from
openai/gpt-2 src/model.py and HF transformers' models/gpt2/modeling_gpt2.py (GPT2LMHeadModel);
BERT-base from google-research/bert modeling.py and HF transformers' models/bert/modeling_bert.py
(BertModel with its pooler).  Written from those sources, never from symcount.

Every module a forward pass goes through is a leaf module called once, in forward order, so
forward hooks list every layer; the residual sums stay tensor operations inside Residual.
The input is a (B, T) tensor of token ids (each model's `input_dtype` is torch.long).
"""
from __future__ import annotations

from torch_reference import nn, torch  # first: it skips the tests when torch is missing
from torch_zoo_vit import ClassPool, Residual, SelfAttention


class PositionTable(nn.Module):
    """A learned position table (GPT-2's wpe, BERT's position_embeddings): adds row t to the
    token at position t, for positions 0 .. T-1 (no past, no position_ids given)."""

    def __init__(self, positions, width):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(positions, width))

    def forward(self, x):
        assert x.shape[1] <= self.weight.shape[0], f"{x.shape[1]} tokens, {self.weight.shape[0]} positions"
        return x + self.weight[:x.shape[1]]


class SegmentEmbedding(nn.Module):
    """BERT's token_type_embeddings: with no token_type_ids given every token is type 0 (HF's
    zero buffer, Google's tf.zeros), so row 0 is added to every token."""

    def __init__(self, types, width):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(types, width))

    def forward(self, x):
        return x + self.weight[0]


# Attention, the class token's pooling and the residual sum are the ViT rebuild's leaves
# (torchvision's nn.MultiheadAttention parameter set): GPT-2's c_attn (width -> 3 width, with bias)
# and c_proj (width -> width, with bias), and BERT's query, key, value (three width -> width with
# bias) and attention.output.dense, hold exactly these counts; the dropout on the attention
# probabilities is no module of its own and is left out.  BERT's pooler reads the first ([CLS])
# token; its post-norm LayerNorm is the leaf after the sum.


def S(*layers):
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- GPT-2
def gpt2(shape, vocab=50257, positions=1024, layers=12, heads=12, width=768):
    """GPT2LMHeadModel(GPT2Config()): h = wte(ids) + wpe[:T], embedding dropout (HF's drop;
    openai's model.py is inference code and has no dropout at all); 12 pre-norm blocks,
    x + resid_dropout(c_proj(attn(ln_1(x)))) then x + dropout(c_proj(gelu(c_fc(ln_2(x))))),
    c_fc width -> 4 width, gelu_new (the tanh approximation: model.py's gelu); ln_f; then the
    logits (B, T, vocab) through lm_head, a Linear without bias whose weight IS wte's (tied:
    model.py multiplies by wte transposed), so it is counted once.  LayerNorm eps 1e-5,
    dropout 0.1 (embd_pdrop, resid_pdrop).  124,439,808 parameters."""
    assert shape[0] <= positions, f"{shape[0]} tokens, {positions} positions"
    wte = nn.Embedding(vocab, width)
    blocks = []
    for _ in range(layers):
        blocks += [Residual(S(nn.LayerNorm(width, eps=1e-5), SelfAttention(width, heads, causal=True),
                              nn.Dropout(0.1))),
                   Residual(S(nn.LayerNorm(width, eps=1e-5), nn.Linear(width, 4 * width),
                              nn.GELU(approximate="tanh"), nn.Linear(4 * width, width), nn.Dropout(0.1)))]
    lm_head = nn.Linear(width, vocab, bias=False)
    lm_head.weight = wte.weight  # tied: one Parameter, named once by named_parameters()
    model = S(wte, PositionTable(positions, width), nn.Dropout(0.1), *blocks, nn.LayerNorm(width, eps=1e-5), lm_head)
    model.input_dtype = torch.long
    return model


# --------------------------------------------------------------------------- BERT-base
def bert_base(shape, vocab=30522, positions=512, types=2, layers=12, heads=12, width=768, intermediate=3072):
    """BertModel(BertConfig()) with its pooler.  Embeddings: word, then token type, then
    position (both modeling.py's embedding_postprocessor and HF's BertEmbeddings add the token
    type before the position), LayerNorm, dropout.  12 post-norm layers: LayerNorm(x +
    dropout(output.dense(self-attention(x)))), then LayerNorm(x + dropout(output.dense(
    gelu(intermediate.dense(x))))), intermediate 3072.  HF's "gelu" is the exact erf GELU
    (nn.GELU()); Google's modeling.py gelu is the tanh approximation.  Pooler: the first
    token, dense width -> width, tanh; the output is the pooled (B, width).  LayerNorm eps
    1e-12, dropout 0.1 (hidden_dropout_prob).  109,482,240 parameters."""
    assert shape[0] <= positions, f"{shape[0]} tokens, {positions} positions"
    encoder = []
    for _ in range(layers):
        encoder += [Residual(S(SelfAttention(width, heads, causal=False), nn.Dropout(0.1))),
                    nn.LayerNorm(width, eps=1e-12),
                    Residual(S(nn.Linear(width, intermediate), nn.GELU(), nn.Linear(intermediate, width),
                               nn.Dropout(0.1))),
                    nn.LayerNorm(width, eps=1e-12)]
    model = S(nn.Embedding(vocab, width), SegmentEmbedding(types, width), PositionTable(positions, width),
              nn.LayerNorm(width, eps=1e-12), nn.Dropout(0.1), *encoder,
              ClassPool(), nn.Linear(width, width), nn.Tanh())
    model.input_dtype = torch.long
    return model


BUILDERS = {"gpt2": gpt2, "bert_base": bert_base}

# The leaf module types used here that torch_zoo.KINDS does not name (nn.Linear, nn.Dropout
# and nn.Tanh are "fc", "dropout" and "tanh" there).
KINDS = {nn.Embedding: "embed", PositionTable: "pos", SegmentEmbedding: "segment", SelfAttention: "attn",
         ClassPool: "clspool", nn.LayerNorm: "layernorm", nn.GELU: "gelu"}
