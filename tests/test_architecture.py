"""The package has no import circle (docs/architecture.md), counting imports inside functions."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "symcount"


def imports() -> dict:
    """{module: the symcount modules it imports anywhere in its body}."""
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("symcount"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    found.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("symcount"))
        graph[name] = found - {"symcount", name}
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
    assert "symcount.builder" in graph["symcount.network"] and "symcount.analyses.sweep" in graph["symcount.network"]
