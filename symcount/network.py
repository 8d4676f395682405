"""A parsed network evaluated on an input shape: per-layer rows and closed-form totals.

symcount.builder walks the spec into rows; a Network holds them with its totals, and
substitutes, sweeps, solves, counts and renders.
"""
from __future__ import annotations

from dataclasses import replace
from functools import cached_property

from symcount import algebra as al
from symcount.analyses import receptive as rf
from symcount.builder import Builder
from symcount.collector import paused
from symcount.fragments import substitute
from symcount.errors import LimitError, ShapeError, SymbolError, SymcountError
from symcount.layers.kinds import Defaults
from symcount.layers.requirements import LayerProblem, Needs
from symcount.layers.result import SPATIAL_SHAPES, layout, like
from symcount.notation.parse import parse_notation, parse_shape
from symcount.notation.spec import INPUT_CHANNELS, NetworkSpec, symbol, symbols_in
from symcount.rows import QUANTITIES, fold, format_shape, named, side_heads
from symcount.given import as_shape, as_value, network_defaults
from symcount.shown import shown

Expr = object  # an Int, a Rat or a SymPy expression (symcount.algebra)

def _free_symbols(spec: NetworkSpec, shape, defaults: Defaults) -> set:
    """The network's symbols: the text's, the input's and a default padding's (--padding {p})."""
    found = symbols_in((tuple(shape), defaults.padding), set(spec.free_symbols))
    return found - {symbol(INPUT_CHANNELS)} if found else found  # {in} is each layer's own input, not the network's symbol


DEFAULT_INPUT = "CxHxW"
MAX_SYMBOLS = 100  # distinct symbols of the layers (the input has its own); papers use a handful


