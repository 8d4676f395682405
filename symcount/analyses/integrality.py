"""Integral shapes: where a stated input gives a fractional size, and which sizes do not.

Under exact arithmetic every layer's size is an affine function a·X + b of an input
symbol X (rationals kept).  The size is an integer exactly when X lies in one residue
class modulo the denominator of a, so "every layer is integral" is a set of congruences
on X, combined by the Chinese remainder theorem into one class X ≡ r (mod M) (M divides
the product of the strides).  With the smallest X for which every size is >= 1, this
gives every valid size in closed form: X = r + kM >= minimum.
docs/integrality.md explains the output; the AlexNet question is its example.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy
from sympy.ntheory.modular import solve_congruence

from symcount.analyses.compiled import compile_exact, limit_points, most_points, validity
from symcount.analyses.sweep import count_values
from symcount.errors import SymbolError, SymcountError
from symcount.layers.result import AXIS_NAMES, AXIS_SYMBOLS, has_spatial_axes
from symcount.notation.spec import symbol

Expr = sympy.Expr


def _axes(shape) -> tuple:
    """The names of a shape's spatial axes: height and width, or length, or depth, height, width."""
    return AXIS_NAMES.get(len(shape) - 1, ())


@dataclass(frozen=True)
class PaddingFix:
    """Padding that would make one layer integral on one axis."""
    total: int          # padding before + after, nearest the layer's own total
    before: int         # that total split as TensorFlow does: the extra pixel after
    after: int
    symmetric: int | None  # the nearest equal padding per side that works, if any


@dataclass(frozen=True)
class Finding:
    """A layer whose size is fractional under exact arithmetic, on one axis."""
    row: int
    name: str
    text: str
    axis: str
    input: Expr
    exact: Expr
    floor: Expr
    ceil: Expr
    rounded: Expr       # what this network's rounding rule gave
    padding: PaddingFix | None


@dataclass(frozen=True)
class Condition:
    """What one layer needs of an input symbol: symbol ≡ residue (mod modulus), or a text."""
    row: int
    name: str
    text: str
    axis: str
    symbol: str | None
    modulus: int | None
    residue: int | None
    expression: Expr    # the layer's exact size on that axis

    def __str__(self) -> str:
        if self.modulus is not None:
            return f"{self.symbol} ≡ {self.residue} (mod {self.modulus})"
        return f"{self.expression} is an integer"


@dataclass(frozen=True)
class SymbolReport:
    """Every integral size of one input symbol: symbol ≡ residue (mod modulus), >= minimum."""
    symbol: str
    modulus: int | None
    residue: int | None
    minimum: int | None
    given: Expr | None = None
    below: int | None = None
    above: int | None = None
    note: str = ""

    @property
    def solvable(self) -> bool:
        return self.modulus is not None

    def admits(self, value: int) -> bool:
        return self.solvable and value >= self.minimum and (value - self.residue) % self.modulus == 0

    def smallest_at_least(self, value: int) -> int | None:
        if not self.solvable:
            return None
        start = max(value, self.minimum)
        return start + (self.residue - start) % self.modulus

    def largest_below(self, value: int) -> int | None:
        if not self.solvable:
            return None
        candidate = value - 1 - (value - 1 - self.residue) % self.modulus
        return candidate if candidate >= self.minimum else None


@dataclass(frozen=True)
class CheckResult:
    findings: tuple          # Finding: fractional sizes of a numeric input
    conditions: tuple        # Condition: what each layer needs of the input symbols
    symbols: tuple           # SymbolReport per input symbol
    exact_totals: dict       # totals under exact arithmetic, as functions of the input symbols
    symbolic_input: bool
    undecided: tuple = ()    # rows of a numeric input whose size still depends on a symbol (_undecided)

    def _repr_html_(self) -> str:
        from symcount.render.reports import check_html
        return check_html(self)

    def _repr_latex_(self) -> str:
        from symcount.render.reports import check_latex
        return check_latex(self)

    @property
    def integral(self) -> bool:
        """Numeric input: no layer is fractional.  Symbolic: every size is integral for
        every value (no layer needs a condition)."""
        if self.symbolic_input:
            return all(c.modulus == 1 for c in self.conditions)
        return not self.findings and not self.undecided


