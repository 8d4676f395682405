"""Paths that meet, on every layout, against PyTorch.

The test's own description says what each join means in PyTorch's terms, independently of
symcount: on N×D tokens `add` is +, `cat` is torch.cat(dim=-1), `split` torch.chunk or
torch.split on the last dimension, `mul` an elementwise product in which a per-sequence vector
(B, D) multiplies every token as gate.unsqueeze(1); on C×L, C×H×W and C×D×H×W the channels
(dim=1); on flat vectors dim=1; attention blocks (nn.MultiheadAttention) and layer norms sit among
them.  PyTorch on the meta device gives every layer's shape and
parameters and FlopCounterMode's count; the closed form in T, substituted and swept, and the
exported module agree with them.  Sizes start at one token of width 1.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import symcount
from symcount.layers.result import layout
from torch_reference import nn, torch
from torch.utils.flop_counter import FlopCounterMode

SETTINGS = dict(deadline=None, derandomize=True, database=None, max_examples=100)
ACTIVATIONS = {"silu": nn.functional.silu, "gelu": nn.functional.gelu, "sigmoid": torch.sigmoid, "relu": torch.relu}


class Reference:
    """Runs a description on a tensor, recording each leaf's (output shape, new parameters)."""

    def __init__(self):
        self.rows = []

    def leaf(self, module, x, owner=None):
        out = module(x)
        owner = owner or module
        params = sum(p.numel() for p in owner.parameters()) if isinstance(owner, nn.Module) else 0
        self.rows.append((tuple(out.shape[1:]), params))
        return out

    def run(self, items, x):
        for item in items:
            x = self.item(item, x)
        return x

    def item(self, item, x):
        kind = item[0]
        if kind == "fc":
            return self.leaf(nn.Linear(x.shape[-1], item[1]), x)
        if kind == "ln":
            return self.leaf(nn.LayerNorm(x.shape[-1]), x)
        if kind == "attn":
            attention = nn.MultiheadAttention(x.shape[-1], item[1], batch_first=True)
            return self.leaf(lambda t: attention(t, t, t, need_weights=False)[0], x, attention)
        if kind == "gap":  # tokens: their mean, (B, N, D) to (B, D)
            return self.leaf(lambda t: t.mean(1), x)
        if kind in ACTIVATIONS:
            return self.leaf(ACTIVATIONS[kind], x)
        branches = item[1]
        if kind == "split":
            shares = item[2] or [x.shape[-1] // len(branches)] * len(branches)
            parts = torch.split(x, shares, -1)
            return torch.cat([self.run(b, part) for b, part in zip(branches, parts)], -1)
        outs = [self.run(b, x) for b in branches]
        if kind == "res":
            return outs[0] + x
        if kind == "add":
            return sum(outs)
        if kind == "cat":
            return torch.cat(outs, -1)
        product = None  # mul
        for out in outs:
            out = out.unsqueeze(1) if out.dim() == 2 else out  # a per-sequence gate over every token
            product = out if product is None else product * out
        return product


def notation(items) -> str:
    words = []
    for item in items:
        kind = item[0]
        if kind in ("fc", "attn"):
            words.append(f"{kind}{item[1]}")
        elif kind in ("ln", "gap") or kind in ACTIVATIONS:
            words.append(kind)
        else:
            shares = item[2] if kind == "split" else None
            branches = [(f"{s}: " if shares else "") + notation(b) for b, s in zip(item[1], shares or item[1])]
            words.append(f"{kind}({' | '.join(branches)})")
    return " ".join(words)


@st.composite
def joined_tokens(draw):
    """(width, body): a stack of joins on N×D tokens, each keeping track of the width it gives."""
    width = draw(st.integers(1, 6))
    start, items = width, []
    for _ in range(draw(st.integers(1, 3))):
        form = draw(st.sampled_from(["gated", "cat", "add", "res", "sequence_gate", "token_gate", "split",
                                     "split_shares", "attention"]))
        hidden = draw(st.integers(1, 5))
        if form == "gated":  # SwiGLU, GEGLU: act(x W) * (x V), then W2
            act = draw(st.sampled_from(sorted(ACTIVATIONS)))
            items += [("mul", [[("fc", hidden), (act,)], [("fc", hidden)]]), ("fc", width)]
        elif form == "cat":
            other = draw(st.integers(1, 4))
            items.append(("cat", [[("fc", hidden)], [("fc", other)], *([[]] if draw(st.booleans()) else [])]))
            width = hidden + other + (width if len(items[-1][1]) == 3 else 0)
        elif form == "add":
            items.append(("add", [[("fc", hidden)], [("fc", hidden), ("gelu",)]]))
            width = hidden
        elif form == "res":
            items.append(("res", [[("ln",), ("fc", hidden), ("gelu",), ("fc", width)]]))
        elif form == "attention":  # a pre-norm attention block, as many heads as divide the width
            heads = draw(st.sampled_from([h for h in (1, 2, 3) if width % h == 0]))
            items.append(("res", [[("ln",), ("attn", heads)]]))
        elif form == "sequence_gate" or form.startswith("split") and width == 1:  # squeeze-and-excitation over the sequence
            items.append(("mul", [[], [("gap",), ("fc", hidden), ("relu",), ("fc", width), ("sigmoid",)]]))
        elif form == "token_gate":  # one gate value per token, over its features
            items.append(("mul", [[], [("fc", 1), ("sigmoid",)]]))
        elif form == "split" and width % 2 == 0 or width % 3 == 0:
            parts = draw(st.sampled_from([p for p in (2, 3) if width % p == 0]))
            outs = [draw(st.integers(1, 3)) for _ in range(parts)]
            items.append(("split", [[("fc", o)] for o in outs], None))
            width = sum(outs)
        elif width > 1:  # split of given sizes, the second part passed through
            first = draw(st.integers(1, width - 1))
            items.append(("split", [[("fc", hidden)], []], [first, width - first]))
            width = hidden + width - first
    return start, items


@settings(**SETTINGS)
@given(joined_tokens(), st.integers(1, 5))
def test_joins_on_tokens_match_pytorch(case, tokens):
    """Every layer's shape and parameters, the totals and FlopCounterMode; the output stays
    tokens; the closed form in T substituted and swept gives the same; the export runs so."""
    width, items = case
    body = notation(items)
    net = symcount.parse(body, input=f"{tokens}x{width} tokens")
    reference = Reference()
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        out = reference.run(items, torch.empty(1, tokens, width))
    assert [(tuple(int(d) for d in row.output), int(row.params)) for row in net.layers] == reference.rows, body
    assert net.output_shape == tuple(out.shape[1:]) and layout(net.output_shape) == "tokens", body
    assert net.params == sum(p for _, p in reference.rows) and 2 * net.macs == counter.get_total_flops(), body
    closed = symcount.parse(body, input=f"Tx{width} tokens")
    T = closed.symbols["T"]
    assert closed.params == net.params, body  # no parameter grows with the sequence
    assert closed.macs.xreplace({T: tokens}) == net.macs
    assert closed.sweep(T=[tokens])["macs"] == [net.macs] and closed.subs(T=tokens).totals() == net.totals()
    namespace = {"__name__": "exported"}
    exec(compile(net.to_torch("Net"), "<exported>", "exec"), namespace)
    with torch.device("meta"), FlopCounterMode(display=False) as exported:
        model = namespace["Net"]()
        assert tuple(model(torch.empty(1, tokens, width)).shape[1:]) == tuple(out.shape[1:])
    assert sum(p.numel() for p in model.parameters()) == net.params and exported.get_total_flops() == 2 * net.macs


def test_gated_mlp_on_tokens_is_a_per_token_mlp():
    """SwiGLU as written in Shazeer (2020): (silu(xW) ⊙ xV) W2, here 64 → 128 → 64 on 8 tokens;
    PyTorch: two Linear(64, 128) and one Linear(128, 64), 24,896 parameters, not growing with T."""
    net = symcount.parse("input 8x64 tokens mul(fc128 silu | fc128) fc64")
    assert net.params == 2 * (64 * 128 + 128) + 128 * 64 + 64 == 24_896
    assert net.output_shape == (8, 64)
    closed = symcount.parse("input {T}x64 tokens mul(fc128 silu | fc128) fc64")
    assert closed.params == 24_896


# --------------------------------------------------------------------------- every join on every layout
LAYOUTS = {  # input text, PyTorch input, a per-position layer that changes the joined axis to k
    "C×L": ("4x6", (1, 4, 6), lambda k: (f"conv1-{k}", lambda c: nn.Conv1d(c, k, 1))),
    "C×H×W": ("4x5x6", (1, 4, 5, 6), lambda k: (f"conv1-{k}", lambda c: nn.Conv2d(c, k, 1))),
    "C×D×H×W": ("4x3x5x6", (1, 4, 3, 5, 6), lambda k: (f"conv1-{k}", lambda c: nn.Conv3d(c, k, 1))),
    "flat": ("4", (1, 4), lambda k: (f"fc{k}", lambda c: nn.Linear(c, k))),
    "tokens": ("5x4 tokens", (1, 5, 4), lambda k: (f"fc{k}", lambda c: nn.Linear(c, k))),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@pytest.mark.parametrize("kind", ["add", "cat", "mul", "split"])
def test_every_join_keeps_its_layout(name, kind):
    """add(conv1-4 | conv1-4), cat(conv1-2 | conv1-3), mul(conv1-4 | conv1-1) and split(conv1-2 |
    conv1-3) on each layout (fc on flat vectors and tokens): the shape PyTorch gives, or for
    split on a flat vector (which has no channels to cut) an error saying what split takes."""
    text, size, make = LAYOUTS[name]
    dim = -1 if name == "tokens" else 1
    widths = {"add": (4, 4), "cat": (2, 3), "mul": (4, 1), "split": (2, 3)}[kind]
    (first, one), (second, two) = make(widths[0]), make(widths[1])
    x = torch.empty(size)
    if kind == "split" and name == "flat":
        with pytest.raises(symcount.ShapeError, match="split needs a C×L, C×H×W or C×D×H×W input or N×D tokens"):
            symcount.parse(f"split({first} | {second})", input=text)
        return
    if kind == "split":
        a, b = torch.chunk(x, 2, dim)
        expected = torch.cat([one(a.shape[dim])(a), two(b.shape[dim])(b)], dim)
    else:
        outs = [one(x.shape[dim])(x), two(x.shape[dim])(x)]
        expected = {"add": lambda: outs[0] + outs[1], "cat": lambda: torch.cat(outs, dim),
                    "mul": lambda: outs[0] * outs[1]}[kind]()
    net = symcount.parse(f"{kind}({first} | {second})", input=text)
    assert net.output_shape == tuple(expected.shape[1:])
    assert layout(net.output_shape) == {"flat": "flat", "tokens": "tokens"}.get(name, "spatial")


@pytest.mark.parametrize("text, message", [
    ("input 8x64 tokens add(| gap)", "add: branches of different layouts cannot be added"),
    ("input 8x64 tokens mul(| gap fc32 sigmoid)", "mul: branches cannot be multiplied where their sizes differ "
                                                  "(each axis must agree or be 1)"),
    ("input 8x64 tokens cat(fc8 | gap fc8)", "cat: branches of different layouts cannot be concatenated"),
    ("input 8 tokens add(|)", "token ids cannot be added; an embedding makes tokens of them first"),
    ("input 3x8x8 mul(| gap fc3 sigmoid)", "a gate on C×H×W keeps its C×1×1 shape"),
])
def test_joins_that_cannot_meet_say_why(text, message):
    with pytest.raises(symcount.ShapeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        symcount.parse(text)


def test_mismatch_names_what_differs():
    """Two equal token branches concatenate; where they cannot, the message never says a branch
    differs from an identical one."""
    assert symcount.parse("input 8x64 tokens cat(fc128 | fc128)").output_shape == (8, 256)
    with pytest.raises(symcount.ShapeError) as error:
        symcount.parse("input 8x64 tokens cat(fc128 | clspool fc128)")
    assert "different layouts" in str(error.value)
