"""Encoder-decoder (sequence-to-sequence) models built by hand in PyTorch: T5, Whisper and the
original Transformer.  Every forward takes TWO inputs, the encoder's (S source token ids, or
Whisper's n_mels x L log-mel frames) and the decoder's T token ids, and gives logits (1, T, vocab).
Written from the sources named below and the models' public configurations, never from symcount.

Sources
  T5       HF transformers 5.23.0 models/t5/modeling_t5.py (T5LayerNorm, T5DenseActDense,
           T5Attention incl. _relative_position_bucket and compute_bias, T5LayerSelfAttention,
           T5LayerCrossAttention, T5LayerFF, T5Block, T5Stack, T5ForConditionalGeneration) and
           configuration_t5.py (scale_decoder_outputs: the decoder output is multiplied by
           d_model^-0.5 before lm_head unless the config says tie_word_embeddings false; 5.x ties
           lm_head to `shared` always).
  Whisper  HF transformers 5.23.0 models/whisper/modeling_whisper.py (sinusoids,
           WhisperPositionalEmbedding, WhisperAttention, WhisperEncoderLayer, WhisperDecoderLayer,
           WhisperEncoder, WhisperDecoder, WhisperForConditionalGeneration) and
           configuration_whisper.py (whose defaults ARE whisper-tiny).
  Transformer  Vaswani et al. 2017, "Attention Is All You Need": Sections 3.1-3.5 (post-LN
           sublayers LayerNorm(x + Sublayer(x)), FFN max(0, xW1 + b1)W2 + b2, multi-head attention
           with per-head projections, embeddings times sqrt(d_model), shared source/target
           embedding and pre-softmax weight, sinusoidal positions), Section 5.1 (EN-DE: a shared
           source-target BPE vocabulary of about 37000 tokens) and Table 3 (base, big).

Configurations
  t5_small        google-t5/t5-small: vocab 32128, d_model 512, d_kv 64, d_ff 2048, 6 + 6 layers,
                  8 heads, relative_attention_num_buckets 32 (max_distance 128), relu FF, no
                  biases, T5LayerNorm (RMSNorm, weight only, eps 1e-6), `shared` embedding tied
                  to both stacks' embed_tokens and lm_head, logits scaled by 512^-0.5.  The
                  relative-position bias Embedding(32, 8) sits in block 0's self-attention of
                  each stack only (the decoder's is unidirectional); later blocks reuse its
                  output.  Cross-attention has none (HF adds a zero bias).
                  60,506,624 parameters = 32128*512 (shared, once) + 6 * 3,146,752 (encoder
                  blocks: 4*512*512 + 2*512*2048 + 2*512) + 6 * 4,195,840 (decoder blocks: 8*512^2
                  + 2*512*2048 + 3*512) + 2*512 (final norms) + 2*256 (the two bias tables).  The
                  card's / literature's usual 60,506,624 ("60M"): matches.
  whisper_tiny    openai/whisper-tiny: 80 mel bins, d_model 384, 4 + 4 layers, 6 heads, ffn 1536,
                  vocab 51865, max_source_positions 1500, max_target_positions 448, gelu (erf),
                  pre-LN, k_proj without bias (q/v/out with), final LayerNorm in each stack,
                  proj_out (no bias) tied to decoder.embed_tokens.
                  Encoder: conv1 Conv1d(80, 384, 3, pad 1), gelu, conv2 Conv1d(384, 384, 3,
                  stride 2, pad 1), gelu, + sinusoidal positions.  HF keeps those positions in
                  embed_positions = nn.Embedding(1500, 384) with requires_grad False: it IS an
                  nn.Parameter, so HF's parameters() / num_parameters() count its 576,000 values;
                  this reference does the same.  (openai/whisper's AudioEncoder registers it as a
                  buffer instead, hence 37,184,640 there.)
                  37,760,640 parameters with the table (37,184,640 without); published "39 M"
                  (Whisper paper Table 1) -- neither count rounds to it.
                  Input length: HF raises ValueError unless L == max_source_positions * 1 * 2 =
                  3000 exactly (openai's code asserts the same).  This reference accepts any
                  1 <= L <= 3000: conv2 gives ceil(L/2) = (L-1)//2 + 1 frames and the first that
                  many rows of the position table are added; L > 3000 is a ValueError.  The
                  decoder takes 1 <= T <= 448 (its learned position table), else ValueError.
  transformer_base  Table 3 base: N = 6, d_model 512, d_ff 2048, h 8 (d_k = d_v = 64), vocab 37000.
  transformer_big   Table 3 big: N = 6, d_model 1024, d_ff 4096, h 16 (d_k = d_v = 64), vocab 37000.
                  Built as the paper describes (the defaults of transformer()): post-LN (two
                  LayerNorms per encoder layer, three per decoder layer, no final LayerNorm of a
                  stack), q/k/v/out nn.Linear WITH biases per attention (nn.MultiheadAttention's
                  parameter count, but four separate Linears, not its fused in_proj), ReLU FFN with
                  biases, sinusoidal positions (no parameters), ONE embedding matrix for source,
                  target and the pre-softmax linear, no output bias.
                  base: 63,082,496 = 37000*512 + 6 * 3,152,384 (encoder layer: 4*(512^2+512) +
                        (2*512*2048 + 2048 + 512) + 2*2*512) + 6 * 4,204,032 (decoder layer:
                        2 * 1,050,624 + 2,099,712 + 3*1024).  Table 3 prints 65 (x10^6).
                  big:  214,245,376 = 37000*1024 + 6 * 12,596,224 + 6 * 16,796,672.  Table 3
                        prints 213.
                  Variants (non-embedding part 44,138,496 base / 176,357,376 big, + V*d per
                  embedding matrix): + output bias 37000 -> 63,119,496 / 214,282,376; + a final
                  LayerNorm in each stack (the pre-norm tensor2tensor/fairseq layout) + 2*2*d ->
                  63,084,544 / 214,249,472; untied pre-softmax (2 matrices) -> 82,026,496 /
                  252,133,376; three matrices -> 100,970,496 / 290,021,376.  So big rounds to
                  214M against the printed 213M (0.6 % over) and base to 63M against 65M
                  (2.9 % under); no choice among those variants fits both figures.  Table 3's
                  base-sized rows fit "non-embedding part + V * d_model" with V near 41,000:
                  base 65 needs V in 39.8K-41.7K, N=2 36 -> 40.6K-42.6K, N=4 50 -> 39.2K-41.2K,
                  N=8 80 -> 40.3K-42.3K, d_model 256 28 -> 39.6K-43.5K, d_model 1024 168 ->
                  40.5K-41.5K, d_ff 1024 53 -> 40.9K-42.9K, d_ff 4096 90 -> 39.4K-41.4K (all
                  overlap at 40.9K-41.2K), while big 213 needs V in 35.3K-36.3K: the printed figures
                  look like counts of a tensor2tensor build whose vocabulary was not exactly 37000,
                  not of the paper's stated V.  This reference keeps V = 37000 and records the
                  gap; the tests assert 63,082,496 and 214,245,376 and that they round to within
                  3 % of the printed 65M / 213M.

The trace (trace_s2s): every leaf layer of KINDS is hooked in forward order, EXCEPT the modules
inside an attention (its q/k/v/o Linears and T5's relative_attention_bias Embedding), which is one
"attn" layer.  Rows are (kind, output shape without the batch, own params, stack): own params are
the parameters first used at that row (a tied weight is counted at its first use -- the encoder's
embedding for T5 and the Transformer, the decoder's token embedding for Whisper -- and 0 at the
later embed / output fc rows), so the rows sum to params(model).  T5's block-0 self-attention rows
include the 32 x 8 = 256 bias-table values (4*512*512 + 256 = 1,048,832); relative_bias_params()
gives the tables on their own.  Kinds: "embed" (token and learned/fixed position tables), "rmsnorm"
(T5LayerNorm), "ln" (nn.LayerNorm), "attn", "fc" (nn.Linear outside attention, incl. lm_head /
proj_out / the pre-softmax linear), "relu", "gelu", "conv1d".  The stack is "encoder" or
"decoder" (output heads belong to the decoder).  Dropout: eval mode, no dropout modules at all.
Rows per model:
  t5        encoder: embed (S,512); 6 x [rmsnorm, attn, rmsnorm, fc (S,2048), relu, fc (S,512)];
            rmsnorm.  decoder: embed (T,512); 6 x [rmsnorm, attn (self), rmsnorm, attn (cross),
            rmsnorm, fc, relu, fc]; rmsnorm; fc lm_head (T,32128).
  whisper   encoder: conv1d (384,L), gelu, conv1d (384,F), gelu, embed (F,384) with F = ceil(L/2);
            4 x [ln, attn, ln, fc (F,1536), gelu, fc]; ln.  decoder: embed (T,384) tokens, embed
            (T,384) positions; 4 x [ln, attn, ln, attn, ln, fc, gelu, fc]; ln; fc proj_out (T,51865).
            (HF applies the two conv gelus as F.gelu, not modules; here they are nn.GELU rows.)
  transformer  encoder: embed (S,d); N x [attn, ln, fc (S,d_ff), relu, fc, ln].  decoder: embed
            (T,d); N x [attn, ln, attn, ln, fc, relu, fc, ln]; fc (T,V).

FLOPs (FlopCounterMode on the meta device, torch 2.13.0): it counts matmuls only --
  * every nn.Linear (incl. lm_head): 2 * in * out per position (biases not counted);
  * nn.Conv1d: 2 * C_in * k * C_out per output frame (bias not counted): Whisper's convs
    2*80*3*384*L + 2*384*3*384*F;
  * each attention's two products QK^T and AV, here through F.scaled_dot_product_attention:
    2 * 2 * heads * d_head * Tq * Tk, with Tq = Tk = S (encoder self), T (decoder self; the causal
    mask does not reduce it) and Tq = T, Tk = S for cross-attention; its K/V projections run over
    the S encoder positions (2 * 2 * d * inner * S), its Q/O over T.
  Nothing else: embeddings (lookups), RMSNorm/LayerNorm, ReLU/GELU, softmax, masks, residual sums,
  Whisper's q * head_dim^-0.5 and position sum, the Transformer's sqrt(d) scale and sinusoid table
  (elementwise), T5's d_model^-0.5 logit scale, and T5's position bias: compute_bias is integer
  arange/subtraction/abs/min/where plus float log/division on the T x S bucket indices and an
  Embedding lookup -- all uncounted (0 FLOPs).
  Closed forms (d = d_model, i = heads * d_head):
    t5 (i = 512): 6 * (8*S*d*i + 4*S*S*i + 4*S*d*f)
                + 6 * (8*T*d*i + 4*T*T*i + 4*T*d*i + 4*S*d*i + 4*T*S*i + 4*T*d*f) + 2*T*d*V
    whisper: convs above + 4 * (8*F*d^2 + 4*F*F*d + 4*F*d*f)
                + 4 * (8*T*d^2 + 4*T*T*d + 4*T*d^2 + 4*F*d^2 + 4*T*F*d + 4*T*d*f) + 2*T*d*V
    transformer: as t5 with i = d, N layers.
  Values: t5_small S=5,T=3: 451,620,864; S=17,T=1: 829,394,944; S=64,T=33: 5,447,233,536.
          whisper_tiny L=3000,T=1: 40,542,241,536; L=3000,T=9: 41,067,240,192 (of which the two
            convs 1,880,064,000 and the encoder's 4 layers 35,057,664,000, 13,824,000,000 of
            those the 1500 x 1500 QK^T and AV products).
          transformer_base S=5,T=3: 466,587,648; S=17,T=1: 834,383,872.
          transformer_big  S=5,T=3: 1,637,818,368; S=17,T=1: 3,254,214,656.

Checked once against HF transformers 5.23.0 (torch 2.13.0 CPU; T5Config() and WhisperConfig()
defaults = t5-small / whisper-tiny; T5ForConditionalGeneration / WhisperForConditionalGeneration
built under torch.device("meta"), eval): the same parameter count (60,506,624 and 37,760,640;
HF's parameters() and num_parameters() deduplicate the tied weights as ours do), the same
FlopCounterMode totals at t5 (S,T) = (5,3), (17,1), (64,33) and whisper (L,T) = (3000,1), (3000,9)
-- identical with attn_implementation "eager" and "sdpa" (both count exactly QK^T and AV) -- and
the same per-leaf (kind, output shape, stack) lists (HF's module-less conv gelus left out of ours;
HF's encoder position lookup is unbatched, (1500, 384)).  T5 ran with use_cache=False; Whisper
with use_cache=True, because on the meta device with no cache its decoder's mask builder looks for
packed sequences with a data-dependent .item() (the cache adds copies, no FLOPs).
With small random configs on CPU (HF's fresh weights loaded by load_state_dict(strict=True): the
module names here are HF's, Whisper's without the "model." prefix), the same logits to ~2e-6 for
T5 (eager and sdpa; S, T up to 300 x 200, past the logarithmic buckets) and Whisper
(L = 2 * max_source_positions, T up to max_target_positions); this file's sinusoid table equals
HF's.  The Transformer layers (final_ln=True) equal torch.nn.Transformer (post-LN, relu,
batch_first) with its fused in_proj split into q/k/v, to ~1e-6, and its parameter count
(44,140,544 base, 176,361,472 big without embeddings).
"""
from __future__ import annotations

