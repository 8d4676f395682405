"""A network's totals as a notebook shows them: net.summary.

net.params and the other totals are whole numbers or SymPy expressions that show themselves as
HTML math (symcount.shown).  net.summary is all of them at once: a read-only mapping of
the same totals (summary["params"] is net.params) whose HTML writes them in the named sizes
(italic symbols, subscripts, ⌊ ⌋), with the sizes' definitions, and needs no network; its text
is the same in Unicode.
"""
from __future__ import annotations

from collections.abc import Mapping

from symcount.render.formula import escape, show
from symcount.render.model import HEADINGS, compact
from symcount.rows import QUANTITIES


class Totals(Mapping):
    """{quantity: total} of one network (the QUANTITIES, non-trainable only when not zero),
    shown in the named sizes."""

    def __init__(self, network):
        self._network = network
        shown = [q for q in QUANTITIES if q != "non_trainable" or network.non_trainable != 0]
        self._totals = {q: getattr(network, q) for q in shown}

    def __getitem__(self, quantity):
        return self._totals[quantity]

    def __iter__(self):
        return iter(self._totals)

    def __len__(self):
        return len(self._totals)

    def _lines(self, style: str) -> list[tuple[str, str]]:
        """(heading, figure) for each total: its formula in the named sizes, or its number in
        full with the compact form beside it (25,557,032 (25.56 M))."""
        out = []
        for quantity, total in self._totals.items():
            if total.is_number:
                figure = f"{int(total):,}"
                short = compact(int(total))
                out.append((HEADINGS[quantity], figure + (f" ({short})" if short != figure else "")))
            else:
                out.append((HEADINGS[quantity], show(self._network.named_total(quantity), style)))
        return out

    def _sizes(self, style: str) -> list[str]:
        named = set().union(*(self._network.named_total(q).free_symbols for q in self._totals
                              if not self._totals[q].is_number))
        return [f"{show(n, style)} = {show(v, style)}" for n, v in self._network.sizes.items() if n in named]

    def __repr__(self) -> str:
        lines = self._lines("text")
        width = max(len(heading) for heading, _ in lines)
        out = [f"{heading:<{width}} = {figure}" for heading, figure in lines]
        sizes = self._sizes("text")
        return "\n".join(out + (["where " + ", ".join(sizes)] if sizes else []))

    def _repr_html_(self) -> str:
        rows = "".join(f'<tr><th style="text-align:left">{escape(heading)}</th>'
                       f'<td style="text-align:left">= {figure}</td></tr>' for heading, figure in self._lines("html"))
        sizes = self._sizes("html")
        where = f"<p>where {', '.join(sizes)}</p>" if sizes else ""
        return f'<div class="symcount"><table>{rows}</table>{where}</div>'
