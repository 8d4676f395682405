"""The progress indicator on long solves and sweeps."""
import io

import symcount
from symcount import progress


class Recorder:
    def __init__(self):
        self.events = []

    def start(self, label, total):
        self.events.append(("start", label, total))

    def update(self, done):
        self.events.append(("update", done))

    def finish(self):
        self.events.append(("finish",))


def test_solve_reports_every_combination_it_searches():
    net = symcount.parse("input 3x227x227 conv11-96/4[pad={p}]")
    recorder = Recorder()
    with progress.reporting(recorder):
        result = net.solve(["conv1=55x55"], {"p": range(0, 5000)})
    assert {"p": 0} in result.solutions  # (227 - 11)/4 + 1 = 55
    assert recorder.events[0] == ("start", "solve", 5000)
    assert recorder.events[-1] == ("finish",)
    updates = [e[1] for e in recorder.events if e[0] == "update"]
    assert updates == sorted(updates) and updates[0] == 0 and max(updates) < 5000


def test_sweep_reports_and_nothing_is_reported_without_a_reporter():
    net = symcount.parse("input 3xSxS conv3-8 pool fc10")
    recorder = Recorder()
    with progress.reporting(recorder):
        net.sweep(S=range(8, 5000, 2))
    assert recorder.events[0] == ("start", "sweep", len(range(8, 5000, 2)))
    quiet = Recorder()
    net.sweep(S=range(8, 100, 2))  # no reporter installed: the analyses stay silent
    assert quiet.events == []


def test_bar_draws_a_line_that_ends_at_100_percent_and_skips_short_work():
    stream = io.StringIO()
    bar = progress.Bar(stream, interval=0, minimum=10)
    with progress.reporting(bar):
        symcount.parse("input 3x64x64 conv{k}-8[pad={p}]").solve(["conv1=64x64"], {"k": range(1, 60), "p": range(0, 40)})
    text = stream.getvalue()
    assert text.startswith("\rsolve: 0 / 2,360 (0%)") and text.endswith("\rsolve: 2,360 / 2,360 (100%)\n")
    short = io.StringIO()
    with progress.reporting(progress.Bar(short, minimum=10_000)):
        symcount.parse("input 3x64x64 conv3-8[pad={p}]").solve(["conv1=64x64"], {"p": range(0, 40)})
    assert short.getvalue() == ""
