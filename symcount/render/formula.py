"""Formulas as papers print them: ⌊(H − 1)/32⌋ + 1, 2097152·H₅·W₅ + 35597096.

One printer, three styles (Unicode text, LaTeX, HTML), for the expressions symcount builds:
sums and products of whole numbers, rationals, symbols and powers, floor, ceiling, min,
max and case splits.  A rounding's argument is written over its common denominator,
⌊(H − 1)/32⌋ rather than SymPy's distributed floor(H/32 - 1/32); terms go highest degree
first.  Anything else falls back to SymPy's own printing.  In LaTeX a count groups its
thousands from four digits on (1{,}792, a coefficient as much as a cell), a shape's dimension
never (2048 \times 7 \times 7), and a bracketed sum is one brace group, so a line of inline
math breaks between a sum's terms and never inside a bracket.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from math import lcm

from symcount import algebra as al
from symcount.errors import visible

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _greek(name: str) -> str:
    """alpha → α, as SymPy's LaTeX writes \\alpha (lambda is spelled lamda there)."""
    from sympy.printing.pretty.pretty_symbology import greek_unicode
    return greek_unicode.get("lamda" if name == "lambda" else name, name)


def _text_symbol(name: str) -> str:
    base, _, index = name.partition("_")
    return _greek(base) + index.translate(SUBSCRIPTS) if index.isdigit() else _greek(name)


def escape(text: str) -> str:
    """HTML's escaping, of the text as symcount.errors.visible shows it: the C0 and C1 controls
    HTML does not allow are written as escapes, \\x1b (the html module is imported here, on
    first use: a text table never needs it)."""
    import html
    return html.escape(visible(text))


def _html_symbol(name: str) -> str:
    base, _, index = name.partition("_")
    return f"<i>{escape(_greek(base))}</i><sub>{index}</sub>" if index.isdigit() else \
        f"<i>{escape(_greek(name))}</i>"


def latex_number(value: int) -> str:
    """1{,}792: thousands grouped from four digits on, in a cell and in a formula's
    coefficient alike (the braces keep math mode's comma from adding a space)."""
    return f"{value:,}".replace(",", "{,}")


def _latex_whole(text: str) -> str:
    """A brace group: TeX breaks a line in inline math after a + or − at its outer level
    only, so a bracketed sum, (H₁ − 4), never splits across lines."""
    return "{" + text + "}"


@dataclass(frozen=True)
class Style:
    symbol: object        # name -> text
    number: object        # int -> text
    times: str
    minus: str
    floor: tuple
    ceiling: tuple
    power: object         # (base text, exponent int) -> text
    function: object      # (name, [argument texts]) -> text
    fallback: object      # expr -> text
    relations: dict = None  # ">=" -> "≥"
    by: str = "×"           # between a shape's dimensions
    whole: object = lambda text: text  # a bracketed sum, kept on one line


TEXT = Style(symbol=_text_symbol, number=str, times="·", minus="−", floor=("⌊", "⌋"), ceiling=("⌈", "⌉"),
             power=lambda base, e: base + str(e).translate(SUPERSCRIPTS),
             function=lambda name, args: f"{name}({', '.join(args)})", fallback=str,
             relations={">=": "≥", "<=": "≤", "!=": "≠", "==": "="})
LATEX = Style(symbol=lambda name: al.sympy().latex(al.sympy().Symbol(name)), number=latex_number, times=r"\,", minus="-",
              floor=(r"\lfloor ", r" \rfloor"), ceiling=(r"\lceil ", r" \rceil"),
              power=lambda base, e: f"{base}^{{{e}}}",
              function=lambda name, args: f"\\{name}({', '.join(args)})", fallback=lambda e: al.sympy().latex(e),
              relations={">=": r"\geq", "<=": r"\leq", "!=": r"\neq", "==": "="}, by=r" \times ",
              whole=_latex_whole)
HTML = Style(symbol=_html_symbol, number=str, times="·", minus="−", floor=("⌊", "⌋"), ceiling=("⌈", "⌉"),
             power=lambda base, e: f"{base}<sup>{e}</sup>",
             function=lambda name, args: f"{name}({', '.join(args)})", fallback=lambda e: escape(str(e)),
             relations={">=": "≥", "<=": "≤", "!=": "≠", "==": "=", "<": "&lt;", ">": "&gt;"})
STYLES = {"text": TEXT, "latex": LATEX, "html": HTML}


def show(expr, style: str = "text") -> str:
    """The expression in one of STYLES ("text", "latex", "html")."""
    return _written(expr, STYLES[style])


