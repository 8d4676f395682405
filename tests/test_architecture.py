"""The package has no import circle (docs/architecture.md), counting imports inside functions."""
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "symcount"


def imports() -> dict:
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for base, names in re.findall(r"^\s*from (symcount[\w.]*) import ([\w, ()\n]+?)(?:#|$)", path.read_text(),
                                      re.M):
            found.update(f"{base}.{n}" if f"{base}.{n}" in modules else base for n in re.findall(r"\w+", names))
        graph[name] = {m for m in found if m != "symcount" and m != name}
    return graph


def test_no_module_imports_one_that_imports_it_back():
    graph = imports()
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            assert state.get(nxt) != "open", " -> ".join(path + [nxt])
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [node])
    assert "symcount.network" in graph and "symcount.builder" in graph["symcount.network"]