import math

from torch_reference import nn, torch  # first: it skips the tests when torch is missing

F = nn.functional


def _attend(q, k, v, mask=None, causal=False, scale=None):
    """softmax(q k^T * scale + mask) v over (B, heads, Tq, d_head) x (B, heads, Tk, d_head)."""
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal and mask is None, scale=scale)


def _split(x, heads):
    b, t, _ = x.shape
    return x.view(b, t, heads, -1).transpose(1, 2)


def _merge(y):
    b, h, t, dh = y.shape
    return y.transpose(1, 2).reshape(b, t, h * dh)


# =========================================================================== T5
class RMSNorm(nn.Module):
    """T5LayerNorm: weight * x / sqrt(mean(x^2) + eps) -- no mean subtraction, no bias."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.variance_epsilon = eps

    def forward(self, x):
        variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.variance_epsilon))


def relative_position_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
    """T5Attention._relative_position_bucket (Mesh TensorFlow's): relative_position = key - query;
    bidirectional: half the buckets for key > query; of the rest, exact buckets below
    num_buckets/2 (after halving) and logarithmic ones up to max_distance."""
    buckets = 0
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    if_large = max_exact + (torch.log(relative_position.float() / max_exact) / math.log(max_distance / max_exact)
                            * (num_buckets - max_exact)).to(torch.long)
    if_large = torch.min(if_large, torch.full_like(if_large, num_buckets - 1))
    return buckets + torch.where(is_small, relative_position, if_large)


class T5Attention(nn.Module):
    """T5Attention: q, k, v (d -> heads*d_kv) and o (heads*d_kv -> d), no biases, NO 1/sqrt(d_kv)
    scaling; scores + position_bias (+ causal mask).  With the bias table (block 0's
    self-attention) it computes position_bias (1, heads, Tq, Tk) and returns it for the other
    blocks; cross-attention gets none (HF: zeros)."""

    def __init__(self, d, heads, d_kv, has_relative_attention_bias=False, buckets=32, max_distance=128,
                 bidirectional=True):
        super().__init__()
        self.n_heads, self.bidirectional = heads, bidirectional
        self.buckets, self.max_distance = buckets, max_distance
        inner = heads * d_kv
        self.q = nn.Linear(d, inner, bias=False)
        self.k = nn.Linear(d, inner, bias=False)
        self.v = nn.Linear(d, inner, bias=False)
        self.o = nn.Linear(inner, d, bias=False)
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(buckets, heads)

    def compute_bias(self, query_length, key_length, device):
        context = torch.arange(query_length, dtype=torch.long, device=device)[:, None]
        memory = torch.arange(key_length, dtype=torch.long, device=device)[None, :]
        bucket = relative_position_bucket(memory - context, self.bidirectional, self.buckets, self.max_distance)
        return self.relative_attention_bias(bucket).permute([2, 0, 1]).unsqueeze(0)  # (1, heads, Tq, Tk)

    def forward(self, x, key_value_states=None, position_bias=None, causal=False):
        src = x if key_value_states is None else key_value_states
        q, k, v = _split(self.q(x), self.n_heads), _split(self.k(src), self.n_heads), _split(self.v(src), self.n_heads)
        tq, tk = q.shape[2], k.shape[2]
        if position_bias is None and hasattr(self, "relative_attention_bias"):
            position_bias = self.compute_bias(tq, tk, x.device)
        mask = position_bias
        if causal:
            allowed = torch.ones(tq, tk, dtype=torch.bool, device=x.device).tril()
            base = mask if mask is not None else torch.zeros(1, 1, tq, tk, dtype=q.dtype, device=x.device)
            mask = torch.where(allowed, base, torch.finfo(q.dtype).min)
        y = _attend(q, k, v, mask=mask, scale=1.0)
        return self.o(_merge(y)), position_bias


class T5LayerSelfAttention(nn.Module):
    def __init__(self, d, heads, d_kv, has_bias, buckets, max_distance, decoder, eps):
        super().__init__()
        self.SelfAttention = T5Attention(d, heads, d_kv, has_bias, buckets, max_distance, bidirectional=not decoder)
        self.layer_norm = RMSNorm(d, eps)
        self.causal = decoder

    def forward(self, x, position_bias):
        y, position_bias = self.SelfAttention(self.layer_norm(x), position_bias=position_bias, causal=self.causal)
        return x + y, position_bias


class T5LayerCrossAttention(nn.Module):
    def __init__(self, d, heads, d_kv, eps):
        super().__init__()
        self.EncDecAttention = T5Attention(d, heads, d_kv)
        self.layer_norm = RMSNorm(d, eps)

    def forward(self, x, encoder_states):
        y, _ = self.EncDecAttention(self.layer_norm(x), key_value_states=encoder_states)
        return x + y


class T5DenseActDense(nn.Module):
    def __init__(self, d, d_ff):
        super().__init__()
        self.wi = nn.Linear(d, d_ff, bias=False)
        self.act = nn.ReLU()
        self.wo = nn.Linear(d_ff, d, bias=False)

    def forward(self, x):
        return self.wo(self.act(self.wi(x)))


class T5LayerFF(nn.Module):
    def __init__(self, d, d_ff, eps):
        super().__init__()
        self.DenseReluDense = T5DenseActDense(d, d_ff)
        self.layer_norm = RMSNorm(d, eps)

    def forward(self, x):
        return x + self.DenseReluDense(self.layer_norm(x))


class T5Block(nn.Module):
    """layer[0] self-attention, (decoder: layer[1] cross-attention), layer[-1] FF; pre-norm."""

    def __init__(self, d, heads, d_kv, d_ff, has_bias, buckets, max_distance, decoder, eps):
        super().__init__()
        self_attention = T5LayerSelfAttention(d, heads, d_kv, has_bias, buckets, max_distance, decoder, eps)
        self.layer = nn.ModuleList([self_attention])
        if decoder:
            self.layer.append(T5LayerCrossAttention(d, heads, d_kv, eps))
        self.layer.append(T5LayerFF(d, d_ff, eps))

    def forward(self, x, position_bias, encoder_states=None):
        x, position_bias = self.layer[0](x, position_bias)
        if encoder_states is not None:
            x = self.layer[1](x, encoder_states)
        return self.layer[-1](x), position_bias


class T5Stack(nn.Module):
    """embed_tokens (tied to `shared`), the blocks (block 0 alone holds the bias table; its
    position_bias goes to every later block), final_layer_norm."""

    def __init__(self, shared, layers, d, heads, d_kv, d_ff, buckets, max_distance, decoder, eps):
        super().__init__()
        self.embed_tokens = nn.Embedding(*shared.weight.shape)
        self.embed_tokens.weight = shared.weight
        self.block = nn.ModuleList(T5Block(d, heads, d_kv, d_ff, i == 0, buckets, max_distance, decoder, eps)
                                   for i in range(layers))
        self.final_layer_norm = RMSNorm(d, eps)

    def forward(self, ids, encoder_states=None):
        x, position_bias = self.embed_tokens(ids), None
        for block in self.block:
            x, position_bias = block(x, position_bias, encoder_states)
        return self.final_layer_norm(x)


class T5ForConditionalGeneration(nn.Module):
    """(source ids (B, S), decoder ids (B, T)) -> logits (B, T, vocab): encoder, decoder with
    cross-attention to the encoder output, decoder output * d_model^-0.5 (scale_logits), lm_head
    (no bias) tied to `shared`."""

    source = "tokens"

    def __init__(self, V=32128, d=512, d_kv=64, d_ff=2048, enc_layers=6, dec_layers=6, heads=8, buckets=32,
                 max_distance=128, eps=1e-6, scale_logits=True):
        super().__init__()
        self.model_dim, self.scale_logits = d, scale_logits
        self.shared = nn.Embedding(V, d)
        self.encoder = T5Stack(self.shared, enc_layers, d, heads, d_kv, d_ff, buckets, max_distance, False, eps)
        self.decoder = T5Stack(self.shared, dec_layers, d, heads, d_kv, d_ff, buckets, max_distance, True, eps)
        self.lm_head = nn.Linear(d, V, bias=False)
        self.lm_head.weight = self.shared.weight

    def forward(self, source_ids, decoder_ids):
        encoded = self.encoder(source_ids)
        y = self.decoder(decoder_ids, encoded)
        if self.scale_logits:
            y = y * self.model_dim ** -0.5
        return self.lm_head(y)


# =========================================================================== Whisper
def sinusoids(length, channels, max_timescale=10000):
    """Whisper's fixed table: [sin(t * inv), cos(t * inv)] with inv = exp(-log(max)/(c/2-1) * i)."""
    increment = math.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = torch.exp(-increment * torch.arange(channels // 2))
    scaled_time = torch.arange(length).view(-1, 1) * inv_timescales.view(1, -1)
    return torch.cat([scaled_time.sin(), scaled_time.cos()], dim=1)


class WhisperAttention(nn.Module):
    """WhisperAttention: q_proj, v_proj, out_proj with bias, k_proj WITHOUT; q scaled by
    d_head^-0.5 before the product; causal for the decoder's self-attention."""

    def __init__(self, d, heads):
        super().__init__()
        self.num_heads, self.scaling = heads, (d // heads) ** -0.5
        self.k_proj = nn.Linear(d, d, bias=False)
        self.v_proj = nn.Linear(d, d)
        self.q_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, x, key_value_states=None, causal=False):
        src = x if key_value_states is None else key_value_states
        q = _split(self.q_proj(x) * self.scaling, self.num_heads)
        k, v = _split(self.k_proj(src), self.num_heads), _split(self.v_proj(src), self.num_heads)
        return self.out_proj(_merge(_attend(q, k, v, causal=causal, scale=1.0)))


class WhisperEncoderLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.self_attn = WhisperAttention(d, heads)
        self.final_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn)
        self.activation_fn = nn.GELU()
        self.fc2 = nn.Linear(ffn, d)

    def forward(self, x):
        x = x + self.self_attn(self.self_attn_layer_norm(x))
        return x + self.fc2(self.activation_fn(self.fc1(self.final_layer_norm(x))))


class WhisperDecoderLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.self_attn = WhisperAttention(d, heads)
        self.encoder_attn_layer_norm = nn.LayerNorm(d)
        self.encoder_attn = WhisperAttention(d, heads)
        self.final_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn)
        self.activation_fn = nn.GELU()
        self.fc2 = nn.Linear(ffn, d)

    def forward(self, x, encoder_states):
        x = x + self.self_attn(self.self_attn_layer_norm(x), causal=True)
        x = x + self.encoder_attn(self.encoder_attn_layer_norm(x), key_value_states=encoder_states)
        return x + self.fc2(self.activation_fn(self.fc1(self.final_layer_norm(x))))


class WhisperEncoder(nn.Module):
    """conv1 (k3, pad 1), gelu, conv2 (k3, stride 2, pad 1), gelu, + the first F rows of the fixed
    sinusoidal table (an Embedding with requires_grad False, as HF), the layers, layer_norm."""

    def __init__(self, n_mels, d, layers, heads, ffn, max_source):
        super().__init__()
        self.max_source = max_source
        self.conv1 = nn.Conv1d(n_mels, d, kernel_size=3, padding=1)
        self.act1 = nn.GELU()
        self.conv2 = nn.Conv1d(d, d, kernel_size=3, stride=2, padding=1)
        self.act2 = nn.GELU()
        self.embed_positions = nn.Embedding(max_source, d)
        self.embed_positions.requires_grad_(False)
        with torch.no_grad():
            self.embed_positions.weight.copy_(sinusoids(max_source, d).to(self.embed_positions.weight.device))
        self.layers = nn.ModuleList(WhisperEncoderLayer(d, heads, ffn) for _ in range(layers))
        self.layer_norm = nn.LayerNorm(d)

    def forward(self, features):
        L = features.shape[-1]
        if not 1 <= L <= 2 * self.max_source:
            raise ValueError(f"{L} mel frames: 1 <= L <= {2 * self.max_source} (HF itself takes exactly "
                             f"{2 * self.max_source})")
        x = self.act2(self.conv2(self.act1(self.conv1(features)))).permute(0, 2, 1)
        x = x + self.embed_positions(torch.arange(x.shape[1], device=x.device)[None])
        for layer in self.layers:
            x = layer(x)
        return self.layer_norm(x)


class WhisperDecoder(nn.Module):
    def __init__(self, V, d, layers, heads, ffn, max_target, pad_token_id=50256):
        super().__init__()
        self.max_target = max_target
        self.embed_tokens = nn.Embedding(V, d, padding_idx=pad_token_id if pad_token_id < V else None)
        self.embed_positions = nn.Embedding(max_target, d)
        self.layers = nn.ModuleList(WhisperDecoderLayer(d, heads, ffn) for _ in range(layers))
        self.layer_norm = nn.LayerNorm(d)

    def forward(self, ids, encoder_states):
        T = ids.shape[1]
        if not 1 <= T <= self.max_target:
            raise ValueError(f"{T} decoder tokens: 1 <= T <= {self.max_target}")
        x = self.embed_tokens(ids) + self.embed_positions(torch.arange(T, device=ids.device)[None])
        for layer in self.layers:
            x = layer(x, encoder_states)
        return self.layer_norm(x)


class WhisperForConditionalGeneration(nn.Module):
    """(mel (B, n_mels, L), decoder ids (B, T)) -> logits (B, T, vocab); proj_out (no bias) tied to
    decoder.embed_tokens.  HF's module names without the "model." prefix."""

    source = "mel"

    def __init__(self, n_mels=80, d=384, enc_layers=4, dec_layers=4, heads=6, ffn=1536, V=51865,
                 max_source=1500, max_target=448):
        super().__init__()
        self.n_mels = n_mels
        self.encoder = WhisperEncoder(n_mels, d, enc_layers, heads, ffn, max_source)
        self.decoder = WhisperDecoder(V, d, dec_layers, heads, ffn, max_target)
        self.proj_out = nn.Linear(d, V, bias=False)
        self.proj_out.weight = self.decoder.embed_tokens.weight

    def forward(self, features, decoder_ids):
        return self.proj_out(self.decoder(decoder_ids, self.encoder(features)))


# =========================================================================== Transformer (2017)
def sinusoidal_positions(length, d, device=None):
    """Section 3.5: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...).  Elementwise
    only (no matmul), no parameters."""
    pos = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / d))
    pe = torch.zeros(length, d, device=device)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class MultiHeadAttention(nn.Module):
    """Section 3.2.2 with the per-head W^Q_i, W^K_i, W^V_i stacked into one d x d Linear each, and
    W^O: four nn.Linear WITH biases (the parameters of nn.MultiheadAttention, unfused)."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, key_value_states=None, causal=False):
        src = x if key_value_states is None else key_value_states
        q, k, v = (_split(p(t), self.heads) for p, t in ((self.q_proj, x), (self.k_proj, src), (self.v_proj, src)))
        return self.out_proj(_merge(_attend(q, k, v, causal=causal)))  # scale 1/sqrt(d_k)


class TransformerEncoderLayer(nn.Module):
    """Post-LN: x = LN(x + SelfAttn(x)); x = LN(x + FFN(x)), FFN = fc2(relu(fc1(x)))."""

    def __init__(self, d, heads, d_ff):
        super().__init__()
        self.self_attn = MultiHeadAttention(d, heads)
        self.norm1 = nn.LayerNorm(d)
        self.fc1, self.relu, self.fc2 = nn.Linear(d, d_ff), nn.ReLU(), nn.Linear(d_ff, d)
        self.norm2 = nn.LayerNorm(d)

    def forward(self, x):
        x = self.norm1(x + self.self_attn(x))
        return self.norm2(x + self.fc2(self.relu(self.fc1(x))))


class TransformerDecoderLayer(nn.Module):
    """Post-LN: masked self-attention, encoder-decoder attention, FFN, each LN(x + sublayer(x))."""

    def __init__(self, d, heads, d_ff):
        super().__init__()
        self.self_attn = MultiHeadAttention(d, heads)
        self.norm1 = nn.LayerNorm(d)
        self.cross_attn = MultiHeadAttention(d, heads)
        self.norm2 = nn.LayerNorm(d)
        self.fc1, self.relu, self.fc2 = nn.Linear(d, d_ff), nn.ReLU(), nn.Linear(d_ff, d)
        self.norm3 = nn.LayerNorm(d)

    def forward(self, x, memory):
        x = self.norm1(x + self.self_attn(x, causal=True))
        x = self.norm2(x + self.cross_attn(x, key_value_states=memory))
        return self.norm3(x + self.fc2(self.relu(self.fc1(x))))


class Transformer(nn.Module):
    """(source ids (B, S), target ids (B, T)) -> logits (B, T, V).  Embeddings times sqrt(d) plus
    sinusoidal positions; N post-LN encoder and decoder layers; the pre-softmax Linear.
    share_src_tgt: one matrix for both embeddings; tie_output: the pre-softmax weight is the target
    embedding's; out_bias: a bias on it (not in the paper); final_ln: a LayerNorm after each stack
    (the pre-norm layout's, not the paper's)."""

    source = "tokens"

    def __init__(self, N=6, d=512, d_ff=2048, heads=8, V=37000, share_src_tgt=True, tie_output=True,
                 out_bias=False, final_ln=False):
        super().__init__()
        self.d = d
        self.embed_src = nn.Embedding(V, d)
        self.embed_tgt = nn.Embedding(V, d)
        if share_src_tgt:
            self.embed_tgt.weight = self.embed_src.weight
        self.encoder = nn.ModuleList(TransformerEncoderLayer(d, heads, d_ff) for _ in range(N))
        self.encoder_norm = nn.LayerNorm(d) if final_ln else None
        self.decoder = nn.ModuleList(TransformerDecoderLayer(d, heads, d_ff) for _ in range(N))
        self.decoder_norm = nn.LayerNorm(d) if final_ln else None
        self.out = nn.Linear(d, V, bias=out_bias)
        if tie_output:
            self.out.weight = self.embed_tgt.weight

    def _embed(self, embedding, ids):
        return embedding(ids) * math.sqrt(self.d) + sinusoidal_positions(ids.shape[1], self.d, ids.device)

    def forward(self, source_ids, target_ids):
        x = self._embed(self.embed_src, source_ids)
        for layer in self.encoder:
            x = layer(x)
        if self.encoder_norm is not None:
            x = self.encoder_norm(x)
        y = self._embed(self.embed_tgt, target_ids)
        for layer in self.decoder:
            y = layer(y, x)
        if self.decoder_norm is not None:
            y = self.decoder_norm(y)
        return self.out(y)


# --------------------------------------------------------------------------- builders
def t5(V=32128, d=512, d_kv=64, d_ff=2048, enc_layers=6, dec_layers=6, heads=8, buckets=32, max_distance=128,
       eps=1e-6, scale_logits=True):
    """A T5 (v1.0 layout: relu FF, tied lm_head with the d^-0.5 logit scale)."""
    return T5ForConditionalGeneration(V, d, d_kv, d_ff, enc_layers, dec_layers, heads, buckets, max_distance, eps,
                                      scale_logits)


def whisper(n_mels=80, d=384, enc_layers=4, dec_layers=4, heads=6, ffn=1536, V=51865, max_source=1500,
            max_target=448):
    """A Whisper (the defaults are whisper-tiny)."""
    return WhisperForConditionalGeneration(n_mels, d, enc_layers, dec_layers, heads, ffn, V, max_source, max_target)


def transformer(N=6, d=512, d_ff=2048, heads=8, V=37000, share_src_tgt=True, tie_output=True, out_bias=False,
                final_ln=False):
    """The 2017 Transformer (the defaults are Table 3's base with the paper's weight sharing)."""
    return Transformer(N, d, d_ff, heads, V, share_src_tgt, tie_output, out_bias, final_ln)


def _meta(build, **kwargs):
    with torch.device("meta"):
        return build(**kwargs).eval()


def t5_small(shape=None):
    return _meta(t5)


def whisper_tiny(shape=None):
    return _meta(whisper)


def transformer_base(shape=None):
    return _meta(transformer, N=6, d=512, d_ff=2048, heads=8, V=37000)


def transformer_big(shape=None):
    return _meta(transformer, N=6, d=1024, d_ff=4096, heads=16, V=37000)


BUILDERS = {"t5_small": t5_small, "whisper_tiny": whisper_tiny, "transformer_base": transformer_base,
            "transformer_big": transformer_big}


def make_inputs(model, S, T, device="meta"):
    """The two inputs: (source ids (1, S) or mel features (1, n_mels, S = L frames), decoder ids (1, T))."""
    if model.source == "mel":
        source = torch.zeros(1, model.n_mels, S, device=device)
    else:
        source = torch.zeros(1, S, dtype=torch.long, device=device)
    return source, torch.zeros(1, T, dtype=torch.long, device=device)


# --------------------------------------------------------------------------- counting
ATTENTIONS = (T5Attention, WhisperAttention, MultiHeadAttention)
KINDS = {nn.Embedding: "embed", RMSNorm: "rmsnorm", nn.LayerNorm: "ln", T5Attention: "attn",
         WhisperAttention: "attn", MultiHeadAttention: "attn", nn.Linear: "fc", nn.ReLU: "relu", nn.GELU: "gelu",
         nn.Conv1d: "conv1d"}


def params(model):
    """Parameters, each Parameter once (tied weights, Whisper's frozen position table included)."""
    return sum(p.numel() for p in model.parameters())  # parameters() yields each Parameter once


def relative_bias_params(model):
    """{stack: values} of T5's relative-position bias tables (one per stack, in block 0)."""
    return {_stack(name): m.relative_attention_bias.weight.numel() for name, m in model.named_modules()
            if isinstance(m, T5Attention) and hasattr(m, "relative_attention_bias")}


def _stack(name):
    """'encoder' or 'decoder' from a module's qualified name; output heads are the decoder's."""
    parts = name.split(".")
    if parts[0] in ("encoder", "encoder_norm", "embed_src"):
        return "encoder"
    return "decoder"


def trace_s2s(model, S, T):
    """([(kind, output shape without the batch, own params, stack)] of the leaf layers in forward
    order -- the modules inside an attention not listed on their own --, FlopCounterMode's total)
    for make_inputs(model, S, T) on the meta device.  Own params: the parameters first used at
    that row, so a tied weight is counted once and the rows sum to params(model)."""
    from torch.utils.flop_counter import FlopCounterMode
    inner = {id(sub) for m in model.modules() if isinstance(m, ATTENTIONS) for sub in m.modules() if sub is not m}
    seen, counted = [], set()

    def hook(name):
        def record(module, args, output):
            out = output[0] if isinstance(output, tuple) else output
            new = [p for p in module.parameters() if id(p) not in counted]
            counted.update(id(p) for p in new)
            seen.append((KINDS[type(module)], tuple(out.shape[1:]), sum(p.numel() for p in new), _stack(name)))
        return record

    hooks = [m.register_forward_hook(hook(name)) for name, m in model.named_modules()
             if type(m) in KINDS and id(m) not in inner]
    try:
        with torch.device("meta"), FlopCounterMode(display=False) as counter:
            model(*make_inputs(model, S, T))
    finally:
        for h in hooks:
            h.remove()
    return seen, counter.get_total_flops()
