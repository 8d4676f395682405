"""Two vision transformers built by hand in PyTorch: Swin-T (windowed attention, patch merging)
and DiT-XL/2 (a diffusion transformer with adaLN-Zero conditioning).  Transcribed from
torchvision 0.28.0 torchvision/models/swin_transformer.py (+ ops/misc.py MLP, Permute) and from
facebookresearch/DiT models.py (commit 00d70acc, with timm 1.0.31's PatchEmbed, Attention, Mlp),
never from symcount.

Configurations
  swin_t    swin(96, (2, 2, 6, 2), (3, 6, 12, 24), 7, 1000) -- torchvision.models.swin_t (Liu et
            al. 2021, "Swin Transformer"): patch 4, MLP ratio 4, LayerNorm eps 1e-5.
            28,288,354 parameters (torchvision's Swin_T_Weights meta "num_params": 28288354).
  dit_xl_2  dit(28, 1152, 16, 2, 4, 1000, True) -- DiT_XL_2 (Peebles & Xie 2023): latent 4 x 32 x 32,
            patch 2, 16 heads, MLP ratio 4, class dropout 0.1 (so a 1001-row label table), learn_sigma
            (8 output channels).  674,834,720 trainable parameters (see "DiT's positions" below).

Swin-T, as torchvision builds it (features, norm, permute, avgpool, flatten, head):
  patch embed  Conv2d(3, 96, 4, stride 4) -> permute to NHWC -> LayerNorm(96).  Everything after
               it is NHWC: shapes are (H, W, C).
  stage i      depths[i] SwinBlocks of width C = 96 * 2^i, heads[i] heads (head_dim 32 throughout):
               x + attn(norm1(x)); x + mlp(norm2(x)); mlp = Linear(C, 4C), GELU (exact), Linear(4C, C)
               (torchvision's Dropouts p=0 and StochasticDepth are identities in eval, left out).
               Block j is shifted (shift = window // 2 = 3) when j is odd.
  merge        between stages (not after the last): pad H and W up to even (zeros at the bottom /
               right, only when odd), cat(x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2]) to 4C,
               LayerNorm(4C), Linear(4C, 2C, bias=False): (H, W, C) -> (ceil(H/2), ceil(W/2), 2C).
  head         LayerNorm(768), permute to NCHW, AdaptiveAvgPool2d(1), flatten, Linear(768, classes).
  WindowAttention = torchvision's ShiftedWindowAttention + shifted_window_attention(), exactly:
    qkv Linear(C, 3C, bias), proj Linear(C, C, bias), relative_position_bias_table a Parameter of
    (2*7-1)^2 x heads = 169 x heads, relative_position_index a (persistent) buffer of 49*49 longs
    (not counted as a parameter).  At a feature map H x W:
    * PADDING: pad_b = (7 - H % 7) % 7 rows and pad_r = (7 - W % 7) % 7 columns of zeros (bottom /
      right), so the padded map is ceil(H/7)*7 x ceil(W/7)*7.  The window is ALWAYS 7 x 7: torchvision
      never shrinks the window to the feature size (the original Microsoft Swin code does, when
      min(H, W) <= window; torchvision does not).  A 2 x 2 map is padded to one 7 x 7 window.
    * SHIFT: per axis, the shift is dropped (0) when window >= padded size on that axis, i.e. when
      that side is <= 7; otherwise the map is rolled by -3 (and back after), and the -100 mask
      between the 3 x 3 regions is added to the logits.  The padded zeros take part in the
      attention (they are keys; torchvision does not mask them) and are cropped off after.
    * per window: N = 49 tokens, q scaled by head_dim^-0.5, softmax(q k^T + bias [+ mask]) v.
  FLOPs (torch.utils.flop_counter.FlopCounterMode, which counts matmuls, addmm, bmm and convolution
  only -- 2 per multiply-add; biases, LayerNorm, GELU, softmax, the mask, roll, pad, pool: 0):
    one WindowAttention at H x W x C, nW = ceil(H/7) * ceil(W/7) windows (padded tokens included):
      qkv   2 * nW*49 * C * 3C          (F.linear on all padded tokens)
      q k^T 2 * nW * heads * 49 * 49 * head_dim  = 2 * nW * 49^2 * C      (bmm)
      a v   2 * nW * heads * 49 * 49 * head_dim  = 2 * nW * 49^2 * C      (bmm)
      proj  2 * nW*49 * C * C
    the MLP at H x W (unpadded): 2 * H*W * C*4C * 2;  a merge: 2 * ceil(H/2)*ceil(W/2) * 4C * 2C;
    the patch conv: 2 * 96 * 3*16 * floor(H/4)*floor(W/4); the head: 2 * 768 * classes.
  Window layout of swin_t per stage (feature side -> padded side, windows per side, shift applied):
    224: 56->56 (8, shift)  28->28 (4, shift)  14->14 (2, shift)  7->7  (1, no shift)
    256: 64->70 (10, shift) 32->35 (5, shift)  16->21 (3, shift)  8->14 (2, shift)
    192: 48->49 (7, shift)  24->28 (4, shift)  12->14 (2, shift)  6->7  (1, no shift)

DiT-XL/2, as models.py builds it (forward(x, t, y), eval: no label dropout):
  x_embedder  timm PatchEmbed: Conv2d(4, 1152, 2, stride 2, bias) -> flatten -> (T, 1152), T = HW/4.
  positions   fixed 2-D sin-cos (MAE's get_2d_sincos_pos_embed): for the grid of h = H/p rows and
              w = W/p columns, the first half of the channels encodes the COLUMN index (DiT's
              meshgrid(grid_w, grid_h) puts w first), the second half the row index; each half is
              [sin(pos * omega), cos(pos * omega)], omega_i = 10000^(-i / (D/4)).  Added to x.
  t_embedder  sinusoidal 256 ([cos(t f), sin(t f)], f_i = exp(-ln(10000) i / 128)) -> Linear(256,
              1152) -> SiLU -> Linear(1152, 1152).
  y_embedder  Embedding(1000 + 1, 1152) (the extra row is the CFG "null" class).   c = t + y.
  28 blocks   (shift, scale, gate) x 2 = adaLN_modulation(c) = Linear(1152, 6*1152)(SiLU(c));
              x + gate1 * attn(LN(x) * (1 + scale1) + shift1); x + gate2 * mlp(LN(x) * (1 + scale2)
              + shift2); LN = LayerNorm(1152, elementwise_affine=False, eps=1e-6) (no parameters);
              attn = timm Attention: qkv Linear(1152, 3456, bias), 16 heads of 72, proj Linear(1152,
              1152, bias); mlp = timm Mlp: Linear(1152, 4608), GELU(tanh), Linear(4608, 1152).
  final       shift, scale = Linear(1152, 2*1152)(SiLU(c)); LN; Linear(1152, 2*2*8 = 32).
  unpatchify  (T, p*p*8) -> (8, H, W) (DiT's einsum 'nhwpqc->nchpwq', a permute; generalised here
              to h != w; DiT itself only takes square inputs of its input_size).
  DiT's positions are an nn.Parameter(1, T, 1152, requires_grad=False) sized for input_size at
  construction; here they are built in forward for the given H, W (any multiples of the patch) and
  are neither a parameter nor a buffer.  So params() here = the trainable parameters = 674,834,720
  at every size; DiT's own sum(p.numel() for p in model.parameters()) (what its train.py logs)
  also counts the frozen table: 675,129,632 at 32 x 32 (+ 256 * 1152 = 294,912).  Either is the
  paper's "675M".
  Attention is written as the explicit q k^T, softmax, a v (timm's non-fused path): FlopCounterMode
  counts those two bmm on any device.  timm's default fused F.scaled_dot_product_attention is
  counted on the meta device (it decomposes to bmm) but NOT on CPU in torch 2.13 (the CPU flash
  kernel has no FLOP formula): DiT's own model gives 237,242,843,136 FLOPs at 32 x 32 on meta and
  228,787,126,272 on CPU (the attention's 8,455,716,864 missing).
  FLOPs (FlopCounterMode), T = HW/p^2, D = 1152, per image:
    conv 2 * D * 4*p*p * T;  t-MLP 2 * (256 D + D^2);  per block: adaLN 2 * D * 6D, qkv 2 T D 3D,
    q k^T + a v 2 * 2 * T^2 * D, proj 2 T D^2, MLP 2 * 2 * T * D * 4D;  final adaLN 2 * D * 2D,
    linear 2 * T * D * 32.  The label lookup, sin-cos tables, LN, modulate, gates: 0.
  At 32 x 32 (T = 256): 237,242,843,136 FLOPs = 2 x 118,621,421,568: the paper's 118.6 "Gflops"
  (Table 1 / Table 4, DiT-XL/2 at 256 x 256 images) are multiply-adds (MACs), half of
  FlopCounterMode's count.  16 x 16 (T = 64): 58,066,108,416; 64 x 64 (T = 1024): 1,049,076,596,736;
  16 x 24 (T = 96, not square: DiT itself cannot take it): 87,268,294,656 (= the formula above).

The trace (trace_vis): leaf layers in forward order, each (kind, output shape without the batch,
its own parameters).  Kinds: conv, ln (nn.LayerNorm, with or without affine), attn (a whole
WindowAttention -- qkv, proj and its bias table -- or a whole DiT Attention; their inner Linears are
not listed), merge (a whole PatchMerging with its LayerNorm and reduction), fc (nn.Linear), gelu,
silu, embed (nn.Embedding), pool (AdaptiveAvgPool2d), adaln (a DiT modulation Linear, the
block's / final layer's Linear(D, 6D) / Linear(D, 2D): an nn.Linear subclass).  Not listed: the
permutes, flatten, the sin-cos tables, unpatchify.
  swin_t: conv, ln, per block [ln, attn, ln, fc, gelu, fc], merge between stages, ln, pool, fc.
          Shapes after the conv are NHWC (H, W, C); pool is (768, 1, 1).
  dit:    conv (D, H/p, W/p), fc, silu, fc (the t MLP, (D,)), embed (D,), per block [silu (D,),
          adaln (6D,), ln (T, D), attn (T, D), ln, fc (T, 4D), gelu, fc (T, D)], silu, adaln (2D,),
          ln, fc (T, 32).
  window_info(model, H, W) gives per WindowAttention (feature H, W, padded H, W, windows, shift
  applied (sh, sw), table params, index buffer elements).

Checked once (torch 2.13.0 CPU; torchvision 0.28.0 and timm 1.0.31 installed into a scratch
directory, never a dependency here; DiT's models.py copied from its repository for the check):
  * swin_t: same parameter count (28,288,354), same named parameter shapes in the same order, the
    same relative_position_index buffers; with torchvision's (random) weights copied in, the same
    logits on CPU (bit-identical, batch 2) at 224 x 224, 256 x 256, 192 x 192 and 100 x 60; and the
    same FlopCounterMode totals on meta and on CPU:
      224 x 224  8,981,133,312   (= 2 x 4.4906 G: torchvision's meta "_ops": 4.491 GFLOPS are MACs)
      256 x 256  14,690,883,072
      192 x 192  7,273,212,672
      100 x 60   1,921,655,808
  * dit_xl_2: same trainable parameters (674,834,720) and shapes in the same order; DiT's pos_embed
    identical to the table built here (16 x 16 and 32 x 32 latents); with DiT's parameters re-drawn
    at random (its init zeroes the output) and copied in, the same output on CPU (batch 2, t = 3 and
    700, labels 5 and the null class 1000; max abs diff 1.1e-6 on outputs up to 2.5) at 16 x 16 and
    32 x 32; and the same FlopCounterMode totals as DiT's own model on meta at
      16 x 16  58,066,108,416     32 x 32  237,242,843,136     64 x 64  1,049,076,596,736
  * the FLOP formulas above give exactly these totals (swin_t at all four sizes, dit at all four).
"""
from __future__ import annotations

