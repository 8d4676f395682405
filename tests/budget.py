"""Run texts through symcount's API in a child process, each call under a budget of time and memory.

The child (`python tests/budget.py SECONDS MEGABYTES`) reads one JSON list of cases a line from
stdin and answers one JSON list of faults a line.  Before each call it sets its address-space
limit (RLIMIT_AS) to its size then plus the budget and arms a timer, so one call that overruns
is a fault of its own, and the calls after it still run.  A fault is any exception that is not a
SymcountError, an overrun of time or memory, or a sweep that disagrees with subs at a point.

The parent side is :class:`Child`: one process kept across batches (it pays for importing SymPy
once), started again if it dies.
"""
from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


class Overrun(BaseException):
    """The call's time is up (a BaseException: no `except Exception` on the way swallows it)."""


def _size() -> int:
    """The process's virtual size in bytes, what RLIMIT_AS bounds."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _alarm(signum, frame):
    raise Overrun()


def bounded(call, seconds: float, megabytes: int):
    """("ok", value), ("refused", message) for a SymcountError, or ("fault", text)."""
    import symcount
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (_size() + megabytes * 2**20, hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return "ok", call()
    except symcount.SymcountError as error:
        return "refused", str(error)
    except Overrun:
        return "fault", f"more than {seconds} s"
    except MemoryError:
        return "fault", f"more than {megabytes} MB"
    except Exception:  # noqa: BLE001  (what the test is looking for)
        return "fault", traceback.format_exc(limit=-6)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


FORMATS = ("text", "markdown", "latex", "html", "json", "csv")
POINTS = (0, 1, 2, 3, 7, 32)


def calls(case):
    """The API calls a case makes, in order, as (name, function); each later one may use the
    network the first gives (None where that was refused)."""
    import symcount
    state = {}

    def network():
        state["net"] = symcount.parse(case["text"], input=case.get("input"), padding=case.get("padding"),
                                      rounding=case.get("rounding"))
        return state["net"]

    def table(**options):
        return lambda: state["net"].table(**options)

    def sweep():
        net = state["net"]
        points = {name: [POINTS[(i + k) % len(POINTS)] for i in range(len(POINTS))]
                  for k, name in enumerate(net.symbols)}
        result = net.sweep(**points)
        for index in range(len(POINTS)):  # one meaning: sweep counts a point as subs builds it
            at = {name: column[index] for name, column in points.items()}
            try:
                params = net.subs(**at).params
            except symcount.SymcountError:
                params = None
            if params != result["params"][index]:
                raise AssertionError(f"sweep gives params {result['params'][index]} at {at}, subs {params}")
        return result

    def solve():
        net = state["net"]
        at = {name: 3 for name in net.symbols}
        fact = f"params={net.subs(**at).params}"
        result = net.solve([fact], {name: range(0, 5) for name in net.symbols})
        if at not in result.solutions:
            raise AssertionError(f"solve([{fact!r}]) misses {at}: {result.solutions}")
        return result

    def valid_sizes():
        net, found = state["net"], []
        for report in net.check().symbols:
            if set(net.symbols) <= {report.symbol}:
                found.append(net.valid_sizes(**{report.symbol: range(1, 65)}))
        return found

    yield "parse", network
    for format in FORMATS:
        yield f"table {format}", table(format=format)
    yield "table folded, receptive field", table(depth=0, receptive_field=True, memory="float16")
    yield "check", lambda: state["net"].check()
    yield "sweep", lambda: sweep() if state["net"].symbols else None
    yield "solve", lambda: solve() if state["net"].symbols else None
    yield "valid_sizes", valid_sizes


def run_case(case, seconds, megabytes) -> list:
    faults = []
    for name, call in calls(case):
        outcome, detail = bounded(call, seconds, megabytes)
        if outcome == "fault":
            faults.append({"case": case, "call": name, "fault": detail})
        if name == "parse" and outcome != "ok":
            break
    return faults


def serve(seconds: float, megabytes: int):
    signal.signal(signal.SIGALRM, _alarm)
    sys.setrecursionlimit(10_000)
    import symcount  # noqa: F401  (imported before the first budget starts)
    for line in sys.stdin:
        faults = [fault for case in json.loads(line) for fault in run_case(case, seconds, megabytes)]
        print(json.dumps(faults), flush=True)


class Child:
    """The parent's side: batches of cases in, their faults out."""

    def __init__(self, seconds: float, megabytes: int):
        self.seconds, self.megabytes, self.process = seconds, megabytes, None

    def _start(self):
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "budget.py"), str(self.seconds),
                                         str(self.megabytes)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env={**os.environ, "PYTHONHASHSEED": "0"})

    def run(self, cases) -> list:
        if self.process is None or self.process.poll() is not None:
            self._start()
        self.process.stdin.write(json.dumps(cases) + "\n")
        self.process.stdin.flush()
        # every call of every case within its budget, with room for the calls that answer at once
        deadline = len(cases) * (len(FORMATS) + 6) * self.seconds + 30
        ready, _, _ = select.select([self.process.stdout], [], [], deadline)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.close()
            return [{"case": cases, "call": "the batch", "fault": "the child died or hung past every budget"}]
        return json.loads(line)

    def close(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


if __name__ == "__main__":
    serve(float(sys.argv[1]), int(sys.argv[2]))
