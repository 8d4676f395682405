"""Differential tests: symcount against PyTorch (and brute force from the documented formulas).

One random spec is rendered twice: to notation (differential_models.render) and to an nn.Module
(differential_models.build). Every number asserted here comes from PyTorch, or from a brute-force
evaluation of the formulas in docs/conventions.md, never from symcount itself.

1. test_random_network (and test_known_network, fixed cases): params, activations, MACs and output
   shape of random multi-path networks, through the closed form, `subs`, `sweep` and a numeric parse,
   and agreement on which input sizes are refused (1×1, 2×2 and the smallest size PyTorch accepts too).
2. test_solve: every solution `solve` returns builds with the facts true, and every such point in the
   bounds is returned, under each rounding rule; test_sweep_on_solve_problems: `sweep` over the same
   bounds is valid exactly where the truth is; test_stride_zero: a stride of 0 is refused everywhere.
3. test_sweep_exact_huge: `sweep` returns the same exact ints and Fractions as `subs`, beyond 2**53 too.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="torch is the outside truth here; pip install torch==2.13.0")

import symcount  # noqa: E402
from differential_models import (FC, Adaptive, Branches, Conv, Deconv, Invalid, Pool, Repeat, Res,  # noqa: E402
                                 Simple, Width, measure, render)

torch.set_num_threads(1)  # tiny tensors: threads only cost time
# solve's bounds include 0 filters: PyTorch builds that Conv2d (with this warning), then refuses to run it
pytestmark = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op:UserWarning")

# Fixed budgets; one failure per test is shrunk and reported (no "explain" phase: it costs minutes)
SETTINGS = dict(deadline=None, derandomize=True, database=None, report_multiple_bugs=False,
                phases=(Phase.explicit, Phase.generate, Phase.shrink),
                suppress_health_check=[HealthCheck.too_slow])


# =============================================================================================
# 1. Random multi-path networks


@dataclass(frozen=True)
class Case:
    cin: int
    items: tuple
    C: int = 4                  # the value of the width symbol {C}
    extra: tuple = (7, 9)       # one more input size, drawn at random

    @property
    def env(self):
        return {"C": self.C}

    @property
    def uses_C(self):
        return "{" in render(self.items)

    def describe(self):
        return f"input {self.cin}xHxW, text {render(self.items)!r}, C={self.C}"


LITERALS = [Width(0, 4), Width(0, 6), Width(0, 8), Width(0, 12)]
SYMBOLIC = [Width(1, 0), Width(2, 0)]
ODD_KERNELS = [(1, 1), (3, 3), (5, 5), (1, 3), (3, 1), (3, 5)]
ANY_KERNELS = ODD_KERNELS + [(2, 2), (2, 3), (4, 4)]


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def draw_groups(draw, w, out, wrong_ok):
    """Groups dividing both channel counts; now and then (wrong_ok) one that does not."""
    if w.mul or out.mul:
        return 1
    good = divisors(math.gcd(w.add, out.add))
    bad = [g for g in (2, 3, 4) if w.add % g or out.add % g]
    if wrong_ok and bad and draw(st.integers(0, 11)) == 5:  # (Hypothesis favours 0: not 0)
        return draw(st.sampled_from(bad))
    return draw(st.sampled_from(good))


def draw_conv(draw, w, budget):
    """Any convolution: square or rectangular kernel, stride, explicit padding, dilation, groups, bias."""
    kh, kw = draw(st.sampled_from(ANY_KERNELS))
    out = draw(st.sampled_from(LITERALS + SYMBOLIC))
    stride = draw(st.sampled_from([(1, 1)] * 4 + [s for s in [(2, 2), (3, 3), (2, 1), (1, 2)] if max(s) <= budget]))
    pad = draw(st.sampled_from([None, (0, 0), None, (1, 1), (0, 1), None, (2, 2), (1, 0)]))
    dilation = draw(st.sampled_from([1, 1, 1, 2]))
    return Conv(kh, kw, out, stride, pad, dilation, draw_groups(draw, w, out, True), draw(st.booleans()))


def draw_pool(draw, budget):
    kind = draw(st.sampled_from(["max", "avg"]))
    k = draw(st.integers(1, 3))
    stride = draw(st.sampled_from([s for s in [None, 1, 2, 3] if (s or k) <= budget] or [1]))
    pad = draw(st.integers(0, k // 2))
    if draw(st.integers(0, 15)) == 7:
        pad = k // 2 + 1  # PyTorch refuses: "pad should be at most half of effective kernel size"
    return Pool(kind, k, stride, pad, draw(st.booleans()))


def draw_deconv(draw):
    k = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    return Deconv(k, draw(st.sampled_from(LITERALS + SYMBOLIC)), stride, draw(st.integers(0, k)),
                  draw(st.integers(0, stride - 1)), draw(st.booleans()))


def other_width(draw, w):
    """A width that differs from w whatever C is (so the structure alone decides a projection)."""
    if w.mul:
        return Width(w.mul, w.add + 2)
    return draw(st.sampled_from([x for x in LITERALS if x != w]))


def draw_family(draw, w, stride, out):
    """A chain whose every size is floor((i-1)/s)+1 per axis: odd kernels, half padding, the stride first.

    Branches built from it always agree on their spatial size, so a branch group is invalid only where
    a layer is."""
    if out == w and stride[0] == stride[1] and draw(st.integers(0, 3)) == 2:
        items = [Pool(draw(st.sampled_from(["max", "avg"])), 3, stride[0], 1)]
    else:
        kh, kw = draw(st.sampled_from(ODD_KERNELS))
        items = [Conv(kh, kw, out, stride, None, draw(st.sampled_from([1, 1, 2])),
                      draw_groups(draw, w, out, False), draw(st.booleans()))]
    for extra in draw(st.lists(st.sampled_from(["bn", "relu", "conv", "pool"]), max_size=2)):
        if extra == "conv":
            kh, kw = draw(st.sampled_from(ODD_KERNELS))
            items.append(Conv(kh, kw, out, bias=draw(st.booleans())))
        elif extra == "pool":
            items.append(Pool("max", 3, 1, 1))
        else:
            items.append(Simple(extra))
    return tuple(items)


def draw_stride(draw, budget):
    return draw(st.sampled_from([(1, 1), (1, 1)] + [s for s in [(2, 2), (2, 1)] if max(s) <= budget]))


def draw_item(draw, w, budget, depth):
    """One item on a C×H×W input of width w; returns (item, new width, stride used)."""
    kinds = ["conv", "pool", "deconv", "conv", "bn", "relu", "adaptive", "res"]
    if depth == 0:
        kinds = ["res", "cat", "pool", "add", "conv", "res_explicit", "repeat"] + kinds + ["repeat", "res", "cat"]
    kind = draw(st.sampled_from(kinds))
    if kind == "conv":
        item = draw_conv(draw, w, budget)
        return item, item.out, max(item.stride)
    if kind == "pool":
        item = draw_pool(draw, budget)
        return item, w, item.stride or item.k
    if kind == "deconv":
        item = draw_deconv(draw)
        return item, item.out, 1
    if kind == "adaptive":
        return (Simple("gap") if draw(st.booleans()) else Adaptive(draw(st.integers(1, 3)))), w, 1
    if kind in ("bn", "relu"):
        return Simple(kind), w, 1
    if kind == "repeat":
        body, w2, s = [], w, 1
        for _ in range(draw(st.integers(1, 2))):
            item, w2, s1 = draw_item(draw, w2, max(1, int(math.isqrt(budget // s))), depth + 1)
            body.append(item)
            s *= s1
        if any(isinstance(i, Res) for i in body) and w2 != w:
            # the second pass would feed the residual block another width, and whether that needs a
            # projection could depend on C (a ShapeError, docs/notation.md): come back to the input width
            body.append(Conv(1, 1, w))
            w2 = w
        return Repeat(tuple(body), 2), w2, s * s
    if kind == "res":
        # a strided body that keeps the width first: at a 1-pixel input its output has the input's shape,
        # and only the block's structure says that it takes a projection (docs/notation.md)
        strided = [s for s in [(2, 2), (2, 1)] if max(s) <= budget]
        shape = draw(st.sampled_from(["strided", "plain", "wider", "strided-wider"] if strided else ["plain", "wider"]))
        stride = draw(st.sampled_from(strided)) if shape.startswith("strided") else (1, 1)
        out = other_width(draw, w) if shape.endswith("wider") else w
        return Res(draw_family(draw, w, stride, out)), out, max(stride)
    stride = draw_stride(draw, budget)
    if kind == "res_explicit":
        out = draw(st.sampled_from([w, other_width(draw, w)]))
        shortcut = draw(st.sampled_from([
            (Conv(1, 1, out, stride, (0, 0), bias=False), Simple("bn")),
            draw_family(draw, w, stride, out),
            # a shortcut of another width: no size makes the sum valid
            (Conv(1, 1, other_width(draw, out), stride, (0, 0), bias=False),)]))
        return Res(draw_family(draw, w, stride, out), shortcut), out, max(stride)
    n = draw(st.integers(2, 3))
    if kind == "cat":
        branches = [draw_family(draw, w, stride, draw(st.sampled_from(LITERALS + SYMBOLIC))) for _ in range(n)]
        if stride == (1, 1) and draw(st.booleans()):
            branches[0] = ()  # the identity, as DenseNet's cat( | ...)
        total = width_of_cat(branches, w)
        return Branches("cat", tuple(branches)), total, max(stride)
    out = w if draw(st.booleans()) else draw(st.sampled_from(LITERALS + SYMBOLIC))
    branches = [draw_family(draw, w, stride, out) for _ in range(n)]
    if stride == (1, 1) and out == w and draw(st.booleans()):
        branches[0] = ()
    return Branches("add", tuple(branches)), out, max(stride)


def width_of_chain(items, w):
    for item in items:
        if isinstance(item, (Conv, Deconv)):
            w = item.out
    return w


def width_of_cat(branches, w):
    widths = [width_of_chain(b, w) for b in branches]
    return Width(sum(x.mul for x in widths), sum(x.add for x in widths))


HEADS = [(), (FC(Width(0, 10)),), (Simple("gap"), FC(Width(0, 10), bias=False)),
         (Simple("flatten"), FC(Width(1, 0))), (Adaptive(2), FC(Width(0, 6)), Simple("relu"), FC(Width(0, 3))),
         (FC(Width(0, 5)), Simple("bn"), Simple("relu"), FC(Width(0, 2)))]


@st.composite
def cases(draw):
    cin = draw(st.integers(1, 4))
    w, budget, items = Width(0, cin), 8, []
    for _ in range(draw(st.integers(2, 5))):
        item, w, s = draw_item(draw, w, budget, 0)
        items.append(item)
        budget = max(1, budget // s)
    items.extend(draw(st.sampled_from(HEADS)))
    return Case(cin, tuple(items), draw(st.integers(1, 6)), (draw(st.integers(1, 20)), draw(st.integers(1, 20))))


SQUARES = [(s, s) for s in range(1, 13)]
RECTS = [(1, 2), (2, 1), (1, 7), (6, 1), (2, 5), (3, 8), (9, 4), (16, 11)]


def as_number(x):
    """A SymPy (or plain) number as int or Fraction; anything else is returned as is, to fail loudly."""
    if isinstance(x, (int, Fraction)) and not isinstance(x, bool):
        return x
    try:
        if x.is_Integer:
            return int(x)
        if x.is_Rational:
            return Fraction(int(x.p), int(x.q))
    except AttributeError:
        pass
    return x


def figures(net):
    return (as_number(net.params), as_number(net.activations), as_number(net.macs),
            tuple(as_number(d) for d in net.output_shape))


def truth_figures(t):
    return (t.params, t.activations, t.macs, t.output_shape)


def attempt(what, fn):
    """fn() or the SymcountError it raised; any other exception fails the test."""
    try:
        return fn()
    except symcount.SymcountError as e:
        return e
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"{what} raised {type(e).__name__} (not a SymcountError): {e}")


def cross_check(case: Case):
    items, env = case.items, case.env
    where = case.describe()
    values = {"C": case.C} if case.uses_C else {}

    def truth_at(hw):
        try:
            return measure(items, (case.cin, *hw), env)
        except Invalid as e:
            return e

    truth = {hw: truth_at(hw) for hw in dict.fromkeys(SQUARES + RECTS + [case.extra])}
    for s in range(13, 41):  # make sure the smallest square PyTorch accepts is there, if below 41
        if any(not isinstance(t, Invalid) for hw, t in truth.items() if hw[0] == hw[1]):
            break
        truth[(s, s)] = truth_at((s, s))
    squares = sorted(hw for hw, t in truth.items() if hw[0] == hw[1] and not isinstance(t, Invalid))
    # (b) and (d) are slower: at 1x1, 2x2, 1x2, the smallest valid square, the one below it, rectangles
    probe = {(1, 1), (2, 2), (1, 2), case.extra, (9, 4), (3, 8)}
    if squares:
        s = squares[0][0]
        probe |= {(s, s), (s - 1, s - 1), (s, s + 1)}
    probe = sorted(hw for hw in probe if min(hw) >= 1)
    for hw in probe:
        if hw not in truth:
            truth[hw] = truth_at(hw)
    sizes = list(truth)
    valid = [hw for hw in sizes if not isinstance(truth[hw], Invalid)]

    net = attempt(f"parse({render(items)!r}, input='{case.cin}xHxW')",
                  lambda: symcount.parse(render(items), input=f"{case.cin}xHxW"))
    if isinstance(net, symcount.SymcountError):
        assert not valid, (f"{where}: symcount refuses the network for every input ({net}), "
                           f"but PyTorch builds it at H×W={valid[0]}: {truth_figures(truth[valid[0]])}")
    else:
        sym = net.symbols
        # (a) the closed form, at every size PyTorch accepts
        for hw in valid:
            point = {sym[k]: v for k, v in {"H": hw[0], "W": hw[1], **values}.items() if k in sym}
            at = (lambda e: as_number(e.subs(point)) if hasattr(e, "subs") else as_number(e))
            got = (at(net.params), at(net.activations), at(net.macs), tuple(at(d) for d in net.output_shape))
            assert got == truth_figures(truth[hw]), (
                f"{where}, at H×W={hw}: the closed form gives (params, activations, macs, output) {got}, "
                f"PyTorch {truth_figures(truth[hw])}")
        # (b) subs
        for hw in probe:
            kwargs = {k: v for k, v in {"H": hw[0], "W": hw[1], **values}.items() if k in sym}
            got = attempt(f"{where}: net.subs(**{kwargs})", lambda: net.subs(**kwargs))
            if isinstance(truth[hw], Invalid):
                assert isinstance(got, symcount.SymcountError), (
                    f"{where}: net.subs(**{kwargs}) accepts a size PyTorch refuses ({truth[hw]}), "
                    f"giving {figures(got)}")
            else:
                assert not isinstance(got, symcount.SymcountError), (
                    f"{where}: net.subs(**{kwargs}) refuses ({got}); PyTorch gives {truth_figures(truth[hw])}")
                assert figures(got) == truth_figures(truth[hw]), (
                    f"{where}: net.subs(**{kwargs}) gives {figures(got)}, PyTorch {truth_figures(truth[hw])}")
        # (c) sweep, every size in one call
        if "H" in sym and "W" in sym:
            columns = {"H": [hw[0] for hw in sizes], "W": [hw[1] for hw in sizes],
                       **{k: v for k, v in values.items() if k in sym}}
            swept = attempt(f"{where}: sweep", lambda: net.sweep(**columns))
            assert not isinstance(swept, symcount.SymcountError), f"{where}: sweep raised {swept}"
            for i, hw in enumerate(sizes):
                t = truth[hw]
                if isinstance(t, Invalid):
                    assert not swept["valid"][i], (
                        f"{where}: sweep says valid at H×W={hw} (params {swept['params'][i]}), "
                        f"where PyTorch refuses: {t}")
                else:
                    got = (swept["valid"][i],) + tuple(as_number(swept[k][i])
                                                       for k in ("params", "activations", "macs"))
                    assert got == (True, t.params, t.activations, t.macs), (
                        f"{where}: sweep at H×W={hw} gives (valid, params, activations, macs) {got}, "
                        f"PyTorch {(True, t.params, t.activations, t.macs)}")

    # (d) a numeric parse, the widths written as numbers
    text = render(items, env)
    for hw in probe:
        shape = f"{case.cin}x{hw[0]}x{hw[1]}"
        got = attempt(f"parse({text!r}, input={shape!r})", lambda: symcount.parse(text, input=shape))
        if isinstance(truth[hw], Invalid):
            assert isinstance(got, symcount.SymcountError), (
                f"parse({text!r}, input={shape!r}) accepts a size PyTorch refuses ({truth[hw]}), "
                f"giving {figures(got)}")
        else:
            assert not isinstance(got, symcount.SymcountError), (
                f"parse({text!r}, input={shape!r}) refuses ({got}); PyTorch gives {truth_figures(truth[hw])}")
            assert figures(got) == truth_figures(truth[hw]), (
                f"parse({text!r}, input={shape!r}) gives {figures(got)}, PyTorch {truth_figures(truth[hw])}")


L = Width  # short, for the examples


# Fixed cases: the known defects, and forms the generator reaches only rarely
KNOWN_CASES = {
    "projection-on-1x1": Case(8, (Res((Conv(3, 3, L(0, 8), (2, 2)), Simple("bn"))),)),
    "groups-not-dividing-6": Case(6, (Conv(3, 3, L(0, 8), groups=4),)),
    "groups-not-dividing-C": Case(4, (Conv(3, 3, L(1, 0), groups=2), Simple("relu")), C=3),
    "pool-pad-over-half": Case(3, (Pool("max", 3, 2, 2),)),
    "ceil-mode-on-1x1": Case(3, (Pool("max", 3, 3, 0, ceil=True), Pool("avg", 3, 2, 1, ceil=True))),
    "deconv-empty": Case(3, (Deconv(4, L(0, 4), 1, 2), Deconv(3, L(0, 4), 2, 1, 1))),
    "deconv-output-padding-not-below-stride": Case(3, (Deconv(3, L(0, 4), 2, 1, 2),)),
    "symbolic-width-projection": Case(3, (Conv(1, 1, L(1, 0)), Res((Conv(3, 3, L(1, 2), (2, 2)), Simple("bn"),
                                                                     Simple("relu"), Conv(3, 3, L(1, 2)),
                                                                     Simple("bn"))),
                                          Simple("gap"), FC(L(0, 10))), C=5),
    "strided-repeat": Case(3, (Repeat((Conv(3, 3, L(0, 8), (2, 2)),), 2), Repeat((Pool("max", 3, 2, 1),), 2),
                               Repeat((Conv(1, 3, L(1, 0), bias=False),), 2), Repeat((Simple("relu"),), 2))),
    "multi-path": Case(2, (Branches("cat", ((), (Conv(1, 3, L(0, 4)), Simple("bn")),
                                            (Pool("avg", 3, 1, 1), Conv(3, 3, L(0, 6), dilation=2)))),
                           Repeat((Conv(3, 3, L(0, 4), bias=False),), 2),
                           Branches("add", ((Conv(3, 1, L(0, 4), (2, 1)),),
                                            (Conv(1, 1, L(0, 4), (2, 1), (0, 0)),))),
                           Res((Conv(3, 3, L(0, 4)), Simple("relu")),
                               (Conv(1, 1, L(0, 4), bias=False), Simple("bn"))))),
}


@pytest.mark.parametrize("case", KNOWN_CASES.values(), ids=KNOWN_CASES.keys())
def test_known_network(case):
    cross_check(case)


@settings(max_examples=150, **SETTINGS)
@given(case=cases())
def test_random_network(case):
    cross_check(case)


# =============================================================================================
# 2. solve: small problems with a known answer


@dataclass(frozen=True)
class SLayer:
    """A convolution or pooling layer of a solve problem; stride, pad and out may be symbol names."""
    kind: str                 # "conv", "max", "avg"
    k: int
    stride: object = 1        # int, or "s"
    pad: object = 0           # int, or "p"
    out: object = None        # conv only: int, or "C"
    groups: int = 1

    def text(self):
        brace = (lambda v: f"{{{v}}}" if isinstance(v, str) else str(v))
        opts = [f"pad={brace(self.pad)}"]
        if self.kind == "conv":
            opts += [f"groups={self.groups}"] if self.groups != 1 else []
            return f"conv{self.k}-{brace(self.out)}/{brace(self.stride)}[{', '.join(opts)}]"
        return f"{self.kind}pool{self.k}/{brace(self.stride)}[{', '.join(opts)}]"

    def at(self, values, ceil=False):
        """The concrete layer, as differential_models.Conv / Pool."""
        v = (lambda x: values[x] if isinstance(x, str) else x)
        if self.kind == "conv":
            p = v(self.pad)
            return Conv(self.k, self.k, Width(0, v(self.out)), (v(self.stride),) * 2, (p, p), groups=self.groups)
        return Pool(self.kind, self.k, v(self.stride), v(self.pad), ceil)


@dataclass(frozen=True)
class Problem:
    rounding: str
    cin: int
    size: object              # int, or "S"
    layers: tuple
    bounds: tuple             # ((name, lo, hi), ...)

    def text(self):
        return " ".join(layer.text() for layer in self.layers)

    def input(self):
        return f"{self.cin}x{self.size}x{self.size}"

    def points(self):
        names = [b[0] for b in self.bounds]
        grids = [range(lo, hi + 1) for _, lo, hi in self.bounds]
        return names, [dict(zip(names, combo)) for combo in itertools.product(*grids)]


def out_size(i, k, s, p, rule):
    """One axis' output size by the formulas of docs/conventions.md (exact Fractions throughout)."""
    span = Fraction(i) + 2 * p - k
    if rule == "floor":
        return math.floor(span / s) + 1
    if rule == "exact":
        return span / s + 1
    if rule in ("ceil", "caffe"):  # the last window dropped if it starts in the padding (Caffe: if it pads)
        o = math.ceil(span / s) + 1
        return o - 1 if (rule == "ceil" or p > 0) and (o - 1) * s >= i + p else o
    raise ValueError(rule)