import math

from torch_reference import nn, torch  # first: it skips the tests when torch is missing

F = nn.functional


# =========================================================================== Swin (torchvision)
class WindowAttention(nn.Module):
    """torchvision's ShiftedWindowAttention (v1): see the module docstring for padding and shift."""

    def __init__(self, dim, window, shift, heads):
        super().__init__()
        self.window, self.shift, self.heads = window, shift, heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        ch, cw = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
        flat = torch.stack((ch.flatten(), cw.flatten()))  # 2, N
        rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0)  # N, N, 2
        index = (rel[..., 0] + window - 1) * (2 * window - 1) + (rel[..., 1] + window - 1)
        self.register_buffer("relative_position_index", index.flatten())
        self.last = None  # what the last forward did: padding, windows, shift

    def forward(self, x):
        B, H, W, C = x.shape
        ws, N = self.window, self.window * self.window
        x = F.pad(x, (0, 0, 0, (ws - W % ws) % ws, 0, (ws - H % ws) % ws))
        pH, pW = x.shape[1], x.shape[2]
        sh = 0 if ws >= pH else self.shift
        sw = 0 if ws >= pW else self.shift
        if sh + sw > 0:
            x = torch.roll(x, shifts=(-sh, -sw), dims=(1, 2))
        nW = (pH // ws) * (pW // ws)
        self.last = dict(H=H, W=W, padded=(pH, pW), windows=nW, shift=(sh, sw))
        x = x.view(B, pH // ws, ws, pW // ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B * nW, N, C)
        hd = C // self.heads
        qkv = self.qkv(x).reshape(B * nW, N, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * hd ** -0.5, qkv[1], qkv[2]
        attn = q.matmul(k.transpose(-2, -1))
        bias = self.relative_position_bias_table[self.relative_position_index].view(N, N, -1)
        attn = attn + bias.permute(2, 0, 1).unsqueeze(0)
        if sh + sw > 0:
            region = x.new_zeros((pH, pW))
            count = 0
            for h in ((0, -ws), (-ws, -sh), (-sh, None)):
                for w in ((0, -ws), (-ws, -sw), (-sw, None)):
                    region[h[0]:h[1], w[0]:w[1]] = count
                    count += 1
            region = region.view(pH // ws, ws, pW // ws, ws).permute(0, 2, 1, 3).reshape(nW, N)
            mask = region.unsqueeze(1) - region.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
            attn = (attn.view(B, nW, self.heads, N, N) + mask.unsqueeze(1).unsqueeze(0)).view(-1, self.heads, N, N)
        attn = attn.softmax(dim=-1)
        x = attn.matmul(v).transpose(1, 2).reshape(B * nW, N, C)
        x = self.proj(x)
        x = x.view(B, pH // ws, pW // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B, pH, pW, C)
        if sh + sw > 0:
            x = torch.roll(x, shifts=(sh, sw), dims=(1, 2))
        return x[:, :H, :W, :].contiguous()


class PatchMerging(nn.Module):
    """torchvision's PatchMerging (v1): pad odd H/W, 2x2 neighbours to 4C, LayerNorm(4C), Linear(4C, 2C)."""

    def __init__(self, dim):
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim, eps=1e-5)

    def forward(self, x):
        H, W = x.shape[-3], x.shape[-2]
        x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))
        x = torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :]], -1)
        return self.reduction(self.norm(x))