def affine_form(expression: Expr):
    """(symbol, a, b) when expression == a·symbol + b with rational a > 0, b; else None."""
    free = expression.free_symbols
    if len(free) != 1:
        return None
    (x,) = free
    a = sympy.diff(expression, x)
    b = sympy.expand(expression - a * x)
    if not (a.is_Rational and b.is_Rational) or a <= 0:
        return None
    return x, a, b


def congruence_class(a, b):
    """a·X + b ∈ ℤ  ⟺  X ≡ residue (mod modulus); None if no integer X works."""
    modulus = int(a.q)             # a = p/q in lowest terms: q | (p·X + b·q) is needed
    scaled = b * modulus
    if not scaled.is_Integer:
        return None
    inverse = pow(int(a.p) % modulus, -1, modulus) if modulus > 1 else 0
    return modulus, (-int(scaled) * inverse) % modulus


def _twin(network, only=None):
    """The network with symbols for a numeric input's spatial sizes (or only for the one
    named `only`, the others keeping their numbers), evaluated exactly."""
    shape = network.input_shape
    given = {}
    if has_spatial_axes(shape):
        names = []
        for name, dim in zip(AXIS_SYMBOLS[len(shape) - 1], shape[1:]):
            if dim.is_number:
                while name in network.symbols or name in names:
                    name += "_in"
            if dim.is_number and only in (None, name):
                names.append(name)
                given[name] = dim
            else:
                names.append(None)
        shape = (shape[0],) + tuple(symbol(n) if n else d for n, d in zip(names, shape[1:]))
    return _exactly(network, shape), given


def _exactly(network, shape=None):
    """network.exactly(shape), or an error that says it is the exact evaluation that failed (a
    repeat x{n} whose block keeps the shape only by rounding, as (dw3/2)x{n} does at 1×1)."""
    try:
        return network.exactly(shape)
    except SymcountError as error:
        raise type(error)(f"check and valid_sizes evaluate every size exactly (fractions kept, no rounding), "
                          f"and so: {error.message}", source=error.source, line=error.line, column=error.column,
                          width=error.width, expected=error.expected) from None


