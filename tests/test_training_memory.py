"""net.training_memory: the model states against ZeRO's published figures and PyTorch's optimizers; the
activations against what PyTorch autograd keeps (saved_tensors_hooks, live and in the recorded fixture)
and against Korthikanti et al. 2022's formulas, symbolically."""
from __future__ import annotations

import json
import os

import pytest
import sympy
from hypothesis import given, settings, strategies as st

import symcount
from symcount import zoo
from symcount.errors import SymcountError

from torch_reference import torch  # first: it skips the tests when torch is missing
import torch_zoo
import torch_zoo_llm
import torch_zoo_text
from saved_bytes import kept_bytes, on_cpu

HERE = os.path.dirname(__file__)
SAVED = json.load(open(os.path.join(HERE, "fixtures", "saved", "saved.json")))


# ------------------------------------------------------------------ model states
@pytest.mark.parametrize("stage, gigabytes", [(0, 120), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_zero_stages_give_the_papers_figure_for_7_5_billion_parameters_on_64_devices(stage, gigabytes):
    """Rajbhandari et al. 2020, Figure 1: Ψ = 7.5 B, N_d = 64, K = 12 (mixed-precision Adam)."""
    net = symcount.parse("input 75000 fc100000[bias=false]")
    assert net.params == 7_500_000_000
    memory = net.training_memory(optimizer="adam", precision="mixed", zero=stage, devices=64)
    states = memory.weights + memory.gradients + memory.optimizer
    assert round(float(states) / 1e9, 1) == gigabytes


def test_zero_stages_symbolically_are_the_papers_formulas():
    """(2 + 2 + K)Ψ, 2Ψ + 2Ψ + KΨ/N_d, 2Ψ + (2 + K)Ψ/N_d, (2 + 2 + K)Ψ/N_d with K = 12."""
    net = symcount.parse("input {m} fc{n}[bias=false]")
    psi = net.params
    nd = 8
    expected = {0: 16 * psi, 1: 4 * psi + 12 * psi / nd, 2: 2 * psi + 14 * psi / nd, 3: 16 * psi / nd}
    for stage, formula in expected.items():
        m = net.training_memory(zero=stage, devices=nd)
        assert sympy.simplify(m.weights + m.gradients + m.optimizer - formula) == 0


@pytest.mark.parametrize("name, make, moments", [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1), 0),
    ("momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), 1),
    ("adam", lambda p: torch.optim.Adam(p), 2),
    ("adamw", lambda p: torch.optim.AdamW(p), 2)])
def test_optimizer_states_are_what_pytorchs_optimizer_holds_after_a_step(name, make, moments):
    """fp32: the bytes of every state tensor the optimizer keeps, its scalar step counters apart."""
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3, bias=False))
    optimizer = make(model.parameters())
    model(torch.randn(2, 6)).sum().backward()
    optimizer.step()
    held = sum(t.numel() * t.element_size() for state in optimizer.state.values() for key, t in state.items()
               if torch.is_tensor(t) and key != "step")
    memory = symcount.parse("input 6 fc5 relu fc3[bias=false]").training_memory(optimizer=name, precision="fp32")
    assert memory.optimizer == held
    assert memory.weights == memory.gradients == sum(p.numel() * 4 for p in model.parameters())


def test_bf16_keeps_two_bytes_of_everything_and_tensor_parallelism_replicates_the_norms():
    net = symcount.parse("input 8x16 tokens ln attn4 ln fc64 gelu fc16")
    norms = 2 * 2 * 16
    memory = net.training_memory(optimizer="adam", precision="bf16", activations="megatron")
    assert memory.weights == 2 * net.params and memory.optimizer == 4 * net.params
    split = net.training_memory(activations="megatron", tensor_parallel=4)
    assert split.weights == 2 * (norms + (net.params - norms) / 4)


# ------------------------------------------------------------------ activations: PyTorch
def _networks_recorded():
    for key, network in SAVED["networks"].items():
        for record in network["records"]:
            for run in record["runs"]:
                yield key, network, record, run


