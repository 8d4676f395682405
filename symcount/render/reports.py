"""Render integrality checks and solutions as text or JSON (and HTML and LaTeX for Jupyter).

The text of a layer (its notation, a label in its name) is shown through
symcount.errors.visible, as in a table: no control character reaches the terminal."""
from __future__ import annotations

import json
import re
import textwrap

from symcount import algebra as al

from symcount.errors import visible
from symcount.render.formula import escape
from symcount.rows import format_shape

MAX_SHOWN = 50  # solutions listed in a notebook


def _number(value) -> str:
    """217/4 -> '217/4 = 54.25'; a fraction without a finite decimal keeps '≈'."""
    if value.is_Integer or not value.is_Rational:
        return str(value)
    q = int(value.q)
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    shown = f"{float(value):.10g}"
    return f"{value} = {shown}" if q == 1 else f"{value} ≈ {shown}"


def _compress(values):
    """[224, 225, ..., 255] -> '224…255'; runs of consecutive integers shortened."""
    values = sorted(values)
    runs, start = [], values[0]
    for previous, current in zip(values, values[1:] + [None]):
        if current != previous + 1:
            runs.append(str(start) if start == previous else f"{start}…{previous}")
            start = current
    return ", ".join(runs)


def describe(result) -> str:
    """A SolveResult in words: every value per symbol, runs of consecutive values shortened."""
    if not result.solutions:
        return "no solution" + (f": {result.explanation}" if result.explanation else "")
    per_symbol = {name: sorted({s[name] for s in result.solutions}) for name in result.unknowns}
    product = 1
    for values in per_symbol.values():
        product *= len(values)
    parts = [f"{name} ∈ {{{_compress(values)}}}" for name, values in per_symbol.items()]
    kind = "every combination" if product == len(result.solutions) and len(per_symbol) > 1 else ""
    count = f"{len(result.solutions):,} solution{'s' if len(result.solutions) != 1 else ''}"
    return f"{count}: " + "; ".join(parts) + (f" ({kind})" if kind else "")


def _whole_when(symbols, congruence) -> str:
    """When a size in one more symbol (a padding {p}) is whole: its congruence, or never."""
    if congruence == "unknown":
        return f"whether it is whole depends on {', '.join(symbols)}"
    if congruence is None:
        return f"it is whole for no whole {symbols[0]}"
    modulus, residue = congruence
    return f"it is whole exactly when {symbols[0]} ≡ {residue} (mod {modulus})"


RELATION = re.compile(r" (?=[=≥≤≡∈] )|(?<= [=≥≤≡∈]) |(?<=\(mod) ")  # the spaces of S ≥ 3 and (mod 32)
KEPT = "\u00a0"  # a space textwrap does not break at


def _fitted(lines: list[str], width: int | None) -> str:
    """Lines of prose fitted to the terminal (or `width`), each continuing two spaces further
    in; a relation (S ≥ 3, H ≡ 3 (mod 32)) is never broken."""
    from symcount.render.text import terminal_width
    width = terminal_width(width)
    return "".join(piece.replace(KEPT, " ") + "\n" for line in map(visible, lines) for piece in textwrap.wrap(
        RELATION.sub(KEPT, line), width, subsequent_indent=" " * (len(line) - len(line.lstrip()) + 2),
        break_on_hyphens=False) or [""])


