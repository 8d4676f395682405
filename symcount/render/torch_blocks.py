"""The helper classes of transformer blocks an exported module file defines when it uses them:
attention in its variants (self-attention with nn.MultiheadAttention's parameters; Llama's,
Mistral's and Qwen2's, with key/value heads of their own; DeepSeek's latent attention; Swin's
windows) and a mixture of experts.  Written to 79 columns, as symcount.render.torch_helpers
says of every helper."""

BLOCKS = {
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
}
