"""The paper zoo: classic networks written in the notation, one file per family.

Each ``*.sym`` file beside this module is notation with headers: its opening comment
cites the paper and says where the file deviates from it; lines before the first
``## name: title`` header (block definitions, ``rational(...)``) are shared by every
entry; each header starts an entry that runs to the next one.  An entry's text is the
whole file with the other entries' lines blanked, so an error names the file's own
line and column.

    >>> from symcount import zoo
    >>> zoo.load("resnet50").params
    25557032
    >>> zoo.load("vgg16", input="3xHxW")       # the same network on a symbolic input
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from symcount.errors import SymcountError

HEADER = re.compile(r"^##\s+([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+?)\s*$")


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    family: str       # the file, e.g. "resnet.sym"
    citation: str     # the file's opening comment: the paper and the deviations
    text: str         # notation: the shared lines and this entry's, the others blanked

    def load(self, input=None, **values):
        """The network at its standard input, or at `input` ("3xHxW"); `values` give
        symbols values (mobilenet_v1: alpha="3/4", rho="6/7")."""
        from symcount.network import parse
        network = parse(self.text, input=input)
        return network.subs(**values) if values else network


def _entries_of(family: str, source: str) -> list[Entry]:
    lines = source.splitlines()
    starts = [(number, HEADER.match(line)) for number, line in enumerate(lines) if HEADER.match(line)]
    if not starts:
        return []
    shared = lines[:starts[0][0]]
    citation = "\n".join(line[1:].strip() if line.startswith("#") else "" for line in shared
                         ).split("\n\n")[0].strip()
    entries = []
    for index, (first, match) in enumerate(starts):
        last = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        text = "\n".join(line if number < starts[0][0] or first <= number < last else ""
                         for number, line in enumerate(lines))
        entries.append(Entry(match[1], match[2], family, citation, text + "\n"))
    return entries


@lru_cache(maxsize=None)
def entries() -> dict:
    """Every zoo entry by name, in the order of the files and within each file."""
    found = {}
    folder = os.path.dirname(__file__)  # with os: importlib.resources would cost a cold command its import
    for family in sorted(name for name in os.listdir(folder) if name.endswith(".sym")):
        with open(os.path.join(folder, family), encoding="utf-8") as file:
            source = file.read()
        for entry in _entries_of(family, source):
            if entry.name in found:
                raise SymcountError(f"zoo: {entry.name} is in both {found[entry.name].family} and {family}")
            found[entry.name] = entry
    return found


def names() -> list[str]:
    return list(entries())


def find(name) -> Entry | None:
    """The entry called `name`, its case ignored (VGG16, Resnet50), or None."""
    if not isinstance(name, str):
        return None
    known = entries()
    return known.get(name) or {key.lower(): entry for key, entry in known.items()}.get(name.lower())


def near(name: str) -> list[str]:
    """Zoo names close to `name` (resnet5 -> resnet50), its case ignored."""
    return difflib.get_close_matches(name.lower(), entries(), n=3, cutoff=0.75)


def get(name: str) -> Entry:
    """The entry called `name` (its case ignored), or a SymcountError that lists the near names."""
    known = entries()
    if not isinstance(name, str):
        raise SymcountError(f"a zoo entry is named by text (symcount zoo lists them), got {name!r}")
    if find(name) is not None:
        return find(name)
    if name not in known:
        near = difflib.get_close_matches(name.lower(), known, n=3)
        hint = f"; did you mean {' or '.join(near)}?" if near else ""
        raise SymcountError(f"no zoo entry {name!r}{hint} (symcount zoo lists them: {', '.join(known)})")
    return known[name]


def notation(name: str) -> str:
    """The entry's notation text (to read, copy or change): the family's citation, the
    shared lines the entry uses (its blocks' definitions, and the blocks those use), and
    the entry's own lines, from its `## name: title` header on."""
    entry = get(name)
    lines = entry.text.splitlines()
    start = next(number for number, line in enumerate(lines) if HEADER.match(line))
    own = "\n".join(lines[start:]).strip()
    citation = "\n".join(f"# {line}" if line else "#" for line in entry.citation.splitlines())
    parts = [citation, "\n".join(_used(_chunks(lines[:start]), own)), own]
    return "\n\n".join(part for part in parts if part) + "\n"


def _chunks(shared: list[str]) -> list[tuple[str | None, str]]:
    """The shared lines' statements, comments left out: (the block a def defines, or None,
    its text), a definition running over the lines its brackets span."""
    chunks, depth = [], 0
    for line in shared:
        code = line.split("#", 1)[0].rstrip()
        if depth > 0:
            chunks[-1] = (chunks[-1][0], chunks[-1][1] + "\n" + code)
        elif code.strip():
            defined = re.match(r"\s*def\s+([A-Za-z_]\w*)", code)
            chunks.append((defined[1] if defined else None, code))
        depth += code.count("(") - code.count(")")
    return chunks


def _used(chunks: list, own: str) -> list[str]:
    """The chunks the entry needs: every statement that defines no block, and each block
    named in the entry or in a block it needs (a name followed by no letter: C64, R256)."""
    kept = {index for index, (name, _) in enumerate(chunks) if name is None}
    changed = True
    while changed:
        changed = False
        text = "\n".join([own] + [chunks[index][1] for index in kept])
        for index, (name, _) in enumerate(chunks):
            if index not in kept and re.search(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])", text):
                kept.add(index)
                changed = True
    return [chunks[index][1] for index in sorted(kept)]


def load(name: str, input=None, **values):
    """The zoo network `name` as a symcount.Network: zoo.load("resnet50"),
    zoo.load("resnet50", input="3xHxW"), zoo.load("mobilenet_v1", alpha=1, rho=1)."""
    return get(name).load(input, **values)