NOTATIONS = {  # the recorded networks as the fixture's report describes them
    "vgg_like": ("input 3x8x8 conv3-4[pad=1] relu conv3-8[pad=1] relu maxpool2 fc10", None),
    "llama": ("input {N} tokens embed11-8 (res(rmsnorm attn2[causal, rope, kv_heads=1, bias=false]) "
              "res(rmsnorm mul(fc12[bias=false] silu | fc12[bias=false]) fc8[bias=false]))x2 rmsnorm "
              "fc11[bias=false]", None),
    "gpt2": ("input {N} tokens embed11-8 pos16 dropout (res(ln attn2[causal] dropout) res(ln fc32 gelu fc8 "
             "dropout))x2 ln fc11[bias=false, tied]", None),
}


def test_every_recorded_network_on_the_default_attention_kernel_is_reproduced():
    """tests/fixtures/saved: vgg-like, Llama and GPT-2 at 5 and 9 tokens and at batch 2, train mode,
    scaled_dot_product_attention's default kernel (the CPU's flash kernel)."""
    checked = 0
    for key, network, record, run in _networks_recorded():
        mode, backend = run.split("/") if "/" in run else (run, "default")
        if backend != "default" or (mode != "train" and key.startswith("gpt2")) or key.endswith("inplace"):
            continue
        family = key.split("_N")[0].removesuffix("_B2")
        text = NOTATIONS[family][0]
        tokens = record["input_shape"][1] if family != "vgg_like" else None
        net = symcount.parse(text.replace("{N}", str(tokens)) if tokens else text)
        kept = net.training_memory(precision="fp32", batch=network["batch"]).activations
        assert kept == record["activation_bytes"], (key, run)
        checked += 1
    assert checked >= 8


def _zoo_cnn(name, shape, batch=2):
    model = on_cpu(torch_zoo.build(name, shape))
    measured = kept_bytes(model, torch.zeros(batch, *shape))
    net = zoo.load(name, input="x".join(map(str, shape)))
    return measured, net.training_memory(precision="fp32", batch=batch).activations


@pytest.mark.parametrize("name, shape", [
    ("lenet5", (1, 32, 32)), ("alexnet_torchvision", (3, 64, 64)), ("vgg11", (3, 32, 32)),
    ("vgg16_bn", (3, 32, 32)), ("resnet18", (3, 64, 64)), ("resnet50", (3, 64, 48)),
    ("mobilenet_v2", (3, 64, 64)), ("densenet121", (3, 64, 64)), ("squeezenet1_1", (3, 64, 64)),
    ("efficientnet_b0", (3, 64, 64)), ("shufflenet_v2_x1_0", (3, 64, 64)),
    ("mobilenet_v3_small", (3, 64, 64)), ("vit_b_16", (3, 32, 32))])
def test_a_zoo_networks_kept_activations_are_what_autograd_saves(name, shape):
    measured, counted = _zoo_cnn(name, shape)
    assert counted == measured


def test_a_closed_form_at_a_size_is_the_measured_count_there():
    net = zoo.load("resnet18", input="3xHxW")
    closed = net.training_memory(precision="fp32", batch="B").activations
    for side in (64, 96):
        measured, _ = _zoo_cnn("resnet18", (3, side, side))
        values = {net.symbols["H"]: side, net.symbols["W"]: side, sympy.Symbol("B", integer=True, nonnegative=True): 2}
        assert closed.xreplace({s: values.get(s, values.get(sympy.Symbol(s.name, integer=True, nonnegative=True)))
                                for s in closed.free_symbols}) == measured


@pytest.mark.parametrize("kv_heads", [1, 2, 4])
@pytest.mark.parametrize("tokens", [1, 6])
def test_llama_with_grouped_query_heads_keeps_what_autograd_saves(kv_heads, tokens):
    """k and v at the key/value heads where repeat_kv is a view (1 or all heads), at the heads where it copies."""
    model = on_cpu(torch_zoo_llm.llama(2, 16, 4, kv_heads, 4, 24, 13))
    measured = kept_bytes(model, torch.zeros(1, tokens, dtype=torch.long))
    net = zoo.load("llama", input=f"{tokens} tokens", L=2, d=16, h=4, g=kv_heads, f=24, V=13)
    assert net.training_memory(precision="fp32").activations == measured


@pytest.mark.parametrize("name, shape", [("resnet18", (3, 64, 64)), ("mobilenet_v2", (3, 64, 64)),
                                         ("vit_b_16", (3, 32, 32))])
