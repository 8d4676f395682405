"""A receptive field's figure in a cell: a reason it has none in its short word, and a figure
that differs between the axes as one formula per axis, "h×w", which a text table may move
under itself like any formula (symcount.analyses.receptive: Missing, PerAxis)."""
from __future__ import annotations

from symcount.analyses.receptive import Missing, PerAxis
from symcount.render.formula import show

FOOTNOTE = (": ", "×")  # a moved formula may also break after its place and between its axes


def _compound(value) -> bool:
    """Whether a value needs brackets beside ×: a sum, or a formula with a leading minus."""
    return getattr(value, "is_Add", False) or not getattr(value, "is_number", True) and \
        value.could_extract_minus_sign()


def axes(value: PerAxis, plain) -> list[str]:
    """Each axis's formula, bracketed where it is a sum."""
    return [f"({plain(v)})" if _compound(v) else plain(v) for v in value.values]


def per_axis(value: PerAxis, plain) -> str:
    """(8·⌊H/16⌋ − 2)×(8·⌊W/16⌋ − 2)."""
    return "×".join(axes(value, plain))


def cell(value: str, plain) -> tuple[str, bool]:
    """A text value's cell and whether it may move out of it; `plain` writes one expression."""
    if isinstance(value, PerAxis):
        return per_axis(value, plain), True
    if isinstance(value, Missing):
        return value.short, False
    return value, False


def notes(columns) -> list[str]:
    """What the short words in these columns stand for."""
    shown = {v: None for column in columns for v in column.figures if isinstance(v, Missing) and v.short != v}
    return [f"{v.short}: {v.meaning}" for v in shown]


def text(value) -> str:
    """A figure as a note writes it: a formula as the table writes it, one per axis."""
    if isinstance(value, PerAxis):
        return per_axis(value, show)
    return value if isinstance(value, str) else show(value)
