"""The helper classes an exported module file defines when it uses them: joins of paths
(residual, add, concatenate, multiply, split) and the modules PyTorch lacks (LayerNorm2d and
the layer scale, as torchvision's convnext.py writes them; the token layers, as torchvision's
vision_transformer.py and GPT-2's and BERT's code compute them).

The export pastes each class's source as it is written here, so every line of it keeps to
79 columns (PEP 8's, as symcount.render.torch_lines fits the lines it writes itself): the
file reads in an 80-column terminal.  Long expressions break as black breaks them, inside
brackets, or through a local variable where that reads better."""

from symcount.render.torch_blocks import BLOCKS

HELPERS = {
    **BLOCKS,  # attention in its variants and a mixture of experts
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