class Permute(nn.Module):
    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class SwinBlock(nn.Module):
    def __init__(self, dim, heads, window, shift, mlp_ratio=4):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.attn = WindowAttention(dim, window, shift, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Swin(nn.Module):
    def __init__(self, embed, depths, heads, window, classes, patch=4):
        super().__init__()
        layers = [nn.Sequential(nn.Conv2d(3, embed, patch, stride=patch), Permute(0, 2, 3, 1),
                                nn.LayerNorm(embed, eps=1e-5))]
        for i, (depth, h) in enumerate(zip(depths, heads)):
            dim = embed * 2 ** i
            layers.append(nn.Sequential(*(SwinBlock(dim, h, window, 0 if j % 2 == 0 else window // 2)
                                          for j in range(depth))))
            if i < len(depths) - 1:
                layers.append(PatchMerging(dim))
        self.features = nn.Sequential(*layers)
        width = embed * 2 ** (len(depths) - 1)
        self.norm = nn.LayerNorm(width, eps=1e-5)
        self.permute = Permute(0, 3, 1, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        return self.head(self.flatten(self.avgpool(self.permute(self.norm(self.features(x))))))


def swin(embed, depths, heads, window, classes):
    """A torchvision-style Swin Transformer (v1): patch 4, MLP ratio 4."""
    return Swin(embed, tuple(depths), tuple(heads), window, classes)


# =========================================================================== DiT (facebookresearch)
def sincos_1d(dim, pos):
    """MAE / DiT get_1d_sincos_pos_embed_from_grid: (M,) positions -> (M, dim) = [sin(p w), cos(p w)]."""
    omega = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64, device=pos.device) / (dim / 2.0))
    out = pos.reshape(-1).to(torch.float64)[:, None] * omega[None, :]  # an outer product, elementwise
    return torch.cat([out.sin(), out.cos()], dim=1)


def sincos_2d(dim, h, w, device=None):
    """DiT's get_2d_sincos_pos_embed for an h x w grid (row-major tokens): the first half encodes the
    column index, the second the row index (DiT's meshgrid(grid_w, grid_h)).  (h*w, dim), float32."""
    rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=device),
                                torch.arange(w, dtype=torch.float32, device=device), indexing="ij")
    return torch.cat([sincos_1d(dim // 2, cols), sincos_1d(dim // 2, rows)], dim=1).float()


class Modulation(nn.Linear):
    """An adaLN modulation Linear (kind "adaln")."""


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden, freq=256):
        super().__init__()
        self.freq = freq
        self.mlp = nn.Sequential(nn.Linear(freq, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, t):
        half = self.freq // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
        args = t[:, None].float() * freqs[None]
        return self.mlp(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))


class Attention(nn.Module):
    """timm's vision_transformer.Attention (qkv bias, no qk norm), written as explicit matmuls."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)

    def forward(self, x):
        B, T, C = x.shape
        hd = C // self.heads
        q, k, v = self.qkv(x).reshape(B, T, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        attn = ((q * hd ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, T, C))


def modulate(x, shift, scale):
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class DiTBlock(nn.Module):
    def __init__(self, hidden, heads, mlp_ratio=4):
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(hidden, heads)
        self.norm2 = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(hidden, mlp_ratio * hidden), nn.GELU(approximate="tanh"),
                                 nn.Linear(mlp_ratio * hidden, hidden))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), Modulation(hidden, 6 * hidden))

    def forward(self, x, c):
        shift1, scale1, gate1, shift2, scale2, gate2 = self.adaLN_modulation(c).chunk(6, dim=1)
        x = x + gate1.unsqueeze(1) * self.attn(modulate(self.norm1(x), shift1, scale1))
        return x + gate2.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift2, scale2))


class FinalLayer(nn.Module):
    def __init__(self, hidden, patch, out_channels):
        super().__init__()
        self.norm_final = nn.LayerNorm(hidden, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(hidden, patch * patch * out_channels)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), Modulation(hidden, 2 * hidden))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


class DiT(nn.Module):
    def __init__(self, depth, hidden, heads, patch, latent_channels, classes, learn_sigma, class_dropout=0.1):
        super().__init__()
        self.patch, self.hidden = patch, hidden
        self.out_channels = latent_channels * 2 if learn_sigma else latent_channels
        self.x_embedder = nn.Conv2d(latent_channels, hidden, patch, stride=patch)  # timm PatchEmbed.proj
        self.t_embedder = TimestepEmbedder(hidden)
        self.y_embedder = nn.Embedding(classes + (class_dropout > 0), hidden)  # the CFG null class
        self.blocks = nn.ModuleList(DiTBlock(hidden, heads) for _ in range(depth))
        self.final_layer = FinalLayer(hidden, patch, self.out_channels)
        self.input_dtype = (torch.float32, torch.float32, torch.long)

    def forward(self, x, t, y):
        B, _, H, W = x.shape
        p = self.patch
        assert H % p == 0 and W % p == 0, "H and W must be multiples of the patch size"
        h, w = H // p, W // p
        x = self.x_embedder(x).flatten(2).transpose(1, 2)  # (B, T, D)
        x = x + sincos_2d(self.hidden, h, w, device=x.device).to(x.dtype)[None]
        c = self.t_embedder(t) + self.y_embedder(y)
        for block in self.blocks:
            x = block(x, c)
        x = self.final_layer(x, c)  # (B, T, p*p*C)
        x = x.reshape(B, h, w, p, p, self.out_channels).permute(0, 5, 1, 3, 2, 4)  # n c h p w q
        return x.reshape(B, self.out_channels, H, W)


def dit(depth, hidden, heads, patch, latent_channels, classes, learn_sigma):
    return DiT(depth, hidden, heads, patch, latent_channels, classes, learn_sigma)


# =========================================================================== builders, inputs
def swin_t(shape=None):
    with torch.device("meta"):
        return swin(96, (2, 2, 6, 2), (3, 6, 12, 24), 7, 1000).eval()


def dit_xl_2(shape=None):
    with torch.device("meta"):
        return dit(28, 1152, 16, 2, 4, 1000, True).eval()


BUILDERS = {"swin_t": swin_t, "dit_xl_2": dit_xl_2}


def inputs(model, H, W, device="meta", batch=1):
    """The forward arguments for an H x W input: an image (B, 3, H, W) for Swin; for DiT a latent
    (B, C, H, W), timesteps (B,) float and class labels (B,) long."""
    if isinstance(model, DiT):
        channels = model.x_embedder.in_channels
        return (torch.zeros(batch, channels, H, W, device=device), torch.full((batch,), 500.0, device=device),
                torch.zeros(batch, dtype=torch.long, device=device))
    return (torch.zeros(batch, 3, H, W, device=device),)


KINDS = {nn.Conv2d: "conv", nn.LayerNorm: "ln", WindowAttention: "attn", Attention: "attn", PatchMerging: "merge",
         nn.Linear: "fc", Modulation: "adaln", nn.GELU: "gelu", nn.SiLU: "silu", nn.Embedding: "embed",
         nn.AdaptiveAvgPool2d: "pool"}
WHOLE = (WindowAttention, Attention, PatchMerging)  # listed as one layer, their inner modules not


def params(model):
    """Trainable parameters, each Parameter once.  Buffers (Swin's relative_position_index) are not
    parameters; DiT's sin-cos positions are built in forward here (DiT keeps them as a frozen
    nn.Parameter, which requires_grad=False would also leave out of this count)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def trace_vis(model, H, W, device="meta"):
    """([(kind, output shape without the batch, own parameters)] of the leaf layers in forward
    order -- a WindowAttention / Attention / PatchMerging as one layer --, FlopCounterMode's total
    FLOPs) for one H x W input.  Runs on the meta device (the Swin masks work there too)."""
    from torch.utils.flop_counter import FlopCounterMode
    inner = {id(sub) for m in model.modules() if isinstance(m, WHOLE) for sub in m.modules() if sub is not m}
    seen = []

    def hook(m, i, o):
        seen.append((KINDS[type(m)], tuple(o.shape[1:]), sum(p.numel() for p in m.parameters())))

    hooks = [m.register_forward_hook(hook) for m in model.modules() if type(m) in KINDS and id(m) not in inner]
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(*inputs(model, H, W, device=device))
    finally:
        for h in hooks:
            h.remove()
    return seen, counter.get_total_flops()


def window_info(model, H, W, device="meta"):
    """Per WindowAttention in forward order: dict(H, W, padded, windows, shift, table, index) --
    the feature size it saw, the padded size, the number of 7x7 windows, the shift applied on each
    axis, its relative_position_bias_table parameters and its index buffer's elements."""
    attns = [m for m in model.modules() if isinstance(m, WindowAttention)]
    with torch.no_grad():
        model(*inputs(model, H, W, device=device))
    return [dict(m.last, table=m.relative_position_bias_table.numel(), index=m.relative_position_index.numel())
            for m in attns]
