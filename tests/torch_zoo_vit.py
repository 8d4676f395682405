"""Vision Transformers built by hand in PyTorch from torchvision/models/vision_transformer.py
(VisionTransformer, Encoder, EncoderBlock, MLPBlock; vit_b_16, vit_b_32, vit_l_16), the
implementation of Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image
Recognition at Scale" (ICLR 2021).  Written from those sources, never from symcount.

Every module a forward pass goes through is a leaf module (it holds its parameters itself and
has no children) called once, in forward order, so forward hooks list every layer; the residual
sums stay tensor operations.  The attention is written with F.linear and
F.scaled_dot_product_attention, not nn.MultiheadAttention, whose fast path FlopCounterMode does
not see; it keeps nn.MultiheadAttention's parameter set (in_proj_*, out_proj_*).
"""
from __future__ import annotations

from torch_reference import nn, torch

F = torch.nn.functional  # bound after torch_reference, whose importorskip skips the tests without torch


class PatchEmbed(nn.Module):
    """conv_proj: Conv2d(channels, width, kernel = stride = patch), then (B, width, h, w) ->
    (B, h * w, width), as VisionTransformer._process_input reshapes and permutes."""

    def __init__(self, channels, width, patch):
        super().__init__()
        self.patch = patch
        self.weight = nn.Parameter(torch.empty(width, channels, patch, patch))
        self.bias = nn.Parameter(torch.empty(width))

    def forward(self, x):
        h, w = x.shape[-2:]
        torch._assert(h % self.patch == 0 and w % self.patch == 0, "Input shape indivisible by patch size!")
        return F.conv2d(x, self.weight, self.bias, stride=self.patch).flatten(2).transpose(1, 2)


class ClassToken(nn.Module):
    """class_token (1, 1, width), expanded to the batch and put in front: (B, N, D) -> (B, N+1, D)."""

    def __init__(self, width):
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, width))

    def forward(self, x):
        return torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)


class PositionEmbedding(nn.Module):
    """Encoder.pos_embedding (1, tokens, width), a learnt embedding added to every token."""

    def __init__(self, tokens, width):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, tokens, width))

    def forward(self, x):
        return x + self.pos_embedding


class SelfAttention(nn.Module):
    """nn.MultiheadAttention(width, heads, batch_first=True) as EncoderBlock calls it (query =
    key = value = x, need_weights=False): one packed input projection to q, k, v, scaled
    dot-product attention per head (softmax(q k^T / sqrt(width / heads)) v), the heads merged,
    then the output projection.  torchvision's attention_dropout defaults to 0 and is left out."""

    def __init__(self, width, heads, causal=False):
        super().__init__()
        assert width % heads == 0, "embed_dim must be divisible by num_heads"
        self.heads, self.causal = heads, causal
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * width))
        self.out_proj_weight = nn.Parameter(torch.empty(width, width))
        self.out_proj_bias = nn.Parameter(torch.empty(width))

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)  # (B, heads, N, d / heads)
        return F.linear(y.transpose(1, 2).reshape(b, n, d), self.out_proj_weight, self.out_proj_bias)


class ClassPool(nn.Module):
    """x[:, 0]: the class token's output, the classifier "token" VisionTransformer.forward keeps."""

    def forward(self, x):
        return x[:, 0]


class Residual(nn.Module):
    """x + body(x): the sums in EncoderBlock.forward."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


def encoder_block(width, heads, mlp, dropout=0.0):
    """EncoderBlock: x = ln_1, self_attention, dropout, plus the input; then ln_2 and MLPBlock
    (torchvision.ops.MLP with hidden [mlp, width] and GELU: Linear, GELU, Dropout, Linear,
    Dropout -- a dropout after the last Linear too), plus x.  LayerNorm eps 1e-6."""
    attention = nn.Sequential(nn.LayerNorm(width, eps=1e-6), SelfAttention(width, heads), nn.Dropout(dropout))
    mlp_block = nn.Sequential(nn.LayerNorm(width, eps=1e-6), nn.Linear(width, mlp), nn.GELU(), nn.Dropout(dropout),
                              nn.Linear(mlp, width), nn.Dropout(dropout))
    return [Residual(attention), Residual(mlp_block)]


def vit(shape, patch, layers, heads, width, mlp, classes=1000, dropout=0.0):
    """VisionTransformer for an input `shape` = (C, H, W): conv_proj (PatchEmbed), the class
    token, then Encoder (input + pos_embedding, dropout, `layers` EncoderBlocks, ln), x[:, 0],
    then heads (one Linear to `classes`; representation_size None).  The position embedding
    has (H / patch)(W / patch) + 1 tokens, sized from `shape` (torchvision sizes it from its
    square image_size) so non-square and other sizes build too.  dropout defaults to 0, as
    torchvision's does; the Dropout modules stay so the layer list matches its modules."""
    c, h, w = shape
    assert h % patch == 0 and w % patch == 0, "Input shape indivisible by patch size!"
    tokens = (h // patch) * (w // patch) + 1
    blocks = [m for _ in range(layers) for m in encoder_block(width, heads, mlp, dropout)]
    return nn.Sequential(PatchEmbed(c, width, patch), ClassToken(width), PositionEmbedding(tokens, width),
                         nn.Dropout(dropout), *blocks, nn.LayerNorm(width, eps=1e-6), ClassPool(),
                         nn.Linear(width, classes))


def vit_b_16(shape, classes=1000):
    """vit_b_16: patch 16, 12 layers, 12 heads, hidden 768, MLP 3072.  torchvision documents
    num_params 86,567,656 and 17.56 GFLOPS at 224x224 (ViT_B_16_Weights.IMAGENET1K_V1)."""
    return vit(shape, 16, 12, 12, 768, 3072, classes)


def vit_b_32(shape, classes=1000):
    """vit_b_32: patch 32, 12 layers, 12 heads, hidden 768, MLP 3072.  torchvision documents
    num_params 88,224,232 and 4.41 GFLOPS at 224x224."""
    return vit(shape, 32, 12, 12, 768, 3072, classes)


def vit_l_16(shape, classes=1000):
    """vit_l_16: patch 16, 24 layers, 16 heads, hidden 1024, MLP 4096.  torchvision documents
    num_params 304,326,632 and 61.55 GFLOPS at 224x224."""
    return vit(shape, 16, 24, 16, 1024, 4096, classes)


BUILDERS = {"vit_b_16": vit_b_16, "vit_b_32": vit_b_32, "vit_l_16": vit_l_16}

# The leaf module types used here that torch_zoo.KINDS does not name (nn.Linear is "fc" and
# nn.Dropout "dropout" there).
KINDS = {PatchEmbed: "patch", ClassToken: "cls", PositionEmbedding: "pos", SelfAttention: "attn",
         ClassPool: "clspool", nn.LayerNorm: "layernorm", nn.GELU: "gelu"}