def test_in_bfloat16_a_zoo_network_keeps_what_autograd_saves(name, shape):
    """The model cast to bfloat16: two bytes an activation, BatchNorm's statistics too; max pooling's
    indices stay int64 and attention's logsumexp float32."""
    model = on_cpu(torch_zoo.build(name, shape)).to(torch.bfloat16)
    measured = kept_bytes(model, torch.zeros(2, *shape, dtype=torch.bfloat16))
    net = zoo.load(name, input="x".join(map(str, shape)))
    assert net.training_memory(precision="bf16", batch=2).activations == measured


@pytest.mark.parametrize("kv_heads", [1, 2])
def test_in_bfloat16_llamas_norms_keep_float32_copies(kv_heads):
    """LlamaRMSNorm computes in float32: a float32 copy of its input, not the input."""
    model = on_cpu(torch_zoo_llm.llama(2, 16, 4, kv_heads, 4, 24, 13)).to(torch.bfloat16)
    measured = kept_bytes(model, torch.zeros(1, 6, dtype=torch.long))
    net = zoo.load("llama", input="6 tokens", L=2, d=16, h=4, g=kv_heads, f=24, V=13)
    assert net.training_memory(precision="mixed").activations == measured


def test_gpt2_in_training_keeps_what_autograd_saves():
    model = on_cpu(torch_zoo_text.gpt2((7,), vocab=50, positions=16, layers=2, heads=2, width=16))
    measured = kept_bytes(model, torch.zeros(1, 7, dtype=torch.long))
    net = symcount.parse("input 7 tokens embed50-16 pos16 dropout (res(ln attn2[causal] dropout) res(ln fc64 gelu "
                         "fc16 dropout))x2 ln fc50[bias=false, tied]")
    assert net.training_memory(precision="fp32").activations == measured


LAYERS = st.lists(st.sampled_from(["conv3-{c}[pad=1]", "conv1-{c}", "bn", "relu", "sigmoid", "gelu", "maxpool2",
                                   "avgpool2", "dropout", "res(conv3-{c}[pad=1] bn relu)", "cat(conv1-4 | relu)",
                                   "mul(relu | sigmoid)"]), min_size=1, max_size=6)


class _Sequence(torch.nn.Module):
    """The same small layer list as PyTorch modules (what symcount's notation means)."""

    def __init__(self, layers, channels):
        super().__init__()
        self.steps, c = torch.nn.ModuleList(), channels
        for layer in layers:
            step, c = _module(layer, c)
            self.steps.append(step)

    def forward(self, x):
        for step in self.steps:
            x = step(x)
        return x


class _Join(torch.nn.Module):
    def __init__(self, how, *branches):
        super().__init__()
        self.how, self.branches = how, torch.nn.ModuleList(branches)

    def forward(self, x):
        outs = [b(x) for b in self.branches]
        return {"res": lambda: outs[0] + x, "cat": lambda: torch.cat(outs, 1), "mul": lambda: outs[0] * outs[1]}[self.how]()


