"""The module file the export writes: the imports, the helper classes it uses, and the network's
class, its stacks and its forward (symcount.render.torch_module writes each layer's module)."""
from __future__ import annotations

import keyword
import re

from symcount.errors import ExportError
from symcount.layers.result import layout
from symcount.notation.spec import Input
from symcount.render.torch_helpers import HELPERS
from symcount.render.torch_lines import NARROWEST, WIDTH, fit_source
from symcount.render.torch_module import INDENT, _short, _Writer
from symcount.rows import format_shape

DEEPEST = WIDTH - NARROWEST - len(INDENT)  # a line starting deeper is one torch_lines cannot break
HOIST = len(INDENT) * 10  # the deepest a branch written above the stack starts where it was


def class_name(name: str) -> str:
    """A valid Python class name from a zoo name or a user's choice: cyclegan_resnet → CycleganResnet."""
    if not isinstance(name, str):
        raise ExportError(f"a class name is text, got {name!r}")
    words = [word for word in re.split(r"[^A-Za-z0-9]+", name) if word]  # ASCII: a valid identifier anywhere
    cleaned = "".join(word[0].upper() + word[1:] for word in words) or "Net"
    if cleaned[0].isdigit() or keyword.iskeyword(cleaned):
        cleaned = "Net" + cleaned
    return cleaned


