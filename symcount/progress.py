"""Progress of long loops (solve, sweep): an indicator the caller installs, not the analyses.

The analyses only say how far they are (``steps``); a front end that wants an indicator
installs one for the duration of a call:

    with progress.reporting(progress.Bar(sys.stderr)):
        network.solve(facts, bounds)

The CLI does so when standard error is a terminal, and the REPL always; the Python API
stays silent unless asked.
"""
from __future__ import annotations

import contextvars
import sys
import time
from contextlib import contextmanager

_current: contextvars.ContextVar = contextvars.ContextVar("symcount_progress", default=None)
EVERY = 2048  # items between two looks at the clock


class Bar:
    """One line redrawn in place: `solve: 1,234,000 / 4,000,000 (31%)`.  Work shorter than
    `minimum` items draws nothing; the line is redrawn at most every `interval` seconds and
    erased at the end."""

    def __init__(self, stream=None, interval: float = 0.1, minimum: int = 100_000):
        self.stream = stream if stream is not None else sys.stderr
        self.interval, self.minimum = interval, minimum
        self.label, self.total, self.drawn, self.last = "", 0, False, 0.0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.drawn, self.last = label, total, False, 0.0

    def update(self, done: int) -> None:
        if self.total < self.minimum:
            return
        now = time.monotonic()
        if self.drawn and now - self.last < self.interval:
            return
        self.last, self.drawn = now, True
        self.stream.write(f"\r{self.label}: {done:,} / {self.total:,} ({100 * done // self.total}%)")
        self.stream.flush()

    def finish(self) -> None:
        if self.drawn:
            self.stream.write(f"\r{self.label}: {self.total:,} / {self.total:,} (100%)\n")
            self.stream.flush()


@contextmanager
def reporting(reporter):
    """Install `reporter` (start/update/finish, as Bar) for the calls made inside."""
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)


def steps(items, total: int, label: str):
    """Iterate over items, telling the installed reporter how far along it is."""
    reporter = _current.get()
    if reporter is None:
        yield from items
        return
    reporter.start(label, total)
    for done, item in enumerate(items):
        if done % EVERY == 0:
            reporter.update(done)
        yield item
    reporter.finish()