def show_shape(shape, style: str = "text") -> str:
    """64×H₁×W₁; a dimension that is a sum in parentheses, 6×(H − 4)×(W − 4).  A dimension
    is a size, not a count: its digits are never grouped (2048×7×7)."""
    s = replace(STYLES[style], number=str)
    return s.by.join(s.whole(f"({_written(d, s)})") if al.is_add(d) else _written(d, s) for d in shape)


def _written(expr, style: Style) -> str:
    if al.is_number(expr):  # Int, Rat: no SymPy needed
        sign = style.minus if expr < 0 else ""
        if isinstance(expr, int):
            return sign + style.number(abs(int(expr)))
        return f"{sign}{style.number(abs(expr.numerator))}/{style.number(expr.denominator)}"
    return _show(expr, style)


def _show(expr, s: Style) -> str:
    sympy = al.sympy()
    if isinstance(expr, sympy.Integer):
        value = int(expr)
        return (s.minus if value < 0 else "") + s.number(abs(value))
    if isinstance(expr, sympy.Rational):
        sign = s.minus if expr < 0 else ""
        return f"{sign}{s.number(abs(expr.p))}/{s.number(expr.q)}"
    if isinstance(expr, sympy.Symbol):
        return s.symbol(expr.name)
    if isinstance(expr, sympy.Add):
        return _sum(expr, s)
    if isinstance(expr, sympy.Mul):
        return _product(expr, s)
    if isinstance(expr, sympy.Pow) and expr.exp.is_Integer and expr.exp > 0:
        return s.power(_factor(expr.base, s), int(expr.exp))
    if isinstance(expr, (sympy.floor, sympy.ceiling)):
        opening, closing = s.floor if isinstance(expr, sympy.floor) else s.ceiling
        inside = _over_denominator(expr.args[0], s)
        return s.whole(opening + inside + closing) if al.is_add(expr.args[0]) else opening + inside + closing
    if isinstance(expr, (sympy.Min, sympy.Max)):
        return s.whole(s.function("min" if isinstance(expr, sympy.Min) else "max",
                                  [_show(arg, s) for arg in sorted(expr.args, key=sympy.default_sort_key)]))
    if isinstance(expr, sympy.core.relational.Relational):
        relation = (s.relations or {}).get(expr.rel_op, expr.rel_op)
        return f"{_show(expr.lhs, s)} {relation} {_show(expr.rhs, s)}"
    return s.fallback(expr)


def _sum(expr, s: Style) -> str:
    out = ""
    for index, term in enumerate(expr.as_ordered_terms()):
        negative = term.could_extract_minus_sign()
        body = _show(-term if negative else term, s)
        if index == 0:
            out = (s.minus if negative else "") + body
        else:
            out += f" {s.minus} " if negative else " + "
            out += body
    return out


def _factor(expr, s: Style) -> str:
    text = _show(expr, s)
    if al.is_add(expr):
        return s.whole(f"({text})")
    return f"({text})" if expr.is_Rational and not expr.is_Integer else text


def _product(expr, s: Style) -> str:
    coefficient, factors = expr.as_coeff_mul()
    if coefficient < 0:
        return s.minus + _product(-expr, s) if -expr != expr else s.fallback(expr)
    numerator = sorted((f for f in factors if not (f.is_Pow and f.exp.is_negative)), key=_factor_order)
    denominator = [1 / f for f in factors if f.is_Pow and f.exp.is_negative]
    parts = ([s.number(coefficient.p)] if coefficient.p != 1 or not numerator else []) + \
        [_factor(f, s) for f in numerator]
    text = s.times.join(parts)
    below = ([s.number(coefficient.q)] if coefficient.q != 1 else []) + [_factor(f, s) for f in denominator]
    if below:
        text += "/" + (below[0] if len(below) == 1 else "(" + s.times.join(below) + ")")
    return text


def _factor_order(factor):
    """A product's factors: a width multiplier (α²) before the sizes (H₁·W₁), as papers write it."""
    base = factor.base if factor.is_Pow else factor
    named = base.is_Symbol and base.name.partition("_")[2].isdigit()
    size = base.is_Symbol and base.name.partition("_")[0] in ("H", "W", "D", "L", "S")
    return (named or size, al.sympy().default_sort_key(factor))


def _over_denominator(argument, s: Style) -> str:
    """A rounding's argument over its common denominator: (H − 1)/32, H/32."""
    denominators = [c.q for c in argument.as_coefficients_dict().values() if c.is_Rational]
    common = lcm(*denominators) if denominators else 1
    if common == 1:
        return _show(argument, s)
    numerator = al.sympy().expand(argument * common)
    top = _show(numerator, s)
    return (f"({top})" if al.is_add(numerator) else top) + f"/{s.number(common)}"