def _padding_fix(size, window):
    """The total and symmetric paddings that make (size + total - k̂) divisible by s."""
    if not all(v.is_Integer for v in (size, window.kernel, window.stride, window.before, window.after)):
        return None
    s, keff = int(window.stride), int(window.kernel)
    current = int(window.before + window.after)
    residue = (keff - int(size)) % s
    below = current - (current - residue) % s
    total = below if current - below < below + s - current else below + s
    total = total if total >= 0 else total + s
    symmetric = _nearest_symmetric(int(size), keff, s, current)
    return PaddingFix(total, total // 2, total - total // 2, symmetric)


def _nearest_symmetric(size: int, keff: int, s: int, current: int):
    """The padding p per side, nearest current/2 (the larger on a tie), with s | size + 2p - k̂;
    None if none exists.  Solved as a congruence 2p ≡ k̂ - size (mod s), never by a search
    whose length is the stride (a stride of 10^7 or of 40 digits answers at once)."""
    g = 2 if s % 2 == 0 else 1          # gcd(2, s)
    if (keff - size) % g:
        return None
    modulus = s // g                    # p ≡ residue (mod s/g)
    residue = ((keff - size) // g) * pow(2 // g, -1, modulus) % modulus if modulus > 1 else 0
    target = current / 2
    below = residue + ((int(target) - residue) // modulus) * modulus if modulus > 1 else int(target)
    candidates = [p for p in (below - modulus, below, below + modulus, below + 2 * modulus) if p >= 0]
    return min(candidates, key=lambda p: (abs(2 * p - current), -p)) if candidates else None


def _findings(network):
    found = []
    for index, row in enumerate(network.layers, 1):
        for axis, window, size, exact, rounded in zip(_axes(row.input), row.windows, row.input[1:], row.exact[1:],
                                                      row.output[1:]):
            if exact.is_number and not exact.is_integer:
                found.append(Finding(index, row.name, row.text, axis, size, exact, sympy.floor(exact),
                                     sympy.ceiling(exact), rounded, _padding_fix(size, window)))
    return tuple(found)


def _undecided(network):
    """(name, text, axis, exact size, its symbols, congruence) where a numeric input's exact
    size still holds a symbol (a padding {p}); the congruence on that one symbol that makes
    it whole, (modulus, residue), None where none does, or "unknown" (several symbols)."""
    found = []
    for row in network.layers:
        for axis, exact in zip(_axes(row.exact), row.exact[1:] if row.windows else ()):
            if exact.is_number:
                continue
            form = affine_form(exact)
            congruence = congruence_class(*form[1:]) if form else "unknown"
            found.append((row.name, row.text, axis, exact, sorted(str(s) for s in exact.free_symbols), congruence))
    return tuple(found)


def _conditions(twin):
    conditions = []
    for index, row in enumerate(twin.layers, 1):
        for axis, exact in zip(_axes(row.exact), row.exact[1:] if row.windows else ()):
            if exact.is_number or exact.is_integer:  # a whole number by construction: ⌈H/8⌉ after padding to even
                continue
            affine = affine_form(exact)
            if affine is None:
                conditions.append(Condition(index, row.name, row.text, axis, None, None, None, exact))
                continue
            x, a, b = affine
            solved = congruence_class(a, b)
            modulus, residue = solved if solved else (None, None)
            conditions.append(Condition(index, row.name, row.text, axis, x.name, modulus, residue, exact))
    return tuple(conditions)


def _minimum(twin, x) -> int:
    """Smallest value of x for which every spatial size involving x is >= 1."""
    minimum = 1
    for row in twin.layers:
        for exact in row.exact[1:] if len(row.exact) >= 2 else ():
            affine = affine_form(exact)
            if affine and affine[0] == x:
                _, a, b = affine
                minimum = max(minimum, int(sympy.ceiling((1 - b) / a)))
    return minimum


def _report(twin, name, conditions, given):
    x = twin.symbols.get(name)
    mine = [c for c in conditions if c.symbol == name or (c.symbol is None and x in c.expression.free_symbols)]
    if any(c.symbol is None for c in mine):
        others = sorted({s.name for c in mine for s in c.expression.free_symbols} - {name})
        note = "the conditions involve " + ", ".join(others) if others else "a condition is not linear"
        return SymbolReport(name, None, None, None, given, note=note)
    if any(c.modulus is None for c in mine):
        return SymbolReport(name, None, None, None, given, note="no size makes every layer integral")
    combined = solve_congruence(*[(c.residue, c.modulus) for c in mine]) if mine else (0, 1)
    if combined is None:
        return SymbolReport(name, None, None, None, given, note="the layers' conditions contradict each other")
    residue, modulus = int(combined[0]), int(combined[1])
    minimum = _minimum(twin, x)
    minimum += (residue - minimum) % modulus  # the smallest integral size large enough for every layer
    valid, why = _requirements_of(twin, x)
    first = next((v for v in range(minimum, minimum + MAX_STEPS * modulus, modulus) if valid(v)), None)
    if first is None:
        return SymbolReport(name, None, None, None, given, note=f"no integral size from {minimum} on meets every "
                            f"requirement within {MAX_STEPS:,} steps ({why(minimum)})")
    report = SymbolReport(name, modulus, residue, first, given, note=_larger_invalid(name, first, modulus, valid, why))
    if given is not None and given.is_Integer:
        below = report.largest_below(int(given))
        while below is not None and not valid(below):
            below = report.largest_below(below)
        above = report.smallest_at_least(int(given) + 1)
        for _ in range(MAX_STEPS):
            if valid(above):
                break
            above += modulus
        report = replace(report, below=below, above=above)
    return report


def _requirements_of(twin, x):
    """(valid, why): whether a value of x meets every requirement of the network that x alone
    decides (symcount.layers.requirements: AvgPool3d's input at least its kernel, padding at
    most half the kernel, ...), and the first one a value fails."""
    mine = [r for r in twin.requirements if r.expression.free_symbols <= {x}]
    values = compile_exact([x], [r.expression for r in mine])

    def failed(value):
        try:
            return next((r for r, v in zip(mine, values(value)) if not r.holds(v)), None)
        except ZeroDivisionError:
            return mine[0]
    return (lambda value: failed(value) is None), (lambda value: getattr(failed(value), "why", ""))


def _larger_invalid(name, first, modulus, valid, why) -> str:
    """A note where some integral size above the smallest valid one is not valid (a table of
    positions caps the tokens), found among the next 256 sizes and from there doubling."""
    for value in [first + k * modulus for k in range(1, 257)] + [first + modulus * 2 ** j for j in range(9, 48)]:
        if not valid(value):
            return f"not every larger size is valid: {name} = {value} is not ({why(value)})"
    return ""


def check(network) -> CheckResult:
    """Fractional sizes, per-layer conditions, and every integral input size."""
    twin, given = _twin(network)
    conditions = _conditions(twin)
    spatial = [d for d in twin.input_shape[1:] if not d.is_number] if has_spatial_axes(twin.input_shape) else []
    names = sorted({s.name for d in spatial for s in d.free_symbols})
    reports = tuple(_report(twin, name, conditions, given.get(name)) for name in names)
    totals = {q: getattr(twin, q) for q in ("params", "macs", "activations")}
    return CheckResult(_findings(network), conditions, reports, totals, symbolic_input=not given,
                       undecided=_undecided(_exactly(network)) if given else ())


def valid_sizes(network, /, **ranges) -> list:
    """The values in the one range given (e.g. S=range(100, 400)) that make every layer
    integral and meet every other requirement of the network (symcount.layers.requirements)."""
    if len(ranges) != 1:
        raise SymbolError("valid_sizes takes one symbol, e.g. valid_sizes(S=range(100, 400))")
    (name, values), = ranges.items()
    count_values(name, values)  # a sized collection: a range or a list
    report, valid = _symbol_report(network, name)
    if isinstance(values, range) and values.step == 1 and len(values):  # only the values of the congruence
        values = range(report.smallest_at_least(values.start), values.stop, report.modulus)
    limit_points(count_values(name, values), [valid], f"valid_sizes: {count_values(name, values):,} sizes of "
                 f"{name} to try")
    return [v for v in values if report.admits(v) and valid(v)]


MAX_STEPS = 100_000  # integral sizes tried past the first before smallest_valid gives up


def smallest_valid(network, /, **at_least) -> int:
    """The smallest valid value >= the one given, e.g. smallest_valid(S=224)."""
    if len(at_least) != 1:
        raise SymbolError("smallest_valid takes one symbol, e.g. smallest_valid(S=224)")
    (name, value), = at_least.items()
    if not isinstance(value, int) or isinstance(value, bool):
        raise SymbolError(f"smallest_valid takes a whole number, e.g. smallest_valid(S=224); got {value!r}")
    report, valid = _symbol_report(network, name)
    candidate = report.smallest_at_least(value)
    tries = min(MAX_STEPS, most_points(valid))  # the work limit, where the requirements are long
    for _ in range(tries):
        if valid(candidate):
            return candidate
        candidate += report.modulus
    raise SymbolError(f"no size of {name} from {value} on meets every requirement within {tries:,} steps")


def _symbol_report(network, name):
    """The symbol's congruence report, and the exact network's requirements as a test of
    one value of it (other symbols must be absent: they have no value here)."""
    result = check(network)
    for report in result.symbols:
        if report.symbol == name:
            if not report.solvable:
                raise SymbolError(f"no congruence for {name}: {report.note}")
            twin, _ = _twin(network, only=name)
            if set(twin.symbols) != {name}:
                others = ", ".join(sorted(set(twin.symbols) - {name}))
                raise SymbolError(f"give the other symbols values first ({others}): net.subs(...)")
            return report, validity(twin)
    known = ", ".join(r.symbol for r in result.symbols) or "none"
    raise SymbolError(f"{name} is not a spatial input symbol of this network; its spatial symbols: {known}")