def _module(layer, c):
    n = torch.nn
    simple = {"bn": lambda: n.BatchNorm2d(c), "relu": n.ReLU, "sigmoid": n.Sigmoid, "gelu": n.GELU,
              "maxpool2": lambda: n.MaxPool2d(2), "avgpool2": lambda: n.AvgPool2d(2), "dropout": n.Dropout}
    if layer in simple:
        return simple[layer](), c
    if layer.startswith("conv"):
        k = 3 if layer.startswith("conv3") else 1
        return n.Conv2d(c, 6, k, padding=k // 2), 6
    if layer.startswith("res"):
        return _Join("res", n.Sequential(n.Conv2d(c, c, 3, padding=1), n.BatchNorm2d(c), n.ReLU())), c
    if layer.startswith("cat"):
        return _Join("cat", n.Conv2d(c, 4, 1), n.ReLU()), c + 4
    return _Join("mul", n.ReLU(), n.Sigmoid()), c


@settings(deadline=None, max_examples=40)
@given(LAYERS, st.integers(1, 3), st.sampled_from([2, 4, 8]), st.integers(1, 2))
def test_random_small_networks_keep_what_autograd_saves(layers, channels, side, batch):
    """Down to one channel, a 2×2 map (pooled to 1×1) and batch 1 (BatchNorm then needs batch 2 on 1×1)."""
    text, c = [], channels
    for layer in layers:
        text.append(layer.replace("{c}", "6" if layer.startswith("conv") else str(c)))
        c = 6 if layer.startswith("conv") else c + 4 if layer.startswith("cat") else c
    try:
        net = symcount.parse(f"input {channels}x{side}x{side} " + " ".join(text))
    except SymcountError:
        return  # pooled below 1×1: PyTorch refuses it too
    model = _Sequence(layers, channels).train()
    try:
        measured = kept_bytes(model, torch.randn(batch, channels, side, side))
    except (RuntimeError, ValueError):
        return  # BatchNorm on one value per channel
    assert net.training_memory(precision="fp32", batch=batch).activations == measured


@pytest.mark.parametrize("after", ["relu", "sigmoid", "fc16"])
def test_dropout_at_rate_zero_passes_on_a_tensor_its_maker_keeps(after):
    """nn.Dropout(0.0) gives back its input: a ReLU's output before it is still the ReLU's to keep,
    whatever reads it next (another ReLU keeps nothing of its input)."""
    n = torch.nn
    later = {"relu": n.ReLU(), "sigmoid": n.Sigmoid(), "fc16": n.Linear(16, 16)}[after]
    model = n.Sequential(n.Linear(8, 16), n.ReLU(), n.Dropout(0.0), later, n.Linear(16, 2)).train()
    net = symcount.parse(f"input 8 fc16 relu dropout[rate=0] {after} fc2")
    for batch in (1, 3):
        measured = kept_bytes(model, torch.randn(batch, 8))
        assert net.training_memory(precision="fp32", batch=batch).activations == measured


def _repeated(passes, relu_first):
    n = torch.nn
    if relu_first:  # the first pass's ReLU reads the data, which carries no gradient
        body = [m for _ in range(passes) for m in (n.ReLU(), n.Conv2d(4, 4, 3, padding=1))]
        return n.Sequential(*body, n.Flatten(), n.Linear(256, 3))
    body = [m for _ in range(passes) for m in
            (_Join("res", n.Sequential(n.Conv2d(4, 4, 3, padding=1), n.BatchNorm2d(4), n.ReLU())), n.ReLU())]
    return n.Sequential(n.Conv2d(4, 4, 3, padding=1), *body, n.MaxPool2d(2), n.Flatten(), n.Linear(64, 3))


@pytest.mark.parametrize("relu_first", [False, True])
def test_a_repeat_folded_to_a_symbolic_count_keeps_what_each_pass_keeps(relu_first):
    """x{n} folds to one pass standing for n; x70 folds too (longer than symcount lists)."""
    text = "input 4x8x8 (relu conv3-4[pad=1])x{n} fc3" if relu_first else \
        "input 4x8x8 conv3-4[pad=1] (res(conv3-4[pad=1] bn relu) relu)x{n} maxpool2 fc3"
    net = symcount.parse(text)
    closed = net.training_memory(precision="fp32", batch=2).activations
    for passes in (1, 2, 5, 70):
        measured = kept_bytes(_repeated(passes, relu_first).train(), torch.randn(2, 4, 8, 8))
        assert closed.xreplace({net.symbols["n"]: passes}) == measured, passes
        numeric = symcount.parse(text.replace("{n}", str(passes))).training_memory(precision="fp32", batch=2)
        assert numeric.activations == measured, passes


# ------------------------------------------------------------------ activations: Megatron (Korthikanti et al.)
s, b, h, a, t = sympy.symbols("s b h a t", positive=True)
KORTHIKANTI = [  # Table 2 of Korthikanti et al. 2022: activation memory per transformer layer
    (dict(), s * b * h * (34 + 5 * a * s / h)),
    (dict(tensor_parallel="t"), s * b * h * (10 + 24 / t + 5 * a * s / (h * t))),
    (dict(tensor_parallel="t", sequence_parallel=True), s * b * h * (34 / t + 5 * a * s / (h * t))),
    (dict(tensor_parallel="t", sequence_parallel=True, recompute="selective"), s * b * h * 34 / t),
    (dict(recompute="full"), 2 * s * b * h),
]


def _per_layer(**options):
    net = zoo.load("gpt")
    memory = net.training_memory(activations="megatron", batch="b", **options).activations
    names = {net.symbols["n_ctx"]: s, net.symbols["d"]: h, net.symbols["h"]: a}
    per_layer = sympy.diff(memory, net.symbols["L"])
    return per_layer.xreplace({**names, **{x: {"b": b, "t": t}[x.name] for x in per_layer.free_symbols
                                           if x.name in ("b", "t")}})


@pytest.mark.parametrize("options, formula", KORTHIKANTI)
def test_the_gpt_layers_activations_are_korthikantis_formula(options, formula):
    assert sympy.simplify(_per_layer(**options) - formula) == 0


@pytest.mark.parametrize("options, formula", KORTHIKANTI)
def test_korthikantis_formula_at_numbers(options, formula):
    """GPT-3 175B's layer (Korthikanti et al. Table 3: s = 2048, h = 12288, a = 96) on 8 devices."""
    values = dict(L=96, d=12288, h=96, n_ctx=2048, V=51200)
    numeric = {k: (8 if v == "t" else v) for k, v in options.items()}
    one = zoo.load("gpt", **{**values, "L": 1}).training_memory(activations="megatron", batch=1, **numeric)
    two = zoo.load("gpt", **{**values, "L": 2}).training_memory(activations="megatron", batch=1, **numeric)
    assert two.activations - one.activations == formula.subs({s: 2048, b: 1, h: 12288, a: 96, t: 8})


def test_outside_the_layers_megatron_keeps_the_embedding_dropouts_mask_and_the_last_norms_and_projections_inputs():
    """Korthikanti et al. §4.3: s·b·h (the mask) + 2·s·b·h (the final norm) + 2·s·b·h (the output layer); the
    cross-entropy's 4·s·b·v is a loss's, which the notation does not hold."""
    net = zoo.load("gpt")
    memory = net.training_memory(activations="megatron", batch=1).activations
    rest = memory - net.symbols["L"] * sympy.diff(memory, net.symbols["L"])
    assert sympy.expand(rest - 5 * net.symbols["n_ctx"] * net.symbols["d"]) == 0


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("options, words", [
    (dict(optimizer="adagrad"), "unknown optimizer"), (dict(precision="fp8"), "unknown precision"),
    (dict(activations="jax"), "unknown activations"), (dict(zero=4), "ZeRO stage"),
    (dict(devices=0), "devices"), (dict(recompute="half"), "unknown recompute"),
    (dict(tensor_parallel=2), "activations='megatron'"), (dict(batch=0), "batch"),
    (dict(activations="megatron", tensor_parallel=3), "3 does not divide"),
    (dict(activations="megatron", tensor_parallel=2, sequence_parallel=True), "tokens, 7"),
    (dict(sequence_parallel="yes"), "true or false")])
def test_bad_settings_are_named(options, words):
    net = symcount.parse("input 7x16 tokens ln attn4 fc64 gelu fc16")
    with pytest.raises(SymcountError, match=words.replace("(", r"\(")):
        net.training_memory(**options)


@pytest.mark.parametrize("text, words", [
    ("input 8x16 tokens attn4[window=4]", "sliding window"),
    ("input 8x16 tokens attn4[causal, dropout=0.1]", "dropout on the probabilities"),
    ("input 8x16 tokens moe4[top=2](fc32 gelu fc16)", "mixture of experts"),
    ("input 4x8x8 lrn", "no rule for what lrn keeps")])
def test_what_pytorch_was_not_measured_for_is_refused_by_name(text, words):
    with pytest.raises(SymcountError, match=words):
        symcount.parse(text).training_memory()


def test_the_python_examples_in_llm_costs_print_what_they_show():
    """Every ```python block of docs/llm-costs.md, run as a doctest."""
    import doctest
    import re
    text = open(os.path.join(HERE, "..", "docs", "llm-costs.md"), encoding="utf-8").read()
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)
    assert len(blocks) >= 3
    globs = {}
    for block in blocks:
        test = doctest.DocTestParser().get_doctest(block, globs, "llm-costs.md", None, 0)
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
        runner.run(test, clear_globs=False)
        assert runner.summarize(verbose=False).failed == 0, block
        globs.update(test.globs)  # the blocks read as one session


def test_the_command_line_report_and_its_bad_settings(capsys):
    from symcount.cli import main
    assert main(["input 16 fc8 relu fc4", "-t", "sgd,fp32,b=2"]) == 0
    out = capsys.readouterr().out
    params = 16 * 8 + 8 + 8 * 4 + 4
    assert f"weights           {4 * params:,} bytes" in out
    assert "sgd, fp32: 4 + 4 + 0 bytes a parameter" in out
    for bad in ("sgd,rmsprop", "zero=5", "tp=x y", "sgd,sgd"):
        assert main(["input 16 fc8 relu fc4", "-t", bad]) == 2, bad
        assert "Traceback" not in capsys.readouterr().err
