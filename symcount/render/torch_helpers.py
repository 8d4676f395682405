"""The helper classes an exported module file defines when it uses them: joins of paths
(residual, add, concatenate, multiply, split) and the modules PyTorch lacks (LayerNorm2d and
the layer scale, as torchvision's convnext.py writes them)."""

HELPERS = {
    "Split": '''class Split(nn.Module):
    """split(a | b | ...): the channels cut into equal parts (torch.chunk), or into `sizes` (torch.split),
    one per branch, then concatenated."""

    def __init__(self, *branches, sizes=None):
        super().__init__()
        self.branches, self.sizes = nn.ModuleList(branches), sizes

    def forward(self, x):
        parts = torch.split(x, self.sizes, 1) if self.sizes else torch.chunk(x, len(self.branches), dim=1)
        return torch.cat([branch(part) for branch, part in zip(self.branches, parts)], 1)
''',
    "Crop": '''class Crop(nn.Module):
    """crop: to a size, centred (the offset (H - h) // 2), or by a margin off both sides; to the
    size of another tensor where a bare crop meets other paths (CroppedJoin)."""

    def __init__(self, size=None, margin=None):
        super().__init__()
        self.size, self.margin = size, margin

    def forward(self, x, like=None):
        sizes = x.shape[2:]
        if like is not None or self.size is not None:
            targets = like.shape[2:] if like is not None else self.size
            starts = [(size - target) // 2 for size, target in zip(sizes, targets)]
        else:
            starts = list(self.margin)
            targets = [size - 2 * margin for size, margin in zip(sizes, starts)]
        return x[(..., *[slice(start, start + target) for start, target in zip(starts, targets)])]
''',
    "CroppedJoin": '''class CroppedJoin(nn.Module):
    """cat(...) or add(...) whose branches listed in `crop` end in a bare crop: each is cropped to the
    size of the first branch that does not, after every branch has run, then the outputs are joined."""

    def __init__(self, how, *branches, crop=()):
        super().__init__()
        self.how, self.branches = how, nn.ModuleList(branches)
        self.crops = nn.ModuleDict({str(i): Crop() for i in crop})

    def forward(self, x):
        outs = [branch(x) for branch in self.branches]
        like = next(out for i, out in enumerate(outs) if str(i) not in self.crops)
        outs = [self.crops[str(i)](out, like) if str(i) in self.crops else out for i, out in enumerate(outs)]
        return torch.cat(outs, 1) if self.how == "cat" else sum(outs)
''',
    "Side": '''class Side(nn.Module):
    """side(head): the head runs on the trunk's output here and keeps its result; the trunk goes on
    unchanged, and the model returns every head's output before its own."""

    def __init__(self, head):
        super().__init__()
        self.head, self.output = head, None

    def forward(self, x):
        self.output = self.head(x)
        return x
''',
    "Multiply": '''class Multiply(nn.Module):
    """mul(a | b | ...) and se: the branches' outputs multiplied, broadcasting (a C×1×1 gate on C×H×W)."""

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
    """layernorm: LayerNorm over the channels at each position (torchvision's convnext.py)."""

    def forward(self, x):
        x = nn.functional.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)
''',
    "ChannelsLast": '''class ChannelsLast(nn.Module):
    """[channels_last]: the module (nn.Linear, nn.LayerNorm) on the channels at each position, the
    tensor permuted to N×H×W×C and back, as ConvNeXt's blocks run them."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
''',
    "LayerScale": '''class LayerScale(nn.Module):
    """scale: a learned scale per channel (ConvNeXt's layer scale, initialised as torchvision does)."""

    def __init__(self, channels, value=1e-6):
        super().__init__()
        self.scale = nn.Parameter(torch.full((channels, 1, 1), value))

    def forward(self, x):
        return self.scale * x
''',
    "Residual": '''class Residual(nn.Module):
    """res(body | shortcut): body(x) + shortcut(x); without a shortcut, body(x) + x."""

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x):
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))
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
    """cat(a | b | ...): the branches' outputs concatenated along the channels."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], 1)
''',
}