class Network:
    """A network evaluated on its input: rows, totals, substitution and sweeps.

    Build it with :func:`symcount.parse`.  Counts of a numeric input are exact Python
    integers (symcount.algebra.Int, an int that also answers as SymPy's Integer does);
    otherwise SymPy closed forms, with the floors of the output-size rule.
    """

    def __init__(self, spec: NetworkSpec, input_shape: tuple, defaults: Defaults = Defaults(), mapping=None,
                 input_from_text: bool = False):
        with paused():
            self._build(spec, input_shape, defaults, mapping, input_from_text)

    def _build(self, spec, input_shape, defaults, mapping, input_from_text):
        self.spec = spec
        self.defaults = defaults
        self._input_from_text = input_from_text  # the text's `input` line: its errors point there
        mapping = dict(mapping or {})
        self.input_shape = like(input_shape, (al.exact(d)
                                              for d in substitute(input_shape, mapping)))
        self._mapping = mapping
        self.symbols = {s.name: s for s in sorted(_free_symbols(spec, input_shape, defaults), key=lambda s: s.name)
                        if s not in mapping}
        written = set(self.symbols.values()) - symbols_in(tuple(self.input_shape))  # the input's may be check's own
        if len(written) > MAX_SYMBOLS:
            raise LimitError(f"{len(written):,} symbols in the layers; at most {MAX_SYMBOLS} (each new symbol is "
                             "slow for SymPy, and every analysis takes a value for each)")
        padding = defaults.padding if isinstance(defaults.padding, str) else substitute(defaults.padding, mapping)
        builder = Builder(spec, replace(defaults, padding=padding), mapping)
        builder.requirements.extend(self._check_input())
        builder.field = rf.start(self.input_shape)
        builder.flow.new(self.input_shape, ids=layout(self.input_shape) == "ids")
        self.output_shape = builder.items(spec.items, self.input_shape)
        builder.finish()
        self.layers, self.blocks = named(builder.rows, builder.shapes)
        self.flow = builder.flow  # which tensor each row reads (symcount.flow)
        self.heads = side_heads(builder.rows, self.layers)  # side(...): each head's rows and subtotal
        self.assumptions = tuple(substitute(a, mapping) for a in builder.assumptions)
        self.folds = tuple(fold for fold in (substitute(f, mapping) for f in builder.folds) if fold.is_Relational)
        kept = {}  # one requirement per (expression, test): the first layer to need it says why
        for requirement in builder.requirements:
            requirement = replace(requirement, expression=substitute(requirement.expression, mapping))
            kept.setdefault((requirement.expression, requirement.test), requirement)
        self.requirements = tuple(kept.values())

    def _check_input(self) -> list:
        """The input's own requirements: C×L, C×H×W, C×D×H×W or N, each a whole number >= 1."""
        span = self.spec.input_span if self._input_from_text else None
        place = {} if span is None else dict(source=self.spec.source, line=span.line, column=span.column,
                                             width=span.end - span.start)
        if not 1 <= len(self.input_shape) <= 4:
            raise ShapeError(f"an input is {SPATIAL_SHAPES}, a flat N or tokens (N ids, N×D), got {format_shape(self.input_shape)}",
                             **place)
        needs = Needs()
        try:
            for dim in self.input_shape:
                message = f"input dimensions must be whole numbers > 0, got {format_shape(self.input_shape)}"
                needs.require(dim, "whole", message)
                needs.require(dim - 1, "nonnegative", message)
        except LayerProblem as problem:
            raise ShapeError(str(problem), **place) from None
        return needs.open

    # ------------------------------------------------------------ totals
    def _total(self, quantity: str) -> Expr:
        with paused():
            total = al.Add(*[getattr(row, quantity) for row in self.layers])
            return shown(total if total.is_number else al.expand(total))

    @cached_property
    def weights(self) -> Expr:
        return self._total("weights")

    @cached_property
    def biases(self) -> Expr:
        return self._total("biases")

    @cached_property
    def params(self) -> Expr:
        """Trainable parameters: weights + biases (BatchNorm running statistics apart)."""
        return self._total("params")

    @cached_property
    def active_params(self) -> Expr:
        """The parameters one token's forward pass touches: all of them but the experts of a
        mixture of experts that the token is not routed to (equal to params without one)."""
        return self._total("active_params")

    @cached_property
    def non_trainable(self) -> Expr:
        return self._total("non_trainable")

    @cached_property
    def activations(self) -> Expr:
        """Sum of every layer's output elements (the input is not counted)."""
        return self._total("activations")

    @cached_property
    def macs(self) -> Expr:
        """Multiply-accumulates of convolutions and fully connected layers (no bias)."""
        return self._total("macs")

    def totals(self, named: bool = False) -> dict:
        """Every total; named=True writes them in the named sizes (net.sizes)."""
        return {q: self.named_total(q) if named else getattr(self, q) for q in QUANTITIES}

    @property
    def summary(self):
        """The totals as a notebook shows them, in the named sizes and as HTML math that needs
        no network: a read-only mapping, summary["params"] is net.params (symcount.render.summary)."""
        from symcount.render.summary import Totals
        return Totals(self)

    @cached_property
    def sizes(self):
        """The spatial sizes with a rounding in them, each named once and defined in the
        input's symbols: {H_1: floor(H/2), ..., H_5: floor(H/32)} (a Mapping; its
        .named(expr) writes any expression in these names, .defined(expr) undoes it)."""
        from symcount.analyses.sizes import of_network
        return of_network(self)

    def named_total(self, quantity: str) -> Expr:
        """A total in the named sizes: 2097152*H_5*W_5 + 35597096 for VGG-16's params."""
        if quantity not in QUANTITIES:
            raise SymcountError(f"unknown quantity {quantity!r}; choose one of {', '.join(QUANTITIES)}")
        total = getattr(self, quantity)
        if total.is_number or not self.sizes:
            return total
        from symcount.analyses.sizes import named_total
        return shown(named_total(self.sizes, self.layers, quantity))

    @property
    def is_symbolic(self) -> bool:
        return bool(self.symbols)

    # ------------------------------------------------------------ evaluation
    def check_names(self, names) -> None:
        """Raise SymbolError for a name that is not one of this network's symbols."""
        unknown = [name for name in names if name not in self.symbols]
        if unknown:
            known = ", ".join(self.symbols) or "none"
            raise SymbolError(f"unknown symbol {', '.join(unknown)}; this network's symbols: {known}")

    def values(self, /, **values) -> dict:
        """Check `name=value` pairs against this network's symbols: {Symbol: expression}."""
        self.check_names(values)
        return {self.symbols[name]: as_value(value, name) for name, value in values.items()}

    def subs(self, /, **values) -> "Network":
        """The network evaluated at `name=value` (re-checked layer by layer)."""
        mapping = {**self._mapping, **self.values(**values)}
        return Network(self.spec, self.input_shape, self.defaults, mapping, self._input_from_text)

    def sweep(self, /, **columns) -> dict:
        """Totals for many values at once: net.sweep(H=range(32, 1025, 32), W=...)."""
        from symcount.analyses.sweep import sweep
        return sweep(self, **columns)

    # ------------------------------------------------------------ integrality
    def exactly(self, input_shape=None) -> "Network":
        """This network with every sliding window evaluated in exact arithmetic (rationals
        kept, the layers' own round/ceil options ignored), optionally on another input."""
        exact = replace(self.defaults, conv="exact", pool="exact", forced=True)
        shape = self.input_shape if input_shape is None else input_shape
        return Network(self.spec, shape, exact, self._mapping, self._input_from_text and input_shape is None)

    def check(self):
        """Fractional sizes, per-layer congruences and every integral input size
        (a symcount.analyses.integrality.CheckResult)."""
        from symcount.analyses.integrality import check
        return check(self)

    def valid_sizes(self, /, **values) -> list:
        """The values of one spatial input symbol that make every layer integral:
        net.valid_sizes(S=range(100, 400))."""
        from symcount.analyses.integrality import valid_sizes
        return valid_sizes(self, **values)

    def smallest_valid(self, /, **at_least) -> int:
        """The smallest such value >= the one given: net.smallest_valid(S=224)."""
        from symcount.analyses.integrality import smallest_valid
        return smallest_valid(self, **at_least)

    def solve(self, facts, bounds=None):
        """Every integer assignment of the symbols within bounds ({"p": range(0, 8)};
        default 0..1024) that meets every fact ("conv1=55x55", "params=60965224")."""
        from symcount.analyses.solve import solve
        return solve(self, facts, bounds)

    # ------------------------------------------------------------ conventions
    def ops(self, convention: str = "macs", backward: bool = False, **switches) -> Expr:
        """The headline figure of a counter: net.ops("torchinfo"), net.ops("torch"),
        net.ops("thop", bias=True).  Presets: macs (the default), torchinfo, fvcore, thop,
        fvcore_train, ptflops, deepspeed, deepspeed_flops, calflops, calflops_flops, torch
        (FlopCounterMode); switches: unit, bias, activations, pooling, normalization, fold_bn,
        functional (docs/conventions.md).
        backward=True adds an estimate of the backward pass, twice the forward."""
        from symcount.analyses.conventions import convention as chosen
        from symcount.analyses.conventions import count
        total = count(self, chosen(convention, **switches))[1]
        return shown(3 * total if backward else total)

    def kv_cache(self, dtype: str = "float16"):
        """Bytes of the KV cache of one sequence (a formula in its length where that is a symbol)."""
        from symcount.analyses.serving import serving
        return serving(self, dtype).cache_bytes

    def serving(self, dtype: str = "float16", batch=1):
        """The KV cache per sequence, the weights, and the weights with B sequences' caches, in bytes
        (symcount.analyses.serving)."""
        from symcount.analyses.serving import serving
        return serving(self, dtype, batch)

    def decoding_macs(self, length: str = "T"):
        """MACs of decoding the token at position T with the cache holding those before it."""
        from symcount.analyses.serving import decoding_macs
        return shown(decoding_macs(self, length))

    def training_flops(self, recompute: str = "none"):
        """FLOPs of one training step per sample (forward, backward, recomputation and their total), as
        FlopCounterMode counts them (symcount.analyses.training)."""
        from symcount.analyses.training import training_compute
        return training_compute(self, recompute)

    def training_memory(self, optimizer="adam", precision="mixed", zero=0, devices=1, activations="pytorch",
                        tensor_parallel=1, sequence_parallel=False, recompute="none", batch=1):
        """Bytes per device of training: weights, gradients, optimizer states, the activations kept for the
        backward pass and their total (symcount.analyses.training_memory)."""
        from symcount.analyses.training_memory import training_memory
        return training_memory(self, optimizer, precision, zero, devices, activations, tensor_parallel,
                               sequence_parallel, recompute, batch)

    @cached_property
    def receptive_field(self):
        """The network's receptive field (size, effective stride, effective padding per
        spatial axis), after its last layer that still sees part of the input (before
        fc, gap or adaptive pooling); None for a flat input.  Araujo et al., Distill 2019."""
        return rf.of_network(self.layers)

    def memory(self, dtype: str = "float32"):
        """Weights' bytes and activation memory per image, both ways of counting
        (a symcount.analyses.memory.Memory; dtype float32, float16, bfloat16, int8, float64)."""
        from symcount.analyses.memory import memory
        return memory(self, dtype)

    # ------------------------------------------------------------ rendering
    def to_torch(self, name: str = "Net", title: str | None = None) -> str:
        """The source of a PyTorch nn.Module (class `name`) that builds this network with
        the shapes and parameter counts of this table; ExportError where PyTorch cannot
        express a layer exactly (symcount.render.torch_file, torch_module)."""
        from symcount.render.torch_file import to_torch
        return to_torch(self, name, title)

    def folded(self, depth: int) -> tuple:
        """The rows with blocks nested deeper than `depth` shown as one row each, their
        counts summed: depth 0 gives one row per top-level block (per ResNet stage)."""
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise SymcountError(f"depth must be a whole number, 0 or more, got {depth!r}")
        return fold(self.layers, self.blocks, depth)

    def table(self, format: str = "text", values: dict | None = None, depth: int | None = None,
              convention: str | None = None, backward: bool = False, memory: str | None = None,
              receptive_field: bool = False, switches: dict | None = None, columns=None, training: str | None = None,
              params_only: bool = False, formulas: bool = False, wide: bool = False, width: int | None = None,
              caption: str | None = None, label: str | None = None, training_memory=None, latex_float: str = "table*",
              **more_switches) -> str:
        """The table as text, markdown, latex, html, json or csv.

        `values` ({"H": 224}) evaluates the table there (numbers in the cells; with
        `formulas=True` each formula is shown with its value; json and csv always give
        both); `depth` folds blocks nested deeper; `convention` (and its switches, as
        keyword arguments or a dict `switches`) adds a column with that counter's figure,
        `backward` its forward + backward figure; `training` ("none", "selective", "full") a column of
        each row's FLOPs in one training step (training_flops); `memory` ("float32", ...) adds the memory
        report (not in csv), `training_memory` (training_memory's keyword arguments as a dict, or text such as
        "adam,mixed,zero=1,devices=8") the training memory report; `receptive_field` adds each row's receptive field.
        `columns` ("output,params,macs" or a list) chooses the columns, `params_only` hides
        rows without parameters; text fits `width` (default: the terminal's, 80 when
        unknown) and html `width` characters (default 110, a notebook's 1,000 pixels), both
        in compact numbers unless `wide`; latex takes a `caption`, a `label` and
        `latex_float`: "table*" (the default, any document), "table" or "longtable" (one column only).
        """
        from symcount.render.extras import extras
        from symcount.render.model import Given, table_options
        from symcount.render.table import FORMATS, render
        values = values or {}
        if not isinstance(values, dict):
            raise SymcountError(f"values are a dict such as {{'H': 224}}, got {values!r}")
        if format not in FORMATS:
            raise SymcountError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
        options = table_options(columns, params_only, formulas, wide, width, caption, label, latex_float)
        settings = dict(convention=convention, backward=backward, memory=memory, receptive_field=receptive_field,
                        switches={**(switches or {}), **more_switches}, training=training,
                        training_memory=training_memory)
        if values and not any(al.is_expr(name) for name in values):
            values = self.values(**{str(name): value for name, value in values.items()})
        if values and not formulas and format not in ("json", "csv"):
            shown = self.subs(**{str(name): value for name, value in values.items()})
            rows = shown.layers if depth is None else shown.folded(depth)
            given = Given(self.input_shape, tuple((str(k), v) for k, v in values.items()))
            return render(shown, format, {}, rows, extras(shown, rows, depth, {}, **settings), options, given)
        rows = self.layers if depth is None else self.folded(depth)
        return render(self, format, values, rows, extras(self, rows, depth, values, **settings), options)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        """Jupyter shows the table."""
        return self.table("html")

    def _repr_latex_(self) -> str:
        """Jupyter (MathJax) shows the named sizes and the totals in them, as formulas."""
        from symcount.render.formula import show
        from symcount.render.latex import latex_escape
        from symcount.render.model import HEADINGS
        lines = [rf"{show(name, 'latex')} &= {show(value, 'latex')}" for name, value in self.sizes.items()]
        lines += [rf"\text{{{latex_escape(HEADINGS[name])}}} &= {show(self.named_total(name), 'latex')}"
                  for name in QUANTITIES if name != "non_trainable" or self.non_trainable != 0]
        return "$\\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}$"

    def __repr__(self) -> str:
        return (f"<symcount.Network input {format_shape(self.input_shape)}, {len(self.layers)} rows, "
                f"params {self.params}>")


def parse(text: str, input=None, padding=None, rounding=None, framework=None) -> Network:
    """Parse paper notation and evaluate it.

    ``input`` ("3x224x224", "3xHxW", or a tuple) overrides an `input` line in the text;
    with neither, the input is the symbolic C×H×W.  ``padding`` is the convolutions'
    default: "half" (floor(k̂/2) per side, the VGG/ResNet rule), "valid", "same", "full",
    a number or "{p}".  ``rounding`` ("floor", "exact", "ceil", "caffe") applies to every
    convolution and pooling layer; ``framework`` ("pytorch", "caffe", "tensorflow",
    "keras", "onnx") picks each framework's rules instead.  docs/conventions.md has them.
    """
    spec = parse_notation(text)
    shape = as_shape(input) if input is not None else (spec.input or parse_shape(DEFAULT_INPUT))
    return Network(spec, shape, network_defaults(padding, rounding, framework),
                   input_from_text=input is None and spec.input is not None)
