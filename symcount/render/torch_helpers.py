"""The helper classes an exported module file defines when it uses them: joins of paths
(residual, add, concatenate, multiply, split) and the modules PyTorch lacks (LayerNorm2d and
the layer scale, as torchvision's convnext.py writes them; the token layers, as torchvision's
vision_transformer.py and GPT-2's and BERT's code compute them).

The export pastes each class's source as it is written here, so every line of it keeps to
79 columns (PEP 8's, as symcount.render.torch_lines fits the lines it writes itself): the
file reads in an 80-column terminal.  Long expressions break as black breaks them, inside
brackets, or through a local variable where that reads better."""

HELPERS = {
    "Split": '''class Split(nn.Module):
    """split(a | b | ...): the channels (dim=-1: a token's features) cut into
    equal parts (torch.chunk), or into `sizes` (torch.split), one per branch,
    then concatenated."""

    def __init__(self, *branches, sizes=None, dim=1):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.sizes, self.dim = sizes, dim

    def forward(self, x):
        if self.sizes:
            parts = torch.split(x, self.sizes, self.dim)
        else:
            parts = torch.chunk(x, len(self.branches), self.dim)
        outs = [branch(part) for branch, part in zip(self.branches, parts)]
        return torch.cat(outs, self.dim)
''',
    "Crop": '''class Crop(nn.Module):
    """crop: to a size, centred (the offset (H - h) // 2), or by a margin off
    both sides; to the size of another tensor where a bare crop meets other
    paths (CroppedJoin)."""

    def __init__(self, size=None, margin=None):
        super().__init__()
        self.size, self.margin = size, margin

    def forward(self, x, like=None):
        sizes = x.shape[2:]
        if like is not None or self.size is not None:
            targets = like.shape[2:] if like is not None else self.size
            starts = [
                (size - target) // 2 for size, target in zip(sizes, targets)
            ]
        else:
            starts = list(self.margin)
            targets = [
                size - 2 * margin for size, margin in zip(sizes, starts)
            ]
        slices = [
            slice(start, start + target)
            for start, target in zip(starts, targets)
        ]
        return x[(..., *slices)]
''',
    "CroppedJoin": '''class CroppedJoin(nn.Module):
    """cat(...) or add(...) whose branches listed in `crop` end in a bare crop:
    each is cropped to the size of the first branch that does not, after every
    branch has run, then the outputs are joined."""

    def __init__(self, how, *branches, crop=()):
        super().__init__()
        self.how, self.branches = how, nn.ModuleList(branches)
        self.crops = nn.ModuleDict({str(i): Crop() for i in crop})

    def forward(self, x):
        outs = [branch(x) for branch in self.branches]
        like = next(
            out for i, out in enumerate(outs) if str(i) not in self.crops
        )
        outs = [
            self.crops[str(i)](out, like) if str(i) in self.crops else out
            for i, out in enumerate(outs)
        ]
        return torch.cat(outs, 1) if self.how == "cat" else sum(outs)
''',
    "Side": '''class Side(nn.Module):
    """side(head): the head runs on the trunk's output here and keeps its
    result; the trunk goes on unchanged, and the model returns every head's
    output before its own."""

    def __init__(self, head):
        super().__init__()
        self.head, self.output = head, None

    def forward(self, x):
        self.output = self.head(x)
        return x
''',
    "Multiply": '''class Multiply(nn.Module):
    """mul(a | b | ...) and se: the branches' outputs multiplied, broadcasting
    (a C×1×1 gate on C×H×W, a 1×D gate on N×D tokens)."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        out = self.branches[0](x)
        for branch in self.branches[1:]:
            out = out * branch(x)
        return out
''',
    "LayerNorm2d": '''class LayerNorm2d(nn.LayerNorm):
    """layernorm: LayerNorm over the channels at each position (torchvision's
    convnext.py)."""

    def forward(self, x):
        x = nn.functional.layer_norm(
            x.permute(0, 2, 3, 1),
            self.normalized_shape,
            self.weight,
            self.bias,
            self.eps,
        )
        return x.permute(0, 3, 1, 2)
''',
    "ChannelsLast": '''class ChannelsLast(nn.Module):
    """[channels_last]: the module (nn.Linear, nn.LayerNorm) on the channels at
    each position, the tensor permuted to N×H×W×C and back, as ConvNeXt's
    blocks run them."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
''',
    "LayerScale": '''class LayerScale(nn.Module):
    """scale: a learned scale per channel (ConvNeXt's layer scale, initialised
    as torchvision does), of shape (C, 1, 1) on C×H×W, (C, 1) on C×L, (D,) on
    tokens."""

    def __init__(self, shape, value=1e-6):
        super().__init__()
        self.scale = nn.Parameter(torch.full(shape, value))

    def forward(self, x):
        return self.scale * x
''',
    "Residual": '''class Residual(nn.Module):
    """res(body | shortcut): body(x) + shortcut(x); without a shortcut,
    body(x) + x."""

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x):
        out = self.body(x)
        return out + (x if self.shortcut is None else self.shortcut(x))
''',
    "Add": '''class Add(nn.Module):
    """add(a | b | ...): the sum of the branches' outputs."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return sum(branch(x) for branch in self.branches)
''',
    "Concat": '''class Concat(nn.Module):
    """cat(a | b | ...): the branches' outputs concatenated along the channels
    (dim=-1: a token's features)."""

    def __init__(self, *branches, dim=1):
        super().__init__()
        self.branches, self.dim = nn.ModuleList(branches), dim

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], self.dim)
''',
    "PatchEmbedding": '''class PatchEmbedding(nn.Module):
    """patch: p×p patches to tokens of width D, a convolution with kernel and
    stride p, then (B, D, h, w) to (B, h·w, D), as torchvision's ViT does it
    (conv_proj, reshape, permute)."""

    def __init__(self, channels, width, patch, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(width, channels, *patch) * 0.02)
        self.bias = nn.Parameter(torch.zeros(width)) if bias else None
        self.patch = patch

    def forward(self, x):
        conv = getattr(nn.functional, f"conv{len(self.patch)}d")
        out = conv(x, self.weight, self.bias, stride=self.patch)
        return out.flatten(2).transpose(1, 2)
''',
    "ClassToken": '''class ClassToken(nn.Module):
    """cls: a learned class token put before the tokens."""

    def __init__(self, width):
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, width))

    def forward(self, x):
        token = self.class_token.expand(x.shape[0], -1, -1)
        return torch.cat([token, x], dim=1)
''',
    "PositionEmbedding": '''class PositionEmbedding(nn.Module):
    """pos: a learned position embedding added to the tokens, a table of
    `positions` rows of which the first N are used (one row per token where
    positions = N); frozen: stored, not trained."""

    def __init__(self, positions, width, frozen=False):
        super().__init__()
        self.weight = nn.Parameter(
            torch.randn(positions, width) * 0.02, requires_grad=not frozen
        )

    def forward(self, x):
        return x + self.weight[:x.shape[1]]
''',
    "FixedPositionEmbedding": '''class FixedPositionEmbedding(nn.Module):
    """pos[fixed]: the sinusoidal position encoding of Vaswani et al. 2017
    (Sec. 3.5) added, no parameters."""

    def forward(self, x):
        n, d = x.shape[1], x.shape[2]
        position = torch.arange(n, dtype=x.dtype, device=x.device)[:, None]
        even = torch.arange(0, d, 2, dtype=x.dtype, device=x.device)
        frequency = torch.exp(even * (-9.210340371976184 / d))
        encoding = torch.zeros(n, d, dtype=x.dtype, device=x.device)
        encoding[:, 0::2] = torch.sin(position * frequency)
        encoding[:, 1::2] = torch.cos(position * frequency)[:, :d // 2]
        return x + encoding
''',
    "SegmentEmbedding": '''class SegmentEmbedding(nn.Module):
    """segment: BERT's token type embedding added to the tokens (every token of
    segment 0 here)."""

    def __init__(self, types, width):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(types, width) * 0.02)

    def forward(self, x):
        return x + self.weight[0]
''',
    "MixtureOfExperts": '''class MixtureOfExperts(nn.Module):
    """moe{E}[top=k, shared=s](expert): a router (nn.Linear, no bias) scores
    each token for the E experts; the token runs through its k best (their
    softmax weights renormalised, as Mixtral's), each expert only on the tokens
    routed to it, and through the s shared experts; the outputs are summed."""

    def __init__(self, width, experts, top, shared=()):
        super().__init__()
        self.router = nn.Linear(width, len(experts), bias=False)
        self.experts = nn.ModuleList(experts)
        self.shared = nn.ModuleList(shared)
        self.top = top

    def forward(self, x):
        tokens = x.reshape(-1, x.shape[-1])
        scores = torch.softmax(self.router(tokens), dim=-1)
        weights, chosen = torch.topk(scores, self.top, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        shared = (expert(tokens) for expert in self.shared)
        out = sum(shared, torch.zeros_like(tokens))
        for index, expert in enumerate(self.experts):
            rows, slot = torch.where(chosen == index)
            if len(rows):
                routed = expert(tokens[rows]) * weights[rows, slot, None]
                out = out.index_add(0, rows, routed)
        return out.reshape(x.shape)
''',
    "SelfAttention": '''class SelfAttention(nn.Module):
    """attn: multi-head self-attention with nn.MultiheadAttention's parameters
    (in_proj_*, out_proj_*), computed with scaled_dot_product_attention (whose
    N×N products FlopCounterMode counts)."""

    def __init__(self, width, heads, causal=False, bias=True, dropout=0.0):
        super().__init__()
        self.heads, self.causal, self.dropout = heads, causal, dropout
        self.in_proj_weight = nn.Parameter(
            torch.randn(3 * width, width) * width ** -0.5
        )
        self.in_proj_bias = (
            nn.Parameter(torch.zeros(3 * width)) if bias else None
        )
        self.out_proj_weight = nn.Parameter(
            torch.randn(width, width) * width ** -0.5
        )
        self.out_proj_bias = nn.Parameter(torch.zeros(width)) if bias else None

    def forward(self, x):
        b, n, d = x.shape
        qkv = nn.functional.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = (
            t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2)
            for t in qkv.chunk(3, dim=-1)
        )
        dropout = self.dropout if self.training else 0.0
        y = nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=self.causal, dropout_p=dropout
        )
        y = y.transpose(1, 2).reshape(b, n, d)
        return nn.functional.linear(
            y, self.out_proj_weight, self.out_proj_bias
        )
''',
    "Attention": '''class Attention(nn.Module):
    """attn with key/value heads, a head size or biases of its own (Llama,
    Mistral, Qwen2): the q, k, v and output projections as nn.Linear, the
    key/value heads repeated to the heads (grouped-query attention), rotary
    positions on q and k (elementwise, no parameters), and
    scaled_dot_product_attention.  Keys and values come from `memory` (set by
    the model's forward) for cross-attention; a sliding window, ALiBi's biases
    by distance and a learned bias per head and relative position (the table's
    rows indexed by the key's offset, clipped to the table) are added to the
    scores: none is a matrix product, so FlopCounterMode counts the same
    products."""

    def __init__(
        self,
        width,
        heads,
        kv_heads=None,
        head_dim=None,
        bias="qkvo",
        causal=False,
        rope=False,
        window=None,
        alibi=False,
        relative=None,
        memory_width=None,
        dropout=0.0,
    ):
        super().__init__()
        self.dropout = dropout
        self.heads, self.kv_heads = heads, kv_heads or heads
        self.head_dim = head_dim or width // heads
        self.causal, self.rope = causal, rope
        self.window, self.alibi, self.memory = window, alibi, None
        source = memory_width or width
        kv_width = self.kv_heads * self.head_dim
        self.q = nn.Linear(width, heads * self.head_dim, bias="q" in bias)
        self.k = nn.Linear(source, kv_width, bias="k" in bias)
        self.v = nn.Linear(source, kv_width, bias="v" in bias)
        self.o = nn.Linear(heads * self.head_dim, width, bias="o" in bias)
        self.table = (
            nn.Parameter(torch.zeros(relative, heads)) if relative else None
        )
        self.cross = memory_width is not None

    def rotate(self, t):
        half = (self.head_dim + 1) // 2
        positions = torch.arange(t.shape[-2]).unsqueeze(-1)
        frequencies = 10000.0 ** (-torch.arange(half) / max(half, 1))
        angles = positions * frequencies
        cos = angles.cos().repeat(1, 2)[:, :self.head_dim]
        sin = angles.sin().repeat(1, 2)[:, :self.head_dim]
        rotated = torch.cat([-t[..., half:], t[..., :half]], dim=-1)
        return t * cos + rotated * sin

    def scores_bias(self, n, m, device):
        """What is added to the scores (None: nothing but a causal mask)."""
        if not (self.window or self.alibi or self.table is not None):
            return None
        i = torch.arange(n, device=device)[:, None]
        j = torch.arange(m, device=device)[None, :]
        bias = torch.zeros(self.heads, n, m, device=device)
        if self.table is not None:
            rows = self.table.shape[0]
            offset = (j - i).clamp(-(rows // 2), rows - 1 - rows // 2)
            bias = bias + self.table[offset + rows // 2].permute(2, 0, 1)
        if self.alibi:
            steps = torch.arange(1, self.heads + 1, device=device)
            slopes = 2.0 ** (-8.0 * steps / self.heads)
            bias = bias + slopes[:, None, None] * (j - i)
        if self.causal:
            bias = bias.masked_fill(j > i, float("-inf"))
        if self.window:
            bias = bias.masked_fill(i - j >= self.window, float("-inf"))
        return bias

    def forward(self, x):
        b, n, _ = x.shape
        source = self.memory if self.cross else x
        m = source.shape[1]
        q = self.q(x).reshape(b, n, self.heads, self.head_dim).transpose(1, 2)
        kv_shape = (b, m, self.kv_heads, self.head_dim)
        k = self.k(source).reshape(kv_shape).transpose(1, 2)
        v = self.v(source).reshape(kv_shape).transpose(1, 2)
        if self.rope:
            q, k = self.rotate(q), self.rotate(k)
        group = self.heads // self.kv_heads
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        bias = self.scores_bias(n, m, x.device)
        dropout = self.dropout if self.training else 0.0
        y = nn.functional.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=bias,
            is_causal=self.causal and bias is None,
            dropout_p=dropout,
        )
        y = y.transpose(1, 2).reshape(b, n, self.heads * self.head_dim)
        return self.o(y)
''',
    "LatentAttention": '''class LatentAttention(nn.Module):
    """attn[kv_rank=...]: DeepSeek's multi-head latent attention.  Queries
    through a rank q_rank (an RMSNorm between) or projected directly; keys and
    values rebuilt from a latent of rank kv_rank (an RMSNorm of it) and one
    rotary key of rope_dim features shared by the heads; values of v_dim;
    rotary positions on the queries' and the shared key's rope_dim features."""

    def __init__(
        self,
        width,
        heads,
        kv_rank,
        head_dim,
        rope_dim=0,
        v_dim=None,
        q_rank=None,
        causal=False,
    ):
        super().__init__()
        self.heads, self.head_dim, self.rope_dim = heads, head_dim, rope_dim
        self.v_dim = v_dim or head_dim
        self.kv_rank, self.causal = kv_rank, causal
        query = heads * (head_dim + rope_dim)
        if q_rank:
            self.q = nn.Sequential(
                nn.Linear(width, q_rank, bias=False),
                nn.RMSNorm(q_rank),
                nn.Linear(q_rank, query, bias=False),
            )
        else:
            self.q = nn.Linear(width, query, bias=False)
        self.kv_a = nn.Linear(width, kv_rank + rope_dim, bias=False)
        self.kv_norm = nn.RMSNorm(kv_rank)
        self.kv_b = nn.Linear(
            kv_rank, heads * (head_dim + self.v_dim), bias=False
        )
        self.o = nn.Linear(heads * self.v_dim, width, bias=False)

    def rotate(self, t):
        half = t.shape[-1] // 2
        positions = torch.arange(t.shape[-2]).unsqueeze(-1)
        frequencies = 10000.0 ** (-torch.arange(half) / max(half, 1))
        angles = positions * frequencies
        cos, sin = angles.cos().repeat(1, 2), angles.sin().repeat(1, 2)
        rotated = torch.cat([-t[..., half:], t[..., :half]], dim=-1)
        return t * cos + rotated * sin

    def forward(self, x):
        b, n, _ = x.shape
        q = self.q(x).reshape(b, n, self.heads, -1).transpose(1, 2)
        q_plain, q_rot = q.split([self.head_dim, self.rope_dim], dim=-1)
        latent, k_rot = self.kv_a(x).split(
            [self.kv_rank, self.rope_dim], dim=-1
        )
        kv = self.kv_b(self.kv_norm(latent))
        kv = kv.reshape(b, n, self.heads, -1).transpose(1, 2)
        k_plain, v = kv.split([self.head_dim, self.v_dim], dim=-1)
        k_rot = self.rotate(k_rot[:, None]).expand(-1, self.heads, -1, -1)
        q = torch.cat([q_plain, self.rotate(q_rot)], dim=-1)
        k = torch.cat([k_plain, k_rot], dim=-1)
        y = nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=self.causal
        )
        y = y.transpose(1, 2).reshape(b, n, self.heads * self.v_dim)
        return self.o(y)
''',
    "WindowAttention": '''class WindowAttention(nn.Module):
    """wattn: attention within window x window windows of a (B, C, H, W) map
    padded at the bottom and right to whole windows, the windows shifted by
    half a window where asked (on an axis longer than one window), with a
    learned bias per head for each of the (2M - 1)^2 relative offsets (Swin;
    torchvision's shifted_window_attention, whose -100 mask keeps a shifted
    window's regions apart)."""

    def __init__(self, channels, heads, window=7, shift=False):
        super().__init__()
        self.heads, self.window, self.shift = heads, window, shift
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)
        self.table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        axis = torch.arange(window)
        places = torch.stack(torch.meshgrid(axis, axis, indexing="ij"))
        places = places.flatten(1)
        offsets = places[:, :, None] - places[:, None, :] + window - 1
        index = offsets[0] * (2 * window - 1) + offsets[1]
        self.register_buffer("index", index, persistent=False)

    def _mask(self, height, width, shift, device):
        labels, m = torch.zeros(height, width, device=device), self.window
        cuts = [
            [(0, size - m), (size - m, size - s), (size - s, size)]
            for size, s in zip((height, width), shift)
        ]
        regions = ((r, c) for r in cuts[0] for c in cuts[1])
        for number, ((top, bottom), (left, right)) in enumerate(regions):
            labels[top:bottom, left:right] = number
        labels = labels.reshape(height // m, m, width // m, m).transpose(1, 2)
        labels = labels.reshape(-1, m * m)
        return (labels[:, :, None] != labels[:, None, :]) * -100.0

    def forward(self, x):
        b, c, h, w = x.shape
        m, heads = self.window, self.heads
        padding = (0, 0, 0, (-w) % m, 0, (-h) % m)
        x = nn.functional.pad(x.permute(0, 2, 3, 1), padding)
        hp, wp = x.shape[1], x.shape[2]
        shift = [
            m // 2 if self.shift and size > m else 0 for size in (hp, wp)
        ]
        x = torch.roll(x, (-shift[0], -shift[1]), (1, 2))
        windows = x.reshape(b, hp // m, m, wp // m, m, c).transpose(2, 3)
        windows = windows.reshape(-1, m * m, c)
        qkv = self.qkv(windows).reshape(-1, m * m, 3, heads, c // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        bias = self.table[self.index].permute(2, 0, 1)
        scores = (q * (c // heads) ** -0.5) @ k.transpose(-2, -1) + bias
        if any(shift):
            mask = self._mask(hp, wp, shift, x.device)[None, :, None]
            scores = scores.reshape(b, -1, heads, m * m, m * m) + mask
            scores = scores.reshape(-1, heads, m * m, m * m)
        y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(-1, m * m, c)
        y = self.proj(y)
        y = y.reshape(b, hp // m, wp // m, m, m, c).transpose(2, 3)
        y = y.reshape(b, hp, wp, c)
        return torch.roll(y, shift, (1, 2))[:, :h, :w].permute(0, 3, 1, 2)
''',
    "PatchMerging": '''class PatchMerging(nn.Module):
    """merge: a (B, C, H, W) map padded to even sizes, its 2 x 2 neighbours
    concatenated to 4C channels, LayerNorm(4C) and
    nn.Linear(4C, 2C, bias=False) at each position: (B, 2C, H/2, W/2)
    (Swin)."""

    def __init__(self, channels):
        super().__init__()
        self.norm = nn.LayerNorm(4 * channels)
        self.reduction = nn.Linear(4 * channels, 2 * channels, bias=False)

    def forward(self, x):
        padding = (0, 0, 0, x.shape[3] % 2, 0, x.shape[2] % 2)
        x = nn.functional.pad(x.permute(0, 2, 3, 1), padding)
        x0, x1 = x[:, 0::2, 0::2], x[:, 1::2, 0::2]
        x2, x3 = x[:, 0::2, 1::2], x[:, 1::2, 1::2]
        x = torch.cat([x0, x1, x2, x3], -1)
        return self.reduction(self.norm(x)).permute(0, 3, 1, 2)
''',
    "Unpatch": '''class Unpatch(nn.Module):
    """unpatch: (B, N, D) tokens back to the (B, D/(p_h·p_w), H, W) map the
    last patch embedding cut, each token's features laid out over its patch,
    channels last (DiT's unpatchify, einsum 'nhwpqc->nchpwq')."""

    def __init__(self, sizes, patch):
        super().__init__()
        self.sizes, self.patch = sizes, patch

    def forward(self, x):
        (h, w), (p, q) = self.sizes, self.patch
        x = x.reshape(x.shape[0], h // p, w // q, p, q, -1)
        return torch.einsum("nhwpqc->nchpwq", x).reshape(x.shape[0], -1, h, w)
''',
    "ToTokens": '''class ToTokens(nn.Module):
    """totokens: a map's positions as tokens, (B, C, *spatial) to
    (B, positions, C)."""

    def forward(self, x):
        return x.flatten(2).transpose(1, 2)
''',
    "ClassPool": '''class ClassPool(nn.Module):
    """clspool: the first token's output (the class token), x[:, 0]."""

    def forward(self, x):
        return x[:, 0]
''',
    "TensorMean": '''class TensorMean(nn.Module):
    """gap[mean]: the average over the spatial axes as the model computes it,
    x.mean([2, 3])."""

    def __init__(self, dims):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x):
        return x.mean(self.dims)
''',
    "TokenMean": '''class TokenMean(nn.Module):
    """gap on tokens: their average, (B, N, D) to (B, D)."""

    def forward(self, x):
        return x.mean(dim=1)
''',
    "TiedLinear": '''class TiedLinear(nn.Linear):
    """fc[tied]: an output layer whose weights are the token embedding's
    (tie_embeddings shares them)."""


class TiedEmbedding(nn.Embedding):
    """embed[tied]: an embedding whose table is an earlier one's
    (tie_embeddings shares it)."""


def tie_embeddings(model):
    """Give each TiedLinear and TiedEmbedding the weights of the last untied
    nn.Embedding of its shape before it, as GPT-2 ties its output layer and T5
    its decoder's embedding."""
    tables = {}
    for module in model.modules():
        if isinstance(module, TiedEmbedding):
            module.weight = tables[tuple(module.weight.shape)].weight
        elif isinstance(module, nn.Embedding):
            tables[tuple(module.weight.shape)] = module
        elif isinstance(module, TiedLinear):
            module.weight = tables[tuple(module.weight.shape)].weight
''',
}