def check_text(network, result, width: int | None = None) -> str:
    lines = []
    shape = format_shape(network.input_shape)
    rules = network.defaults
    lines.append(f"input {shape}; rounding {rules.conv} (convolution), {rules.pool} (pooling)")
    if not result.symbolic_input:
        if result.findings:
            lines.append("")
            lines.append("fractional sizes (exact arithmetic):")
        for f in result.findings:
            lines.append(f"  {f.name} ({f.text}), {f.axis}: input {f.input} gives {_number(f.exact)}; "
                         f"floor {f.floor}, ceil {f.ceil}; this network's rounding gives {f.rounded}")
            if f.padding:
                fix = f.padding
                symmetric = (f"{fix.symmetric} per side also works" if fix.symmetric is not None
                             else "no equal padding per side works")
                lines.append(f"    integral with a total padding of {fix.total} "
                             f"({fix.before} before, {fix.after} after); {symmetric}")
        for name, text, axis, exact, symbols, congruence in result.undecided:
            lines.append(f"  {name} ({text}), {axis}: {exact} under exact arithmetic; "
                         f"{_whole_when(symbols, congruence)}")
        if not result.findings and not result.undecided:
            lines.append("every layer is integral at this input")
    lines.append("")
    lines.append("conditions for every layer to be integral (exact arithmetic):")
    tightening = _tightening(result.conditions)
    if not tightening:
        lines.append("  none: every layer is integral for every input size")
    for condition in tightening:
        lines.append(f"  {condition.name} ({condition.text}), {condition.axis}: {condition}")
    for report in result.symbols:
        if not report.solvable:
            lines.append(f"{report.symbol}: {report.note}")
            continue
        text = f"{report.symbol}: every layer is integral and the network runs exactly when " \
               f"{report.symbol} ≡ {report.residue} (mod {report.modulus}) and {report.symbol} ≥ {report.minimum}"
        if report.note:
            text = f"{report.symbol}: every layer is integral where {report.symbol} ≡ {report.residue} " \
                   f"(mod {report.modulus}), from {report.symbol} = {report.minimum} on; {report.note}"
        if report.given is not None:
            text += f"; nearest to {report.given}: " + ", ".join(
                p for p in (f"{report.below} below" if report.below is not None else "",
                            f"{report.above} above") if p)
        lines.append(text)
    if result.symbolic_input or result.findings:
        lines.append("")
        lines.append("totals under exact arithmetic, where the conditions hold:")
        for quantity, value in result.exact_totals.items():
            lines.append(f"  {quantity} = {value}")
    return _fitted(lines, width)


def _tightening(conditions):
    """The conditions that say more than the ones before them on the same symbol and axis."""
    seen, kept = {}, []
    for condition in conditions:
        key = (condition.symbol, condition.axis)
        if condition.modulus is None or condition.modulus > seen.get(key, 1):
            kept.append(condition)
            if condition.modulus is not None:
                seen[key] = condition.modulus
    return kept


def _plain(value):
    if al.is_value(value):
        return int(value) if value.is_Integer else str(value)
    return value


def check_json(network, result) -> str:
    document = {
        "integral": result.integral,
        "findings": [{"row": f.row, "name": f.name, "notation": f.text, "axis": f.axis, "input": _plain(f.input),
                      "exact": _plain(f.exact), "floor": _plain(f.floor), "ceil": _plain(f.ceil),
                      "rounded": _plain(f.rounded),
                      "padding": None if f.padding is None else {
                          "total": f.padding.total, "before": f.padding.before, "after": f.padding.after,
                          "symmetric": f.padding.symmetric}}
                     for f in result.findings],
        "conditions": [{"row": c.row, "name": c.name, "notation": c.text, "axis": c.axis, "symbol": c.symbol,
                        "modulus": c.modulus, "residue": c.residue, "size": str(c.expression)}
                       for c in result.conditions],
        "symbols": [{"symbol": r.symbol, "modulus": r.modulus, "residue": r.residue, "minimum": r.minimum,
                     "given": _plain(r.given), "below": r.below, "above": r.above, "note": r.note}
                    for r in result.symbols],
        "exact_totals": {q: str(v) for q, v in result.exact_totals.items()},
    }
    return json.dumps(document, indent=2) + "\n"


def solve_text(network, result, width: int | None = None) -> str:
    bounds = ", ".join(f"{name} in {span}" for name, span in result.bounds.items())
    return _fitted([f"searched {result.searched:,} combinations ({bounds})", describe(result)], width)


