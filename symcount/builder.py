"""The builder: one walk of a parsed spec on an input shape, giving the table's rows.

A repeat is unrolled until its block keeps the shape (a fixed point); from there every
further pass is identical, so the rest of the count multiplies one pass instead of
unrolling it: `conv3-64x1000000` costs two evaluations, and a symbolic count `x{n}` gives
counts linear in n (assuming n >= the passes peeled).  Each layer's needs that a symbol
leaves open are collected as requirements (symcount.layers.requirements).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from symcount import algebra as al

from symcount.analyses import receptive as rf
from symcount.errors import LimitError, NotationError, ShapeError
from symcount.layers.kinds import Defaults, evaluate
from symcount.layers.requirements import LayerProblem, Needs, Requirement
from symcount.flow import Flow, Pass
from symcount.fragments import layer_params, patched, squeeze_excitation, substitute
from symcount.joins import Joins
from symcount.notation.spec import Branches, Input, Layer, NetworkSpec, Repeat
from symcount.layers.result import has_spatial_axes, layout, like
from symcount.rows import Row, format_shape

Expr = object  # an Int, a Rat or a SymPy expression (symcount.algebra)

MAX_ROWS = 20_000        # rows after expansion; more is a runaway repeat, not a network
EXPAND_UP_TO = 64        # a numeric repeat this short is listed layer by layer ...
EXPAND_ROWS = 1_000      # ... while the table stays this short; beyond, it is one ×n row
MAX_PEEL = 1_000                # passes of one repeat that still change a numeric shape: a runaway
MAX_PEEL_SYMBOLIC_SHAPE = 64    # the same for a symbolic shape (floor(H/2^64) is already absurd)
MAX_PEEL_SYMBOLIC_COUNT = 16    # passes a repeat x{n} may take before its block must keep the shape
# A size's closed form: terms, nesting and degree (symcount.algebra.measure).  Each transposed convolution
# of stride {p} adds a degree, p·(p·(…) + 1) + 2; each pooling with an offset {k/1000} a level,
# floor(-k/4000 + floor(…)/4 + 1/4); the zoo's deepest is 6 levels, three caffe poolings 730 terms.
MAX_SIZE = (2_000, 32, 8)


@dataclass(frozen=True)
class _Scope:
    """A block being built: a defined block's pass, a branch group, or a stage label."""
    base: str
    uid: int
    numbered: bool = True  # bottleneck1, res2; a stage label keeps its own name
    text: str = ""         # a call as written (bottleneck(128, 2)): a folded row's notation


