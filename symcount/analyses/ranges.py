"""What to sweep, as the `sweep` command and the prompt's `:sweep` write it: one parser for both.

A word NAMES=VALUES gives one axis:

    T=1..4096          every integer from 1 to 4096 (both ends included)
    T=0..4096:256      an arithmetic step: 0, 256, ..., 4096
    T=1..4096:2x       a geometric one: 1, 2, 4, ..., 4096 (a whole ratio >= 2)
    T=1,2,4,8          a list; items may be ranges too: T=1..8,1024
    L=12               one value (held fixed)
    H,W=32..512:32     several names that take the same values together (a square input)

Axes make a grid, every combination of their values; with `--paired` they go together
instead, point by point, and must have one length.  Values are parsed here, digit by digit:
nothing of the user's text is evaluated.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from symcount.errors import LimitError, SymcountError

MAX_POINTS = 10_000  # points a sweep lists (one line each)
PAIRED = "--paired"
NAME = r"[A-Za-z_]\w*"
WORD = re.compile(rf"\s*({NAME}(?:\s*,\s*{NAME})*)\s*=\s*(\S.*?)\s*")
ITEM = re.compile(r"([0-9]{1,30})(?:\.\.([0-9]{1,30})(?::([0-9]{1,30})(x?))?)?")
SYNTAX = "NAME=LO..HI, NAME=LO..HI:STEP, NAME=LO..HI:2x, NAME=1,2,4 or NAME=N (H,W=... for names taken together)"


@dataclass(frozen=True)
class Axis:
    names: tuple     # the names that take these values together
    values: tuple    # whole numbers, in the order written


@dataclass(frozen=True)
class Plan:
    """A sweep's points: {name: [value at each point]}, and the axes they came from."""
    axes: tuple
    paired: bool
    columns: dict
    length: int

    @property
    def swept(self) -> list:
        """The names whose value changes, in the order written."""
        return [name for axis in self.axes if len(set(axis.values)) > 1 for name in axis.names]

    @property
    def fixed(self) -> dict:
        return {name: axis.values[0] for axis in self.axes if len(set(axis.values)) == 1 for name in axis.names}


def _count(low: int, high: int, step: int, geometric: bool) -> int:
    if high < low:
        return 0
    if not geometric:
        return (high - low) // step + 1
    count, value = 0, low
    while value <= high:
        count, value = count + 1, value * step
    return count


def _item(word: str, text: str) -> tuple[int, int, int, bool]:
    match = ITEM.fullmatch(text.strip())
    if not match:
        raise SymcountError(f"sweep: cannot read {text.strip()!r} in {word!r}; write {SYNTAX}")
    low = int(match[1])
    high = int(match[2]) if match[2] is not None else low
    step, geometric = int(match[3] or 1), bool(match[4])
    if high < low:
        raise SymcountError(f"sweep: {text.strip()!r} in {word!r} goes from {low} down to {high}; write LO..HI")
    if geometric and (step < 2 or low < 1):
        raise SymcountError(f"sweep: a geometric range {text.strip()!r} needs a ratio of 2 or more and a start "
                            "of 1 or more")
    if step < 1:
        raise SymcountError(f"sweep: the step in {text.strip()!r} must be at least 1")
    return low, high, step, geometric


def axis(word: str) -> Axis:
    """One NAMES=VALUES word as an Axis; its values counted before any is listed."""
    match = WORD.fullmatch(word)
    if not match:
        raise SymcountError(f"sweep takes {SYNTAX}; got {word!r}")
    names = tuple(name.strip() for name in match[1].split(","))
    items = [_item(word, text) for text in match[2].split(",")]
    count = sum(_count(*item) for item in items)
    if count > MAX_POINTS:
        raise LimitError(f"sweep: {word!r} has {count:,} values, more than {MAX_POINTS:,} (take a step: "
                         f"{names[0]}=1..4096:64, or a ratio: {names[0]}=1..4096:2x)")
    values = []
    for low, high, step, geometric in items:
        value = low
        while value <= high:
            values.append(value)
            value = value * step if geometric else value + step
    return Axis(names, tuple(values))


def plan(words, paired: bool = False) -> Plan:
    """The points of NAMES=VALUES words (a `--paired` word among them pairs the axes)."""
    words = list(words)
    paired = paired or PAIRED in words
    axes = [axis(word) for word in words if word != PAIRED]
    if not axes:
        raise SymcountError(f"sweep needs what to sweep, e.g. T=1..4096:2x ({SYNTAX})")
    names = [name for a in axes for name in a.names]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise SymcountError(f"sweep: {', '.join(twice)} given more than once")
    if paired:
        lengths = {len(a.values) for a in axes if len(a.values) > 1}
        if len(lengths) > 1:
            raise SymcountError(f"sweep --paired: the ranges go together point by point, so they need one length; "
                                f"got {', '.join(f'{a.names[0]}: {len(a.values)}' for a in axes)}")
        length = lengths.pop() if lengths else 1
        rows = [tuple(a.values if len(a.values) > 1 else a.values * length for a in axes)]
        points = list(zip(*rows[0]))
    else:
        length = 1
        for a in axes:
            length *= len(a.values)
        if length > MAX_POINTS:
            raise LimitError(f"sweep: a grid of {length:,} points, more than {MAX_POINTS:,} (fewer values, or "
                             f"--paired to take the ranges together)")
        points = list(itertools.product(*(a.values for a in axes)))
    columns = {}
    for index, a in enumerate(axes):
        for name in a.names:
            columns[name] = [point[index] for point in points]
    return Plan(tuple(axes), paired, columns, length)
