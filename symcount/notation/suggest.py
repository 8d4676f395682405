"""Which known word an unknown one was meant to be, if any.

A suggestion must be a word the user plausibly meant, else there is none.  Looking alike is
not enough: rmsnorm looks like inorm, swiglu like silu, rope like crop and regnet like
segment, and each is another thing.  So a known name is suggested for a typo of it (the
same first letter and one edit away, two in a word of six letters or more, a swap of two
neighbouring letters being one edit: sofmax, rleu, batchnrom, conv2d) or for a word it
begins with (flat, dro).  Layers well known by a name symcount does not take are answered
plainly: what symcount writes instead, or that it does not count them (yet).
"""
from __future__ import annotations

import difflib

# Well-known layers symcount does not count (yet), by the names they are written with.
NOT_YET = {
    "glu": "GLU", "lstm": "an LSTM", "gru": "a GRU", "rnn": "a recurrent layer (RNN)",
    "mamba": "Mamba", "selu": "SELU", "celu": "CELU", "softplus": "Softplus",
}
# Well-known names of layers symcount writes another way.
WRITTEN_AS = {
    "dwconv": "a depthwise convolution is written dw3 (dw3/2 with a stride)",
    "depthwise": "a depthwise convolution is written dw3 (dw3/2 with a stride)",
    **dict.fromkeys(("swiglu", "geglu", "reglu"), "a gated MLP is written with mul, token by token: "
                    "mul(fc11008 silu | fc11008) fc4096 (SwiGLU; gelu for GEGLU, relu for ReGLU)"),
    **dict.fromkeys(("rope", "rotary"), "rotary positions are an option of attention: attn32[rope]"),
    "alibi": "linear biases by distance are an option of attention: attn32[alibi]",
    "gqa": "grouped-query attention is written attn32[kv_heads=8]",
    "mqa": "multi-query attention is written attn32[kv_heads=1]",
}


def known_otherwise(word: str) -> str | None:
    """What to say of a well-known layer name symcount does not take, or None."""
    key = word.lower().replace("_", "")
    if key in WRITTEN_AS:
        return WRITTEN_AS[key]
    if key in NOT_YET:
        return f"{NOT_YET[key]} is not a layer symcount knows (yet)"
    return None


def near(word: str, known, n: int = 1) -> list[str]:
    """Up to n of the `known` names that `word` was plausibly meant to be, best first."""
    lowered = word.lower()
    allowed = 1 if len(lowered) < 6 else 2
    typos = [(edits(lowered, name.lower()), -difflib.SequenceMatcher(None, lowered, name.lower()).ratio(), name)
             for name in known if name.lower()[:1] == lowered[:1] and name != word]
    chosen = [name for distance, _, name in sorted(typos) if distance <= allowed]
    if len(lowered) >= 2:
        chosen += sorted((name for name in known if name.lower().startswith(lowered) and name not in chosen), key=len)
    return list(dict.fromkeys(chosen))[:n]


def edits(a: str, b: str) -> int:
    """Letters inserted, deleted, replaced or swapped with a neighbour to turn a into b."""
    before, row = [], list(range(len(b) + 1))  # the distances from a's previous two prefixes
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            cost = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, row = row, current
    return row[-1]