class Builder(Joins):
    def __init__(self, spec: NetworkSpec, defaults: Defaults, mapping: dict):
        self.spec = spec
        self.defaults = defaults
        self.mapping = mapping
        self.rows: list[Row] = []
        self.assumptions: list = []
        self.folds: list = []  # count > passes peeled, for each symbolic count folded (symcount.analyses.points)
        self.requirements: list[Requirement] = []  # what the symbols must meet (layers.requirements)
        self.scopes: list[_Scope] = []
        self.calls: list = []  # the Spans of the defined blocks' calls being walked, outermost first
        self.shapes: dict[int, tuple] = {}  # scope uid -> (input, output) of that block
        self.last_head = None  # the output of the side head built last (a folded side block shows it)
        self.uids = 0
        self.field = None  # the receptive field so far (symcount.analyses.receptive); Network starts it
        self._params: dict = {}  # (written parameters, input shape) -> the layer's parameters there
        self.memory = None       # the first stack's output once a second input starts (cross-attention reads it)
        self.second = None       # that second input (spec.Input), and whether a layer has read the memory
        self.memory_read = False
        self.patched = None      # the map's sizes and the patch of the last patch embedding, for unpatch
        self.flow = Flow()       # which tensor each row reads (symcount.flow)
        self.repeating = 0       # repeats being walked, nested

    def enter(self, base, numbered=True, text="") -> _Scope:
        self.uids += 1
        scope = _Scope(base, self.uids, numbered, text)
        self.scopes.append(scope)
        return scope

    def leave(self, scope, shape_in, shape_out):
        self.scopes.pop()
        self.shapes[scope.uid] = (shape_in, shape_out, scope.text)

    def error(self, cls, message, item):
        """An error at an item's place; inside a defined block, at the block's use (the
        call in the network), with the line of the definition where the item is written."""
        span = item.span
        if self.calls and item.span is not self.calls[0]:
            lines = self.spec.source.splitlines()
            written = lines[span.line - 1].strip() if 0 < span.line <= len(lines) else ""
            message += f"; in the block as defined at line {span.line}, column {span.column}: {written}"
            span = self.calls[0]
        return cls(message, source=self.spec.source, line=span.line, column=span.column,
                   width=span.end - span.start)

    def items(self, items, shape):
        for item in items:
            if isinstance(item, Layer) and item.kind == "se":
                shape = self.branches(self._expanded_se(item, shape), shape, "se")
            elif isinstance(item, Layer):
                shape = self.layer(item, shape)
            elif isinstance(item, Branches):
                shape = self.branches(item, shape)
            elif isinstance(item, Input):
                shape = self.second_input(item, shape)
            else:
                shape = self.repeat(item, shape)
        return shape

    def _expanded_se(self, layer, shape):
        try:
            return squeeze_excitation(Layer(layer.kind, layer_params(layer.params, self.mapping, shape), layer.text,
                                            layer.span), shape[0])
        except LayerProblem as problem:
            raise self.error(problem.error, f"{layer.text}: {problem}", layer) from None

    def layer(self, layer: Layer, shape):
        try:
            key = (layer.params, shape, type(shape))  # layers written alike on one shape: their parameters once
            params = self._params.get(key)
            if params is None:
                params = self._params[key] = layer_params(layer.params, self.mapping, shape)
            if layer.kind == "attn" and layer.get("cross"):
                params = self._cross(layer, params)
            elif layer.kind == "adaln":
                params = self._conditioned(layer, params)
            elif layer.kind == "unpatch":
                if self.patched is None:
                    raise self.error(ShapeError, f"{layer.text}: unpatch lays tokens back out on the map a patch "
                                     "embedding cut, and there is none before it", layer)
                params = tuple(sorted({**dict(params), **self.patched}.items()))
            result = evaluate(layer.kind, params, shape, self.defaults)
        except LayerProblem as problem:
            raise self.error(problem.error, f"{layer.text}: {problem}; its input is {format_shape(shape)}",
                             layer) from None
        except ZeroDivisionError as problem:  # e.g. a divisor in {C/g} substituted by 0
            raise self.error(ShapeError, f"{layer.text}: cannot be evaluated ({problem}); "
                             f"its input is {format_shape(shape)}", layer) from None
        self._bounded(layer, result.output)
        needs = Needs()
        try:
            for position, dim in enumerate(result.output):
                needs.require(dim - 1, "nonnegative", lambda dim=dim: f"gives a size {dim} < 1 (output "
                              f"{format_shape(result.output)}) from input {format_shape(shape)}")
                if position == 0 or not has_spatial_axes(result.output):  # a fractional spatial size is exact rounding's point
                    needs.require(dim, "whole", lambda dim=dim: f"gives a fractional size {dim} "
                                  f"(output {format_shape(result.output)})")
        except LayerProblem as problem:
            raise self.error(problem.error, f"{layer.text} {problem}", layer) from None
        if layer.kind == "fc" and dict(params).get("tied"):
            self._check_tied(layer, dict(params)["out"], shape[-1])
        elif layer.kind == "embed" and dict(params).get("tied"):
            self._check_tied(layer, dict(params)["vocabulary"], dict(params)["out"])
        self.requirements.extend(result.requires)
        self.requirements.extend(needs.open)
        if layer.kind == "patch":
            self.patched = patched(shape, params)
        one = al.Integer(1)
        self.field = rf.after(self.field, layer.kind, result.windows, result.output)
        reads, tensor = self.flow.made(layer.kind, result.output, params)
        self.rows.append(Row("", layer.kind, layer.text, shape, result.output, one, result.weights,
                             result.biases, result.non_trainable,
                             al.Mul(*result.output) if result.activations is None else result.activations, result.macs,
                             result.exact, result.windows, tuple(self.scopes), self.field, result.transposed,
                             bool(layer.get("functional")), result.module, masked=result.masked,
                             scores=result.scores, cache=result.cache, tensor=tensor, reads=reads,
                             options=params))
        if len(self.rows) > MAX_ROWS:
            raise self.error(LimitError, f"the network expands to more than {MAX_ROWS:,} layers", layer)
        return result.output

    def _bounded(self, layer, output):
        """Refuse a size whose closed form passes MAX_SIZE (terms, nesting, degree): SymPy takes
        minutes over such forms, and cannot print one nested deeper than its recursion allows."""
        for dim in output:
            if type(dim) is not al.Int and al.is_expr(dim) and any(value > limit for value, limit
                                                                   in zip(al.measure(dim), MAX_SIZE)):
                raise self.error(LimitError, f"{layer.text}: a size whose closed form has more than "
                                 f"{MAX_SIZE[0]:,} terms, {MAX_SIZE[1]} levels of nesting or degree "
                                 f"{MAX_SIZE[2]} in the symbols (each layer here adds to it); give a symbol "
                                 "a value", layer)

    def second_input(self, item: Input, shape):
        """`input T tokens` after a first stack: that stack's output becomes the memory, and the
        layers go on from the second input (a row of its own, with no counts)."""
        if self.scopes:
            raise self.error(NotationError, "a second input starts a stack of its own: write it between "
                             "top-level layers, not inside a block or a repeat", item)
        second = like(item.shape, (al.exact(d) for d in substitute(item.shape, self.mapping)))
        needs = Needs()
        try:
            for dim in second:
                needs.whole(dim, "an input size", 1)
        except LayerProblem as problem:
            raise self.error(ShapeError, f"{item.text}: {problem}", item) from None
        self.requirements.extend(needs.open)
        self.memory, self.second = shape, item
        zero = al.Integer(0)
        self.flow.current = self.flow.new(second, ids=layout(second) == "ids")
        self.rows.append(Row("", "input", item.text, shape, second, al.Integer(1), zero, zero, zero, zero, zero,
                             path=tuple(self.scopes), field=None, tensor=self.flow.current))
        self.field = rf.start(second)
        return second

    def _cross(self, layer, params):
        """attn[cross]: keys and values from the first stack's output (its M tokens of width E)."""
        if self.memory is None:
            raise self.error(ShapeError, f"{layer.text}: cross-attention reads the output of a first stack; write "
                             "it after a second input: input S tokens … input T tokens … attn8[cross]", layer)
        if layout(self.memory) != "tokens" or any(name in dict(params) for name in ("memory", "kdim")):
            raise self.error(ShapeError, f"{layer.text}: cross attends to the first stack's output, N×D tokens, "
                             f"here {format_shape(self.memory)}; memory= and kdim= give keys and values of "
                             "another size instead of cross", layer)
        self.memory_read = True
        return tuple(sorted({**dict(params), "memory": self.memory[0], "kdim": self.memory[1]}.items()))

    def _conditioned(self, layer, params):
        """adaln: the modulation reads the first stack's output, a conditioning vector of width E."""
        if self.memory is None or layout(self.memory) != "flat":
            raise self.error(ShapeError, f"{layer.text}: adaLN modulation reads a conditioning vector, the output of "
                             "a first stack that ends in a flat vector (input 256 fc1152 silu fc1152 … input "
                             "4x32x32 …)" + ("" if self.memory is None else
                                             f", here {format_shape(self.memory)}"), layer)
        self.memory_read = True
        return tuple(sorted({**dict(params), "condition": self.memory[0]}.items()))

    def finish(self):
        """A second input whose first stack no layer reads is a mistake (its layers would count for nothing)."""
        if self.second is not None and not self.memory_read:
            raise self.error(ShapeError, f"the layers before {self.second.text} end in {format_shape(self.memory)}, "
                             "which no layer reads: cross-attention (attn8[cross]) takes it as keys and values, "
                             "adaLN modulation (adaln6) a vector as its condition",
                             self.second)

    def _check_tied(self, layer, out, width):
        """fc[tied] and embed[tied] share the weights of an embedding of `out` rows of width `width`
        before them (GPT-2's output layer, T5's decoder embedding), so they are counted once, there."""
        if not any(row.kind == "embed" and row.output[-1] == width and row.weights == out * width for row in self.rows):
            raise self.error(ShapeError, f"{layer.text}: tied shares the weights of a token embedding of the same "
                             f"shape, embed{out}-{width}, and there is none before it", layer)

    def repeat(self, repeat: Repeat, shape):
        count = substitute(repeat.count, self.mapping)
        needs = Needs()
        try:
            needs.whole(count, "a repeat count", 0)
        except LayerProblem:
            raise self.error(ShapeError, f"a repeat count must be a whole number >= 0, got {count}", repeat) from None
        self.requirements.extend(needs.open)
        top, start, inputs, joins = not self.repeating, len(self.rows), [], len(self.flow.joins)
        self.repeating += 1
        try:
            shape = self._passes(repeat, count, shape, inputs)
        finally:
            self.repeating -= 1
        if top:
            self.flow.repeats.append(Pass(start, len(self.rows), tuple(inputs), (joins, len(self.flow.joins))))
        return shape

    def _passes(self, repeat: Repeat, count, shape, inputs: list):
        """The passes of a repeat; `inputs` gets each pass's input shape and how many passes read one."""
        done, step = 0, None
        while not (count.is_number and done >= count):
            first, first_uid, before = len(self.rows), self.uids + 1, self.field
            entry = (self.flow.current, len(self.flow.joins), len(self.flow.shapes))
            out = self.one_pass(repeat, shape)
            if out == shape:
                inputs.append((shape, count - done))
                return self._fold(repeat, first, first_uid, count - done, done, shape, before, entry)
            inputs.append((shape, al.Integer(1)))
            done += 1
            # two passes that grow the shape alike never reach a fixed point: refuse now what
            # the row limit would refuse after unrolling the rest
            grown = tuple(o - i for o, i in zip(out, shape)) if len(out) == len(shape) else None
            if grown is not None and grown == step and count.is_number and all(g >= 0 for g in grown) and \
                    len(self.rows) + (count - done) * (len(self.rows) - first) > MAX_ROWS:
                raise self.error(LimitError, f"this repeat grows the shape by {format_shape(grown)} a pass and "
                                 f"would unroll to more than {MAX_ROWS:,} layers (now {format_shape(out)})", repeat)
            step = grown if grown is not None and all(g.is_number for g in grown) else None
            shape = out
            limit = MAX_PEEL if all(d.is_number for d in shape) else MAX_PEEL_SYMBOLIC_SHAPE
            if count.is_number and done >= limit and done < count:
                raise self.error(LimitError, f"this repeat still changes the shape after {done:,} passes "
                                 f"(now {format_shape(shape)}); symcount folds a repeat once its block keeps "
                                 f"the shape, and unrolls at most {limit:,} passes before that", repeat)
            if not count.is_number and done >= MAX_PEEL_SYMBOLIC_COUNT:
                raise self.error(ShapeError, f"the repeat count {count} is a symbol, so the repeated block must "
                                 f"come to keep its shape; after {done} passes it still changes it "
                                 f"(now {format_shape(shape)}); a number of passes is counted pass by pass: "
                                 f"write one, or give {', '.join(sorted(map(str, count.free_symbols)))} a value",
                                 repeat)
        return shape

    def one_pass(self, repeat: Repeat, shape):
        if repeat.label is None:
            return self.items(repeat.body, shape)
        scope = self.enter(repeat.label, numbered=not repeat.stage, text="" if repeat.stage else repeat.text)
        if not repeat.stage:  # a defined block's call: errors inside it point at this use
            self.calls.append(repeat.span)
        out = self.items(repeat.body, shape)
        if not repeat.stage:
            self.calls.pop()
        only = repeat.body[0] if len(repeat.body) == 1 else None  # a label on one side head: the head's output
        self.leave(scope, shape, self.last_head if isinstance(only, Branches) and only.kind == "side" else out)
        return out

    def _copy(self, rows, first_uid, advance=lambda field: field):
        """The rows of one pass again, the blocks opened in it given new identities and
        their receptive fields advanced by `advance`."""
        fresh = {}

        def renew(scope):
            if scope.uid < first_uid:
                return scope
            if scope.uid not in fresh:
                self.uids += 1
                fresh[scope.uid] = replace(scope, uid=self.uids)
                self.shapes[self.uids] = self.shapes[scope.uid]
            return fresh[scope.uid]

        return [replace(row, path=tuple(renew(scope) for scope in row.path), field=advance(row.field))
                for row in rows]

    def _fold(self, repeat, first, first_uid, remaining, peeled, shape, before, entry):
        """Rows[first:] are one pass that keeps the shape: it stands for `remaining` passes
        (remaining >= 1 when numeric: the caller folds only a pass it was going to make).
        `before` is the receptive field before that pass; each later pass grows it alike.
        `entry`: the pass's input tensor and where its joins and tensors start (symcount.flow)."""
        one_pass = self.rows[first:]
        tensor_in, first_join, first_tensor = entry
        joins = self.flow.joins[first_join:]
        growth = rf.Growth(before, self.field)
        if remaining.is_number and remaining <= EXPAND_UP_TO and \
                len(self.rows) + (remaining - 1) * len(one_pass) <= EXPAND_ROWS:
            out = self.flow.current
            for later in range(1, int(remaining)):
                rows, copies, self.flow.current = self.flow.copied(one_pass, joins, tensor_in, out, first_tensor,
                                                                   self.flow.current)
                self.rows.extend(self._copy(rows, first_uid, lambda field: growth.advance(field, later)))
                self.flow.joins.extend(copies)
        else:
            rows, self.flow.joins[first_join:] = self.flow.folded(one_pass, joins, tensor_in, remaining)
            self.rows[first:] = [replace(row.times(remaining), field=growth.advance(row.field, remaining - 1))
                                 for row in rows]
            if not remaining.is_number:  # where count <= peeled, the folded pass is not there, nor its needs
                self.folds.append(al.sympy().Gt(repeat.count, peeled))
            if not remaining.is_number and peeled:
                self.assumptions.append(al.sympy().Ge(repeat.count, peeled))
                self.requirements.append(Requirement(repeat.count - peeled, "nonnegative",
                                                     f"the repeat count {repeat.count} must be at least {peeled}"))
        self.field = growth.advance(self.field, remaining - 1)
        return shape
