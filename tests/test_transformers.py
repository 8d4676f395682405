"""Tokens and transformers against PyTorch's own modules.

The test's own description of each layer says what the notation means in PyTorch's terms
(nn.Conv2d for a patch embedding, nn.Embedding, nn.LayerNorm, nn.Linear on each token,
nn.MultiheadAttention for attention, self and cross, causal or not); PyTorch on the meta
device says what comes out: every layer's shape and parameters, and FlopCounterMode's
count, which includes the N×N products of scaled dot-product attention.  Random networks
at random sizes, the smallest among them (one token, width 1, one head, one patch); the
closed form in the token count, substituted and swept, agrees with them.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import symcount
from symcount import zoo
from torch_reference import nn, torch
from torch.utils.flop_counter import FlopCounterMode
from torch_zoo import build, trace
from test_zoo import layer_trace, torch_counts

SETTINGS = dict(deadline=None, derandomize=True, database=None, max_examples=100)


class Step(nn.Module):
    """One layer of the description as PyTorch computes it (its modules are PyTorch's own)."""

    def __init__(self, kind, args, x, memory=None):
        super().__init__()
        self.kind, self.args, self.memory = kind, args, memory
        width = x.shape[-1]
        if kind == "patch":
            self.conv = nn.Conv2d(x.shape[1], args["out"], args["p"], args["p"])
        elif kind == "embed":
            self.table = nn.Embedding(args["vocabulary"], args["out"])
        elif kind == "cls":
            self.token = nn.Parameter(torch.zeros(1, 1, width))
        elif kind == "pos" and args.get("table"):
            self.table = nn.Embedding(args["table"], width)
        elif kind == "pos" and not args.get("fixed"):
            self.table = nn.Parameter(torch.zeros(1, x.shape[1], width))
        elif kind == "segment":
            self.table = nn.Embedding(args["types"], width)
        elif kind == "ln":
            self.norm = nn.LayerNorm(width)
        elif kind == "fc":
            self.linear = nn.Linear(width, args["out"], bias=args.get("bias", True))
        elif kind == "attn":
            extra = dict(kdim=args["kdim"], vdim=args["kdim"]) if "memory" in args else {}
            self.attention = nn.MultiheadAttention(width, args["heads"], bias=args.get("bias", True),
                                                   batch_first=True, **extra)
        elif kind == "scale":
            self.gamma = nn.Parameter(torch.ones(width))

    def forward(self, x):
        kind, args = self.kind, self.args
        if kind == "patch":
            return self.conv(x).flatten(2).transpose(1, 2)
        if kind == "embed":
            return self.table(x)
        if kind == "cls":
            return torch.cat([self.token.expand(x.shape[0], -1, -1), x], 1)
        if kind == "pos":
            if args.get("fixed"):
                return x + torch.zeros_like(x)  # a sinusoid, no parameters
            if args.get("table"):
                return x + self.table(torch.arange(x.shape[1]))
            return x + self.table
        if kind == "segment":
            return x + self.table(torch.zeros(x.shape[1], dtype=torch.long))
        if kind == "ln":
            return self.norm(x)
        if kind == "fc":
            return self.linear(x)
        if kind == "attn":
            memory = torch.empty(x.shape[0], args["memory"], args["kdim"]) if "memory" in args else x
            n = x.shape[1]
            mask = torch.ones(n, n, dtype=torch.bool).triu(1) if args.get("causal") else None
            return self.attention(x, memory, memory, need_weights=False, attn_mask=mask)[0]
        if kind == "scale":
            return self.gamma * x
        if kind == "clspool":
            return x[:, 0]
        if kind == "gap":
            return x.mean(1)
        if kind == "softmax":
            return torch.softmax(x, -1)
        return {"gelu": nn.functional.gelu, "dropout": lambda t: t, "relu": torch.relu}[kind](x)


def run(start, layers):
    """Per layer (residual blocks flattened, in order): output shape and new parameters; and FLOPs.
    A residual block is ("res", [layers]): its body, then the sum with its input."""
    rows, seen = [], set()
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        x = start

        def apply(layers, x):
            for kind, args in layers:
                if kind == "res":
                    x = x + apply(args, x)
                    continue
                step = Step(kind, args, x)
                if kind == "fc" and args.get("tied"):  # the output layer takes the embedding's weights
                    step.linear.weight = tied[0].table.weight
                if kind == "embed":
                    tied[:] = [step]
                x = step(x)
                fresh = [p for p in step.parameters() if id(p) not in seen]
                seen.update(id(p) for p in fresh)
                rows.append((tuple(x.shape[1:]), sum(p.numel() for p in fresh)))
            return x
        tied = []
        apply(layers, x)
    return rows, counter.get_total_flops()


def notation(layers) -> str:
    words = []
    for kind, args in layers:
        if kind == "res":
            words.append(f"res({notation(args)})")
            continue
        options = [name for name in ("causal", "tied", "fixed") if args.get(name)]
        options += [f"{name}={args[name]}" for name in ("memory", "kdim") if name in args]
        options += ["bias=false"] if args.get("bias") is False else []
        core = {"patch": lambda: f"patch{args.get('p')}-{args.get('out')}",
                "embed": lambda: f"embed{args.get('vocabulary')}-{args.get('out')}",
                "pos": lambda: f"pos{args.get('table') or ''}", "segment": lambda: f"segment{args.get('types')}",
                "fc": lambda: f"fc{args.get('out')}", "attn": lambda: f"attn{args.get('heads')}"}.get(kind, lambda: kind)()
        words.append(core + (f"[{', '.join(options)}]" if options else ""))
    return " ".join(words)


@st.composite
def token_network(draw):
    """(input text, symbolic input text, values of its symbols, PyTorch input, layers)."""
    heads = draw(st.integers(1, 3))
    width = heads * draw(st.integers(1, 3))
    start = draw(st.sampled_from(["image", "ids", "tokens"]))
    layers, vocabulary = [], None
    if start == "image":
        p, rows, cols, channels = (draw(st.integers(1, 4)) for _ in range(4))
        text, symbolic, values = f"{channels}x{p * rows}x{p * cols}", f"{channels}xHxW", {"H": p * rows, "W": p * cols}
        x = torch.empty(1, channels, p * rows, p * cols, device="meta")
        layers.append(("patch", {"p": p, "out": width}))
        tokens = rows * cols
    else:
        tokens = draw(st.integers(1, 6))
        if start == "ids":
            vocabulary = draw(st.integers(1, 9))
            text, symbolic, values = f"{tokens} tokens", "T tokens", {"T": tokens}
            x = torch.zeros(1, tokens, dtype=torch.long, device="meta")
            layers.append(("embed", {"vocabulary": vocabulary, "out": width}))
        else:
            text, symbolic, values = f"{tokens}x{width} tokens", f"Tx{width} tokens", {"T": tokens}
            x = torch.empty(1, tokens, width, device="meta")
    if start != "ids" and draw(st.booleans()):
        layers.append(("cls", {}))
        tokens += 1
    position = draw(st.sampled_from(["none", "learned", "table", "fixed"]))
    if position == "learned" and start != "ids":
        layers.append(("pos", {}))
    elif position == "table":
        layers.append(("pos", {"table": tokens + draw(st.integers(0, 3))}))
    elif position == "fixed":
        layers.append(("pos", {"fixed": True}))
    if draw(st.booleans()):
        layers.append(("segment", {"types": draw(st.integers(1, 3))}))
    for _ in range(draw(st.integers(0, 2))):
        attention = {"heads": heads, "causal": draw(st.booleans()), "bias": draw(st.booleans())}
        if draw(st.booleans()):  # cross-attention: keys and values from M other tokens of width E
            attention.update(memory=draw(st.integers(1, 5)), kdim=draw(st.integers(1, 5)), causal=False)
        hidden = draw(st.integers(1, 8))
        layers += [("res", [("ln", {}), ("attn", attention), ("dropout", {})]),
                   ("res", [("ln", {}), ("fc", {"out": hidden}), ("gelu", {}), ("fc", {"out": width})]),
                   *([("scale", {})] if draw(st.booleans()) else [])]
    layers.append(("ln", {}))
    end = draw(st.sampled_from(["tokens", "clspool", "gap", "tied"] if vocabulary else ["tokens", "clspool", "gap"]))
    if end == "tied":
        layers.append(("fc", {"out": vocabulary, "bias": False, "tied": True}))
    else:
        if end != "tokens":
            layers.append((end, {}))
        layers += [("fc", {"out": draw(st.integers(1, 5))}), ("softmax", {})]
    return text, symbolic, values, x, layers


def flat(layers):
    return [step for kind, args in layers for step in (flat(args) if kind == "res" else [(kind, args)])]


@settings(**SETTINGS)
@given(token_network())
def test_random_token_networks_match_pytorch(case):
    """Every layer's shape and parameters, the totals and FlopCounterMode, at one size; the
    same network on a symbolic input (T tokens, H×W) substituted and swept gives the same."""
    text, symbolic, values, x, layers = case
    body = notation(layers)
    net = symcount.parse(body, input=text)
    rows, flops = run(x, layers)
    assert [(tuple(int(d) for d in row.output), int(row.params)) for row in net.layers] == rows, body
    assert net.params == sum(p for _, p in rows) and 2 * net.macs == flops, body
    closed = symcount.parse(body, input=symbolic)
    mapping = {closed.symbols[name]: value for name, value in values.items()}
    assert closed.params.xreplace(mapping) == net.params and 2 * closed.macs.xreplace(mapping) == flops, body
    swept = closed.sweep(**{name: [value] for name, value in values.items()})
    assert swept["valid"] == [True] and swept["macs"] == [net.macs] and swept["params"] == [net.params]
    assert closed.subs(**values).totals() == net.totals()


@settings(**SETTINGS)
@given(token_network())
def test_random_token_networks_export_to_what_pytorch_runs(case):
    """The exported module, built from its source, has symcount's parameters and FLOPs."""
    text, _, _, x, layers = case
    if any(args.get("memory") for _, args in flat(layers)):
        return  # cross-attention needs a second input: an ExportError (test_cross_attention_does_not_export)
    net = symcount.parse(notation(layers), input=text)
    namespace = {"__name__": "exported"}
    exec(compile(net.to_torch("Net"), "<exported>", "exec"), namespace)
    with torch.device("meta"):
        model = namespace["Net"]().eval()
        with FlopCounterMode(display=False) as counter:
            out = model(x)
    assert tuple(out.shape[1:]) == net.output_shape
    assert sum(p.numel() for p in model.parameters()) == net.params and counter.get_total_flops() == 2 * net.macs


# --------------------------------------------------------------------------- the zoo's language models
@pytest.mark.parametrize("name, lengths", [("gpt2", (1, 2, 7, 77)), ("bert_base", (1, 128, 300))])
def test_language_models_at_any_length_match_pytorch(name, lengths):
    """gpt2 and bert_base with the sequence length T a symbol: the closed forms at T equal
    PyTorch built for T tokens (tests/torch_zoo_text.py), layer by layer."""
    net = zoo.load(name)
    assert set(net.symbols) == {"T"}
    for length in lengths:
        values = {net.symbols["T"]: length}
        model = build(name, (length,))
        layers, output, flops = trace(model, (length,))
        assert layer_trace(net.layers, values) == layers
        assert net.params.xreplace(values) == torch_counts(model)["params"]
        assert 2 * net.macs.xreplace(values) == flops


def test_gpt_with_every_size_a_symbol_is_gpt2_at_its_sizes_and_another_decoder():
    """The gpt entry (L, d, h, V, n_ctx) at GPT-2's sizes and at small ones, against PyTorch."""
    net = zoo.load("gpt")
    assert set(net.symbols) == {"L", "d", "h", "V", "n_ctx"}
    for sizes in ({"L": 12, "d": 768, "h": 12, "V": 50257, "n_ctx": 5}, {"L": 3, "d": 8, "h": 2, "V": 11, "n_ctx": 4}):
        values = {net.symbols[name]: value for name, value in sizes.items()}
        model = build("gpt2", (sizes["n_ctx"],), vocab=sizes["V"], positions=sizes["n_ctx"], layers=sizes["L"],
                      heads=sizes["h"], width=sizes["d"])
        _, _, flops = trace(model, (sizes["n_ctx"],))
        assert net.params.xreplace(values) == torch_counts(model)["params"]
        assert 2 * net.macs.xreplace(values) == flops


def test_gpt_against_kaplan_et_al():
    """Kaplan et al. 2020, Sec. 2.1 and Table 1: N = 12·L·d² non-embedding parameters (d_attn = d,
    d_ff = 4d) leaves out the embeddings (V + n_ctx)·d and, per block, the biases (3d + d + 4d + d)
    and two layer norms (4d), and the final layer norm (2d); C_forward = 2N + 2·L·n_ctx·d FLOPs per
    token leaves out the output layer's 2·d·V and counts the attention's N×N products at half what
    PyTorch computes: 4·L·n_ctx·d (scores and weighted sum, the whole N×N) per token."""
    net = zoo.load("gpt")
    L, d, V, n = (net.symbols[name] for name in ("L", "d", "V", "n_ctx"))
    kaplan_n = 12 * L * d**2
    assert (net.params - kaplan_n - (V + n) * d - L * 13 * d - 2 * d).expand() == 0
    per_token = 2 * net.macs / n  # FLOPs per token of context
    assert (per_token - (2 * kaplan_n + 2 * L * n * d) - 2 * d * V - 2 * L * n * d).expand() == 0


def test_gpt_against_hoffmann_et_al():
    """Hoffmann et al. 2022, Appendix F, forward FLOPs of a sequence of n tokens: embeddings 2nVd,
    per layer QKV 2·3·n·d², logits 2n²d, softmax 3hn², weighted sum 2n²d, output 2nd², MLP 2n(2·d·4d),
    final logits 2ndV.  symcount's FLOPs are all of it but the embedding lookup and the softmax."""
    net = zoo.load("gpt")
    L, d, h, V, n = (net.symbols[name] for name in ("L", "d", "h", "V", "n_ctx"))
    layer = 2 * 3 * n * d**2 + 2 * n**2 * d + 3 * h * n**2 + 2 * n**2 * d + 2 * n * d**2 + 2 * n * (2 * d * 4 * d)
    hoffmann = 2 * n * V * d + L * layer + 2 * n * d * V
    assert (hoffmann - 2 * net.macs - 2 * n * V * d - L * 3 * h * n**2).expand() == 0


def test_solve_finds_the_context_length_pytorch_gives_for_a_cost():
    """solve against brute force: the lengths at which a small decoder built in PyTorch costs that much."""
    net = zoo.load("gpt", L=2, d=8, h=2, V=11)
    counts = {}
    for length in range(1, 41):
        model = build("gpt2", (length,), vocab=11, positions=length, layers=2, heads=2, width=8)
        counts[length] = trace(model, (length,))[2]
    target = counts[13]
    found = net.solve([f"macs={target // 2}"], {"n_ctx": range(1, 41)}).solutions
    assert found == tuple({"n_ctx": n} for n, flops in counts.items() if flops == target)


def test_vit_cost_is_quadratic_in_the_patches_and_matches_pytorch_at_other_sizes():
    """vit_b_16 on 3×H×W: MACs a polynomial of degree 2 in the (H/16)(W/16) patches; at 384×384
    (torchvision's IMAGENET1K_SWAG_E2E_V1: 86,859,496 parameters, 55.48 GFLOPS) and at 160×240,
    equal to PyTorch built there."""
    net = zoo.load("vit_b_16", input="3xHxW")
    H, W = net.symbols["H"], net.symbols["W"]
    import sympy
    assert sympy.Poly(net.macs, H, W).total_degree() == 4 and sympy.Poly(net.params, H, W).total_degree() == 2
    at_384 = {H: 384, W: 384}
    assert net.params.xreplace(at_384) == 86_859_496 and round(int(net.macs.xreplace(at_384)) / 1e9, 2) == 55.48
    for size in ((384, 384), (160, 240)):
        values = {H: size[0], W: size[1]}
        model = build("vit_b_16", (3, *size))
        layers, _, flops = trace(model, (3, *size))
        assert layer_trace(net.layers, values) == layers
        assert net.params.xreplace(values) == torch_counts(model)["params"] and 2 * net.macs.xreplace(values) == flops


def test_vit_valid_sizes_are_what_pytorch_accepts():
    """A patch size must divide the input (torchvision's ViT asserts it): valid_sizes and check
    against building the reference at every height 1..80."""
    net = zoo.load("vit_b_32", input="3xHxW").subs(W=64)
    accepted = []
    for h in range(1, 81):
        try:
            build("vit_b_32", (3, h, 64))
        except AssertionError:
            continue
        accepted.append(h)
    assert net.valid_sizes(H=range(1, 81)) == accepted
    (report, _) = zoo.load("vit_b_32", input="3xHxW").check().symbols
    assert (report.modulus, report.residue, report.minimum) == (32, 0, 32)


def test_the_position_table_bounds_the_length():
    """GPT-2's 1024 positions: 1024 tokens run, 1025 do not (the reference asserts T <= positions)."""
    net = zoo.load("gpt2")
    swept = net.sweep(T=[1024, 1025])
    assert swept["valid"] == [True, False]
    with pytest.raises(AssertionError):
        build("gpt2", (1025,))
    with pytest.raises(symcount.ShapeError, match="1025 tokens do not fit a table of 1024 positions"):
        net.subs(T=1025)


@pytest.mark.parametrize("text, error, message", [
    ("input 3x32x32 patch16-8 attn3", symcount.ShapeError, "3 heads must divide the token width 8"),
    ("input 3x30x32 patch16-8", symcount.ShapeError, "the patch size 16 must divide the input size 30"),
    ("input 3x32x32 embed10-8", symcount.ShapeError, "embed takes token ids, not a C×L, C×H×W or C×D×H×W input"),
    ("input 8 tokens fc10", symcount.ShapeError, "fc takes .* not token ids; token ids become tokens through an "
                                                  "embedding first"),
    ("input 8 embed10-4", symcount.ShapeError, "a sequence of N token ids is written input N tokens"),
    ("input 8x16 tokens conv3-4", symcount.ShapeError, "conv takes .* not N×D tokens; on tokens, layers act per token"),
    ("input 8x16 tokens bn", symcount.ShapeError, "bn takes .* not N×D tokens"),
    ("input 8 tokens embed10-8 pos4", symcount.ShapeError, "8 tokens do not fit a table of 4 positions"),
    ("input 8 tokens embed10-8 fc11[tied]", symcount.ShapeError, "tied shares the weights of a token embedding of "
                                                                 "the same shape, embed11-8, and there is none"),
    ("input 2x3x4 tokens", symcount.NotationError, "tokens are N token ids .* not 3 sizes"),
    ("input n_ctx tokens", symcount.NotationError, "write it in braces, input {n_ctx} tokens"),
    ("input 8x16 tokens attn4[kdim=8]", symcount.OptionError, "give their number too"),
    ("input 8x16 tokens attn4[stride=2]", symcount.OptionError, "unknown option 'stride' for attn"),
    ("input 8x16 tokens prelu[channelwise]", symcount.OptionError, "a PReLU slope per channel takes channels on axis 1"),
    ("input 3x32x32 conv3-8 cls", symcount.ShapeError, "cls takes N×D tokens, not a C×L, C×H×W or C×D×H×W input"),
])
def test_token_mistakes_are_clear_errors(text, error, message):
    with pytest.raises(error, match=message) as caught:
        symcount.parse(text)
    assert caught.value.line == 1


def test_in_is_the_token_width():
    """{in} on tokens is D: an MLP block of 4·D, as nn.Linear(16, 64) then nn.Linear(64, 16) have."""
    net = symcount.parse("input 8x16 tokens res(ln fc{4*in} gelu fc{in/4})")
    assert net.params == (16 + 16) + (16 * 64 + 64) + (64 * 16 + 16) and net.output_shape == (8, 16)


def test_the_aliases_mean_the_canonical_forms():
    """embedding/mha/attention and the options' short names, against the forms the rebuilds check."""
    canonical = symcount.parse("input 6 tokens embed10-8 pos[fixed] attn2[causal] attn2[memory=3, kdim=4] "
                               "fc10[bias=false, tied]")
    aliased = symcount.parse("input 6 tokens embedding10-8 pos[sinusoidal] mha2[is_causal] "
                             "attention2[kv=3, memory_width=4] fc10[bias=false, shared]")
    assert aliased.totals() == canonical.totals() and [r.kind for r in aliased.layers] == [r.kind for r in canonical.layers]


def test_cross_attention_does_not_export():
    net = symcount.parse("input 4x8 tokens attn2[memory=7, kdim=3]")
    with pytest.raises(symcount.ExportError, match="cross-attention takes its keys and values from a second input"):
        net.to_torch()


def test_counting_tool_presets_refuse_token_layers_no_tool_was_measured_on():
    """ViT's patch embedding and class token were not measured: the presets refuse, macs answers."""
    net = zoo.load("vit_b_32")
    with pytest.raises(symcount.SymcountError, match="where the tool was measured.*not patch1"):
        net.ops("torchinfo")
    assert net.ops("macs") == net.macs


def test_the_cli_prints_a_language_model_as_formulas_in_t(capsys):
    from symcount.cli import main
    assert main(["gpt2", "--params-only"]) == 0
    out = capsys.readouterr().out
    assert "input T tokens" in out and "124,439,808" in out
    assert main(["input 8x16 tokens conv3-4"]) == 2
    assert "conv takes" in capsys.readouterr().err
