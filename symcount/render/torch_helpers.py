"""The helper classes an exported module file defines when it uses them: joins of paths
(residual, add, concatenate, multiply, split) and the modules PyTorch lacks (LayerNorm2d and
the layer scale, as torchvision's convnext.py writes them)."""

HELPERS = {
    "Split": '''class Split(nn.Module):
    """split(a | b | ...): the channels cut into equal parts (torch.chunk), one per branch, then concatenated."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        parts = torch.chunk(x, len(self.branches), dim=1)
        return torch.cat([branch(part) for branch, part in zip(self.branches, parts)], 1)
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