@dataclass
class Brute:
    layers: list              # (C, h, w) per layer
    params: int
    macs: object              # int, or a Fraction under exact
    activations: object


def brute_force(problem, values):
    """The chain evaluated by hand; where a rule documented after PyTorch's refuses it, the reason (a str)."""
    v = (lambda x: values[x] if isinstance(x, str) else x)
    size = v(problem.size)
    if size < 1:
        return f"input size {size}"
    c, h, layers, params, macs = problem.cin, Fraction(size), [], 0, 0
    for layer in problem.layers:
        s, p = v(layer.stride), v(layer.pad)
        if s < 1:
            return f"{layer.text()}: stride {s}"             # "non-positive stride is not supported"
        if layer.kind == "conv":
            out = v(layer.out)
            if out < 1:
                return f"{layer.text()}: {out} filters"
            if c % layer.groups or out % layer.groups:       # "... must be divisible by groups"
                return f"{layer.text()}: groups {layer.groups} do not divide {c} -> {out} channels"
        elif p > layer.k // 2:                               # "pad should be at most half of ... kernel size"
            return f"{layer.text()}: pooling pad {p} > k//2 = {layer.k // 2}"
        h = out_size(h, layer.k, s, p, problem.rounding)
        if h < 1:                                            # "Output size is too small"
            return f"{layer.text()}: output size {h} < 1"
        if layer.kind == "conv":
            params += layer.k * layer.k * c // layer.groups * out + out
            macs += h * h * out * layer.k * layer.k * (c // layer.groups)
            c = out
        layers.append((c, h, h))
    return Brute(layers, params, macs, sum(c * h * w for c, h, w in layers))


def torch_truth(problem, values):
    """PyTorch's own answer where it has the rule, else None: floor, and ceil where every convolution
    gives what floor gives (stride 1, padding below the kernel), pooling taking ceil_mode."""
    if problem.rounding not in ("floor", "ceil"):
        return None
    items = [layer.at(values, ceil=problem.rounding == "ceil") for layer in problem.layers]
    if problem.rounding == "ceil" and any(isinstance(i, Conv) and (i.stride != (1, 1) or i.pad[0] >= i.kh)
                                          for i in items):
        return None
    size = values.get("S", problem.size)
    if size < 1:
        return "invalid"
    try:
        return measure(items, (problem.cin, size, size), {})
    except Invalid:
        return "invalid"


@st.composite
def problems(draw):
    rounding = draw(st.sampled_from(["floor", "ceil", "exact", "caffe"]))
    roles = draw(st.lists(st.sampled_from(["p", "s", "C", "S"]), min_size=1, max_size=2, unique=True))
    cin = draw(st.sampled_from([1, 2, 3, 4, 6]))
    kinds = draw(st.lists(st.sampled_from(["conv", "max", "avg"]), min_size=1, max_size=3))
    if "C" in roles and "conv" not in kinds:
        kinds[0] = "conv"
    layers, c = [], cin
    for kind in kinds:
        k = draw(st.integers(1, 3) if kind != "conv" else st.sampled_from([1, 3, 5]))
        stride = draw(st.integers(1, 3))
        pad = draw(st.integers(0, k // 2))
        if kind == "conv":
            out = draw(st.sampled_from([2, 4, 6]))
            groups = draw(st.sampled_from([g for g in (1, 2, 3) if c % g == 0]))
            if out % groups:
                out = groups * 2
            layers.append(SLayer("conv", k, stride, pad, out, groups))
            c = out
        else:
            layers.append(SLayer(kind, k, stride, pad))
    # put each unknown on one (or, for p and s, on every eligible) layer
    for role in roles:
        eligible = [i for i, layer in enumerate(layers)
                    if role in ("p", "s") or layer.kind == "conv"]
        if role != "S" and not eligible:
            continue
        if role in ("p", "s"):
            chosen = draw(st.lists(st.sampled_from(eligible), min_size=1, unique=True))
        elif role == "C":
            chosen = [draw(st.sampled_from(eligible))]
        else:
            chosen = []
        for i in chosen:
            field_ = {"p": "pad", "s": "stride", "C": "out"}[role]
            layers[i] = SLayer(**{**layers[i].__dict__, field_: role})
    present = {v for layer in layers for v in (layer.stride, layer.pad, layer.out) if isinstance(v, str)}
    size = "S" if "S" in roles or not present else draw(st.integers(4, 16))
    present |= {"S"} if size == "S" else set()
    # stride 0 is left to test_stride_zero, so that it does not hide everything else here
    wide = {"p": (0, 4), "s": (1, 4), "C": (0, 8), "S": (0, 16)}
    bounds = tuple((name, *wide[name]) for name in sorted(present))
    return Problem(rounding, cin, size, tuple(layers), bounds)


def fact_candidates(problem, b: Brute):
    """Facts a paper might state, read off the truth at the chosen point."""
    facts, conv = [], 0
    for row, (layer, (c, h, w)) in enumerate(zip(problem.layers, b.layers), start=1):
        if Fraction(h).denominator != 1:
            continue  # a fractional size (exact rounding) has no plain fact
        h, w = int(h), int(w)
        if layer.kind == "conv":
            conv += 1
            facts.append(f"conv{conv}={h}x{w}")
            facts.append(f"conv{conv}.output={c}x{h}x{w}")
        else:
            facts.append(f"{row}={h}x{w}")
    facts.append(f"params={b.params}")
    if Fraction(b.macs).denominator == 1:
        facts.append(f"macs={int(b.macs)}")
    return facts


def fact_holds(problem, b: Brute, fact):
    what, value = fact.split("=")
    if what in ("params", "macs"):
        return getattr(b, what) == int(value)
    dims = tuple(int(x) for x in value.split("x"))
    if what.isdigit():
        row = int(what) - 1
    else:
        name = what.partition(".")[0]
        convs = [i for i, layer in enumerate(problem.layers) if layer.kind == "conv"]
        row = convs[int(name[4:]) - 1]
    shape = b.layers[row]
    return tuple(shape if "." in what else shape[1:]) == dims


@settings(max_examples=150, **SETTINGS)
@given(problem=problems(), data=st.data())
def test_solve(problem, data):
    """Facts read off the truth at one point; solve must return exactly the points where they hold."""
    names, points = problem.points()
    truth = {}
    for point in points:
        b = brute_force(problem, point)
        t = torch_truth(problem, point)
        if t is not None:  # the brute force is the test's own: hold it to PyTorch wherever PyTorch has the rule
            assert (t == "invalid") == (not isinstance(b, Brute)), (
                f"test bug: brute force and PyTorch disagree on validity of {problem.text()} at {point}")
            if isinstance(b, Brute):
                assert [tuple(x) for x in t.layers] == [tuple(int(d) for d in x) for x in b.layers], (
                    f"test bug: brute force {b.layers} vs PyTorch {t.layers} at {point}")
                assert (t.params, t.macs, t.activations) == (b.params, b.macs, b.activations), (
                    f"test bug: params/MACs/activations at {point}")
        truth[tuple(point.values())] = b
    valid = [key for key, b in truth.items() if isinstance(b, Brute)]
    if not valid:
        return
    chosen = data.draw(st.sampled_from(valid), label="the known answer")
    candidates = fact_candidates(problem, truth[chosen])
    facts = data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique=True), label="facts")
    expected = {key for key, b in truth.items()
                if isinstance(b, Brute) and all(fact_holds(problem, b, f) for f in facts)}
    assert chosen in expected

    where = (f"parse({problem.text()!r}, input={problem.input()!r}, rounding={problem.rounding!r})"
             f".solve({facts}, bounds={ {n: f'{lo}..{hi}' for n, lo, hi in problem.bounds} })")
    net = attempt(where, lambda: symcount.parse(problem.text(), input=problem.input(), rounding=problem.rounding))
    assert not isinstance(net, symcount.SymcountError), f"{where}: parse raised {net}"
    result = attempt(where, lambda: net.solve(facts, {n: range(lo, hi + 1) for n, lo, hi in problem.bounds}))
    assert not isinstance(result, symcount.SymcountError), f"{where}: raised {result}"
    got = {tuple(as_number(s[n]) for n in names) for s in result.solutions}
    wrong = sorted(got - expected)
    missing = sorted(expected - got)
    explain = (lambda key: f"refused: {truth[key]}" if not isinstance(truth.get(key), Brute) else
               "facts do not hold: " + ", ".join(f for f in facts if not fact_holds(problem, truth[key], f)))
    assert not wrong and not missing, (
        f"{where} over {names}: returned {sorted(got)}; expected {sorted(expected)}. "
        + (f"Wrong: {[(k, explain(k)) for k in wrong[:5]]}. " if wrong else "")
        + (f"Missing: {missing[:10]}." if missing else ""))


@settings(max_examples=150, **SETTINGS)
@given(problem=problems())
def test_sweep_on_solve_problems(problem):
    """sweep over every point of a solve problem's bounds: valid exactly where the truth is, exact values."""
    names, points = problem.points()
    truth = [brute_force(problem, point) for point in points]
    where = f"parse({problem.text()!r}, input={problem.input()!r}, rounding={problem.rounding!r})"
    net = attempt(where, lambda: symcount.parse(problem.text(), input=problem.input(), rounding=problem.rounding))
    if isinstance(net, symcount.SymcountError):  # refused whatever the symbols: right only if nothing is valid
        valid = [p for p, b in zip(points, truth) if isinstance(b, Brute)]
        assert not valid, f"{where}: parse raised {net}, but the network is valid at {valid[0]}"
        return
    columns = {n: [p[n] for p in points] for n in names}
    swept = attempt(f"{where}.sweep({columns})", lambda: net.sweep(**columns))
    assert not isinstance(swept, symcount.SymcountError), f"{where}.sweep raised {swept}"
    for i, (point, b) in enumerate(zip(points, truth)):
        if not isinstance(b, Brute):
            assert not swept["valid"][i], f"{where}.sweep at {point}: valid, but refused: {b}"
            continue
        got = {k: swept[k][i] for k in ("valid", "params", "macs", "activations")}
        want = {"valid": True, "params": b.params, "macs": b.macs, "activations": b.activations}
        assert got == want and all(type(got[k]) in (int, Fraction) for k in ("params", "macs", "activations")), (
            f"{where}.sweep at {point}: {got}, expected {want} (exact ints or Fractions)")


# (notation with a symbolic stride, input, the same layer in PyTorch at stride s)
STRIDE_ZERO = [("conv1-2/{s}", (1, 1, 1), lambda s: torch.nn.Conv2d(1, 2, 1, stride=s)),   # size free of s
               ("conv3-4/{s}[pad=0]", (2, 9, 9), lambda s: torch.nn.Conv2d(2, 4, 3, stride=s)),
               ("maxpool2/{s}", (1, 8, 8), lambda s: torch.nn.MaxPool2d(2, s))]


@pytest.mark.parametrize("rounding", ["floor", "ceil", "exact", "caffe"])
@pytest.mark.parametrize("text, shape, layer", STRIDE_ZERO, ids=[t for t, _, _ in STRIDE_ZERO])
def test_stride_zero(text, shape, layer, rounding):
    """PyTorch refuses a stride of 0 ("non-positive stride is not supported", "stride should not be zero"):
    subs refuses it, sweep marks it invalid (no ZeroDivisionError) and solve never returns it."""
    with pytest.raises(RuntimeError):
        layer(0)(torch.zeros(1, *shape))
    h, w = layer(1)(torch.zeros(1, *shape)).shape[2:]   # every rounding rule agrees at stride 1
    shape_text = "x".join(map(str, shape))
    where = f"parse({text!r}, input={shape_text!r}, rounding={rounding!r})"
    net = symcount.parse(text, input=shape_text, rounding=rounding)
    faults = []  # all three checked, so one does not hide another
    got = attempt(f"{where}.subs(s=0)", lambda: net.subs(s=0))
    if not isinstance(got, symcount.SymcountError):
        faults.append(f"subs(s=0) accepts stride 0: {figures(got)}")
    try:
        swept = net.sweep(s=[0, 1])
        if swept["valid"] != [False, True]:
            faults.append(f"sweep(s=[0, 1]) gives valid {swept['valid']}")
    except Exception as e:  # noqa: BLE001
        faults.append(f"sweep(s=[0, 1]) raised {type(e).__name__}: {e}")
    fact = f"1={h}x{w}"
    result = attempt(f"{where}.solve", lambda: net.solve([fact], {"s": range(0, 3)}))
    if isinstance(result, symcount.SymcountError):
        faults.append(f"solve raised {result}")
    elif not any(s["s"] == 1 for s in result.solutions) or any(s["s"] == 0 for s in result.solutions):
        faults.append(f"solve([{fact!r}], bounds={{'s': 0..2}}) returns {result.solutions}: "
                        f"stride 1 must be there, stride 0 must not")
    assert not faults, f"{where}: " + "; ".join(faults)


# =============================================================================================
# 3. sweep against subs: exact at huge values and under exact rounding


HUGE = st.integers(2 ** 53 + 1, 10 ** 20)


def huge_text(stride):
    return f"conv3-{{N}}/{stride}[pad=0, bias=false] relu conv1-8 gap fc{{N}}"


def huge_truth(N, H, W, s, rule):
    """huge_text on a 3×H×W input, by the formulas of docs/conventions.md; None where a size is < 1."""
    oh, ow = out_size(H, 3, s, 0, rule), out_size(W, 3, s, 0, rule)
    if oh < 1 or ow < 1:
        return None
    weights = 27 * N + 8 * N + 8 * N           # conv3 (3 -> N, no bias), conv1 (N -> 8), fc (8 -> N)
    biases = 8 + N
    return {"weights": weights, "biases": biases, "params": weights + biases, "non_trainable": 0,
            "activations": 2 * N * oh * ow + 8 * oh * ow + 8 + N,
            "macs": oh * ow * N * 27 + oh * ow * 8 * N + 8 * N}


@settings(max_examples=25, **SETTINGS)
@given(N=st.one_of(st.just(10 ** 17 + 1), HUGE), rounding=st.sampled_from(["floor", "exact"]),
       s=st.integers(1, 4), symbolic_stride=st.booleans(),
       sizes=st.lists(st.tuples(st.one_of(st.integers(1, 12), HUGE), st.one_of(st.integers(1, 12), HUGE)),
                      min_size=1, max_size=4))
def test_sweep_exact_huge(N, rounding, s, symbolic_stride, sizes):
    sizes = [(2, 2), (3, 7), (2 ** 60 + 1, 5)] + sizes  # (2, 2): size 1/2 under exact, 0 under floor
    text = huge_text("{s}" if symbolic_stride else s)
    values = {"N": N, **({"s": s} if symbolic_stride else {})}
    where = f"parse({text!r}, input='3xHxW', rounding={rounding!r}) with {values}"
    net = symcount.parse(text, input="3xHxW", rounding=rounding)
    swept = attempt(f"{where}.sweep", lambda: net.sweep(H=[h for h, _ in sizes], W=[w for _, w in sizes], **values))
    assert not isinstance(swept, symcount.SymcountError), f"{where}.sweep raised {swept}"
    for i, (h, w) in enumerate(sizes):
        want = huge_truth(N, h, w, s, rounding)
        at = f"{where}, at H={h}, W={w}"
        subs = attempt(f"{at}: subs", lambda: net.subs(H=h, W=w, **values))
        if want is None:
            assert isinstance(subs, symcount.SymcountError), (
                f"{at}: subs accepts it (output {getattr(subs, 'output_shape', '?')}), "
                f"but conv1's size {out_size(h, 3, s, 0, rounding)}×{out_size(w, 3, s, 0, rounding)} is below 1")
            assert not swept["valid"][i], f"{at}: sweep says valid, but a size is below 1"
            continue
        assert not isinstance(subs, symcount.SymcountError), f"{at}: subs refuses ({subs})"
        assert swept["valid"][i] is True, f"{at}: sweep says invalid"
        for key, value in want.items():
            got = swept[key][i]
            assert type(got) in (int, Fraction) and got == value, (
                f"{at}: sweep's {key} is {got!r} ({type(got).__name__}), expected exactly {value!r}")
            assert as_number(getattr(subs, key)) == value, (
                f"{at}: subs's {key} is {getattr(subs, key)}, expected {value}")
