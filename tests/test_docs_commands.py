"""Every symcount command the README and docs show runs as written, and prints what they show.

Commands are taken from the fenced ```sh blocks (lines that start with `symcount` or `echo`)
and from ```text blocks (lines that start with `$ symcount`, followed by the output they
show).  Each runs in a scratch folder; it must exit 0, or 1 for `check` and `solve`, whose
status says whether the network is integral or solvable, and never print a traceback.  Every
output line a block shows (but lines elided with … or ...) must be in what the command prints.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def examples():
    """(file, command, shown output lines) for every command in the docs."""
    found = []
    for path in FILES:
        for kind, body in FENCE.findall(path.read_text(encoding="utf-8")):
            lines = body.splitlines()
            if kind == "sh":
                for line in lines:
                    if re.match(r"(symcount|echo) ", line) and "symcount repl" not in line:
                        found.append((path.name, _without_comment(line), []))
            elif kind == "text":
                for index, line in enumerate(lines):
                    if line.startswith("$ symcount ") and "symcount repl" not in line:
                        shown = []
                        for later in lines[index + 1:]:
                            if later.startswith("$ "):
                                break
                            shown.append(later)
                        found.append((path.name, line[2:], shown))
    return found


def _without_comment(line: str) -> str:
    """The command without a trailing `# comment` (a # outside quotes)."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted and (index == 0 or line[index - 1] == " "):
            return line[:index].rstrip()
    return line


EXAMPLES = examples()


def test_the_docs_show_commands():
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize("name,command,shown", EXAMPLES, ids=[f"{n}:{c[:50]}" for n, c, _ in EXAMPLES])
def test_a_documented_command_runs_as_written(name, command, shown, tmp_path):
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                   "COLUMNS": "80"}
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env=environment)
    allowed = (0, 1) if re.match(r"symcount (check|solve) ", command) else (0,)
    assert done.returncode in allowed and "Traceback" not in done.stderr, f"{name}: {command}\n{done.stderr}"
    printed = {line.strip() for line in done.stdout.splitlines()}
    missing = [line for line in shown if line.strip() not in ("", "...") and "…" not in line and line.strip() not in printed]
    assert not missing, f"{name}: {command}\nshown but not printed: {missing[:3]}"