def to_torch(network, name: str = "Net", title: str | None = None) -> str:
    """The source of a module file: imports, the join helpers it uses, and class `name`;
    `title` describes it (default: the notation's first words).  A network of two inputs (an
    encoder–decoder) is two stacks: `first` on x, whose output the cross-attentions of `layers` read,
    and `layers` on y."""
    writer = _Writer(network)
    items = network.spec.items
    cut = next((index for index, item in enumerate(items) if isinstance(item, Input)), None)
    inputs = [network.input_shape]
    first = []
    if cut is not None:
        first, writer.memory, _ = writer.items(items[:cut], network.input_shape, 3)
        inputs.append(next(row.output for row in network.layers if row.kind == "input"))
        items = items[cut + 1:]
    lines, output, _ = writer.items(items, inputs[-1], 3)
    blocks = []  # branches nested too deep to fit the width, written before the stacks
    first, lines = _unnest(first, blocks), _unnest(lines, blocks)
    shape = " and ".join(format_shape(s) for s in inputs)
    written = [line.split("#")[0].strip() for line in network.spec.source.splitlines()]
    heading = _short(title, 200) if title else "Notation: " + _short(" ".join(line for line in written if line), 70)
    heading = heading.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')  # the text as it is, inside the docstring
    source = ['"""PyTorch module written by symcount (symcount export --to torch).', "",
              heading,
              f"Input {shape} → output {format_shape(output)}; "
              f"{network.params} trainable parameters, as symcount counts them.", '"""',
              "import torch", "from torch import nn", ""]
    kept = set()  # the helpers' lines, written by hand
    for helper in sorted(writer.helpers):
        source.append("")
        start = sum(part.count("\n") + 1 for part in source) + 1
        source.append(HELPERS[helper])
        kept.update(range(start, start + HELPERS[helper].count("\n") + 1))
    cls = class_name(name)
    ids = [layout(s) == "ids" for s in inputs]
    stacks = ([f"{INDENT * 2}self.first = nn.Sequential("] + first + [f"{INDENT * 2})"] if cut is not None else [])
    if cut is None:
        forward = [f"{INDENT}def forward(self, x):"] + ([
            f"{INDENT * 2}return self.layers(x)", ""] if "Side" not in writer.helpers else [
            f"{INDENT * 2}x = self.layers(x)",
            f"{INDENT * 2}return (*[m.output for m in self.modules() if isinstance(m, Side)], x)", ""])
    else:
        forward = [f"{INDENT}def forward(self, x, y):",
                   f"{INDENT * 2}memory = self.first(x)",
                   f"{INDENT * 2}for module in self.layers.modules():  # cross-attention reads the first stack's output",
                   f"{INDENT * 3}if getattr(module, \"cross\", False):",
                   f"{INDENT * 4}module.memory = memory",
                   f"{INDENT * 2}return self.layers(y)", ""]
    source += ["", f"class {cls}(nn.Module):",
               f'{INDENT}"""Input {shape}."""', ""] + ([
               f"{INDENT}input_dtype = torch.long  # token ids", ""] if ids[0] else []) + [
               f"{INDENT}def __init__(self):",
               f"{INDENT * 2}super().__init__()"] + [line for block in blocks for line in block] + stacks + [
               f"{INDENT * 2}self.layers = nn.Sequential("] + lines + [
               f"{INDENT * 2})"] + ([f"{INDENT * 2}tie_embeddings(self)"] if "TiedLinear" in writer.helpers else []) + [
               ""] + forward
    if all(d.is_Integer for s in inputs for d in s):
        zeros = ", ".join(f"torch.zeros(1, {', '.join(str(d) for d in s)}" + (", dtype=torch.long" if long else "") + ")"
                          for s, long in zip(inputs, ids))
        source += ["", "if __name__ == \"__main__\":",
                   f"{INDENT}model = {cls}()",
                   f"{INDENT}out = model({zeros})",
                   f"{INDENT}print(*[o.shape for o in out] if isinstance(out, tuple) else [out.shape], "
                   "sum(p.numel() for p in model.parameters()))", ""]
    return fit_source("\n".join(source), kept=kept)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _unnest(lines: list[str], blocks: list, loop: bool = False) -> list[str]:
    """A stack's lines with each branch nested so deep that its lines would start past DEEPEST
    columns (U-Net's eight skips in pix2pix: 68) written before the stack instead, in `blocks`
    (the innermost first, so each is defined before it is used), and its name where it was: the
    same modules at the same places in the model.  A branch is a local variable, `branch1 =
    nn.Sequential(...)`; inside a loop (`*[nn.Sequential(...) for _ in range(n)]`, which makes its
    modules once a pass, and where a variable would be one module shared by every pass) a
    function, `def branch1(): return nn.Sequential(...)`, called where the branch was.  `loop`:
    the lines are a loop's."""
    lines, index = list(lines), 0
    while index < len(lines):
        opener, looped = _hoistable(lines, index) if _indent(lines[index]) > DEEPEST else (None, False)
        if opener is None:
            index += 1
            continue
        looped = looped or loop
        depth = _indent(lines[opener])
        close = next(i for i in range(opener + 1, len(lines)) if _indent(lines[i]) <= depth)
        inner = len(INDENT) * (4 if looped else 3)  # where the contents start: as in the stacks, or in a return
        body = _unnest([line[depth + len(INDENT) - inner:] for line in lines[opener + 1:close]], blocks, looped)
        name = f"branch{len(blocks) + 1}"  # after the branches inside it
        head = [f"{INDENT * 2}def {name}():", f"{INDENT * 3}return nn.Sequential("] if looped else \
            [f"{INDENT * 2}{name} = nn.Sequential("]
        blocks.append(([""] if looped and blocks else []) + head + body + [f"{INDENT * (3 if looped else 2)})"] +
                      ([""] if looped else []))  # a function between blank lines
        lines[opener:close + 1] = [f"{' ' * depth}{name}{'()' if looped else ''},"]
        index = opener + 1
    return lines


def _hoistable(lines: list[str], index: int) -> tuple[int | None, bool]:
    """The branch to write before the stack so that line `index` starts shallower, the deepest
    nn.Sequential around it that starts at most HOIST columns in, and whether a loop is around it."""
    around, depth = [], _indent(lines[index])
    for i in range(index - 1, -1, -1):  # the lines it is inside, the innermost first
        if _indent(lines[i]) < depth:
            around.append(i)
            depth = _indent(lines[i])
    for at, i in enumerate(around):
        if lines[i].strip() == "nn.Sequential(" and _indent(lines[i]) <= HOIST:
            return i, any("[nn.Sequential(" in lines[j] for j in around[at + 1:])
    return None, False