def solve_json(network, result) -> str:
    return json.dumps({"unknowns": list(result.unknowns), "bounds": result.bounds,
                       "solutions": list(result.solutions), "searched": result.searched,
                       "explanation": result.explanation}, indent=2) + "\n"


# --------------------------------------------------------------------------- Jupyter
def _cell(value) -> str:
    return escape(_number(value) if al.is_value(value) else str(value))


def _html_table(headings, rows) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def check_html(result) -> str:
    """A check result as Jupyter shows it: the verdict, then tables of what was found."""
    verdict = "every layer is integral" if result.integral else "some layers are not integral"
    parts = [f"<p><b>symcount check</b>: {verdict}</p>"]
    if result.findings:
        parts.append(_html_table(
            ["layer", "notation", "axis", "input", "exact", "floor", "ceil", "rounded", "padding that fixes it"],
            [[_cell(f.name), _cell(f.text), _cell(f.axis), _cell(f.input), _cell(f.exact), _cell(f.floor),
              _cell(f.ceil), _cell(f.rounded),
              "" if f.padding is None else escape(f"total {f.padding.total} ({f.padding.before} before, "
                                                       f"{f.padding.after} after)")]
             for f in result.findings]))
    conditions = _tightening(result.conditions)
    if conditions:
        parts.append(_html_table(["layer", "notation", "axis", "condition"],
                                 [[_cell(c.name), _cell(c.text), _cell(c.axis), _cell(c)] for c in conditions]))
    items = [f"{r.symbol} ≡ {r.residue} (mod {r.modulus}) and {r.symbol} ≥ {r.minimum}" if r.solvable
             else f"{r.symbol}: {r.note}" for r in result.symbols]
    if items:
        parts.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")
    if result.exact_totals and (result.symbolic_input or result.findings):
        parts.append(_html_table(["total (exact arithmetic)", "value"],
                                 [[_cell(q), _cell(v)] for q, v in result.exact_totals.items()]))
    return "\n".join(parts)


def check_latex(result) -> str:
    """The conditions on the input symbols and the exact totals, as formulas."""
    from symcount.render.latex import latex_escape
    from symcount.render.model import HEADINGS
    lines = [rf"{r.symbol} &\equiv {r.residue} \pmod{{{r.modulus}}},\quad {r.symbol} \geq {r.minimum}"
             for r in result.symbols if r.solvable]
    if result.exact_totals and (result.symbolic_input or result.findings):
        lines += [rf"\text{{{latex_escape(HEADINGS.get(q, q))}}} &= {al.sympy().latex(v)}"
                  for q, v in result.exact_totals.items()]
    if not lines:
        lines = [r"&\text{every layer is integral}" if result.integral else r"&\text{not integral}"]
    return "$\\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}$"


def solve_html(result) -> str:
    shown = result.solutions[:MAX_SHOWN]
    parts = [f"<p><b>symcount solve</b>: searched {result.searched:,} combinations; "
             f"{escape(describe(result))}</p>"]
    if shown:
        parts.append(_html_table(list(result.unknowns), [[str(s[n]) for n in result.unknowns] for s in shown]))
        if len(result.solutions) > MAX_SHOWN:
            parts.append(f"<p>… and {len(result.solutions) - MAX_SHOWN:,} more</p>")
    return "\n".join(parts)


def solve_latex(result) -> str:
    if not result.solutions:
        return r"$\text{no solution within the bounds}$"
    per_symbol = {name: sorted({s[name] for s in result.solutions}) for name in result.unknowns}
    more = r", \ldots"
    parts = [rf"{name} \in \{{{', '.join(map(str, values[:MAX_SHOWN]))}{more if len(values) > MAX_SHOWN else ''}\}}"
             for name, values in per_symbol.items()]
    return "$" + r",\quad ".join(parts) + "$"
