"""The quantities a sweep can follow: each a name, the words a table and a plot show for it,
and the function of a network that gives its closed form.

One table, so the sweep command, the prompt's :sweep and the plot ask for a quantity by the
same name and label it the same way.  The byte counts take a dtype (None: the default the
network's own method has, float32 for memory and float16 for the KV cache).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from symcount import algebra as al
from symcount.analyses.memory import dtype_name
from symcount.errors import SymcountError

ATTENTION_KINDS = ("attn", "wattn")  # rows whose MACs are attention's: global and windowed
BYTES = {"memory": "float32", "kv_cache": "float16"}  # the byte counts, each with its default dtype


@dataclass(frozen=True)
class Quantity:
    name: str
    heading: str     # a table's column heading
    label: str       # what it is, a plot panel's title
    unit: str        # what it counts, a plot's axis label
    of: Callable     # (network, dtype) -> its closed form


def attention_macs(network):
    """The MACs of the attention rows (projections and the score products): what grows as T² in a
    transformer; the network's MACs less these are the rest (embeddings, MLPs, heads)."""
    return al.expand(al.Add(*[row.macs for row in network.layers if row.kind in ATTENTION_KINDS]))


def _memory(network, dtype):
    memory = network.memory(dtype or BYTES["memory"])
    return memory.weights_file + memory.bytes(memory.activations)


def _kv_cache(network, dtype):
    return network.kv_cache(dtype or BYTES["kv_cache"])


QUANTITIES = {q.name: q for q in (
    Quantity("params", "params", "trainable parameters", "parameters", lambda net, dtype: net.params),
    Quantity("weights", "weights", "weights (parameters without biases)", "weights", lambda net, dtype: net.weights),
    Quantity("biases", "biases", "biases", "biases", lambda net, dtype: net.biases),
    Quantity("non_trainable", "non-train.", "non-trainable values", "values", lambda net, dtype: net.non_trainable),
    Quantity("activations", "activations", "activations (output elements of every layer)", "elements",
             lambda net, dtype: net.activations),
    Quantity("macs", "MACs", "MACs per forward pass", "MACs", lambda net, dtype: net.macs),
    Quantity("attention", "attention", "MACs of the attention layers", "MACs", lambda net, dtype: attention_macs(net)),
    Quantity("training", "training", "FLOPs per training step, per sample", "FLOPs",
             lambda net, dtype: net.training_flops().total),
    Quantity("memory", "memory", "memory: the weights and every layer's output", "bytes", _memory),
    Quantity("kv_cache", "KV cache", "bytes of the KV cache of one sequence", "bytes", _kv_cache),
)}
DEFAULT = ("params", "macs", "activations")


def dtype_of(quantity: Quantity, dtype: str | None) -> str | None:
    """The dtype a byte count is in (None for a count of something else)."""
    return (dtype or BYTES[quantity.name]) if quantity.name in BYTES else None


def chosen(written: str | None) -> list[Quantity]:
    """The quantities of a comma-separated list such as 'params,macs,training' (None: the default)."""
    names = [name.strip().lower() for name in (written or ",".join(DEFAULT)).split(",") if name.strip()]
    unknown = [name for name in names if name not in QUANTITIES]
    if unknown or not names:
        raise SymcountError(f"unknown quantity {', '.join(map(repr, unknown)) or '(none given)'}; choose from "
                            f"{', '.join(QUANTITIES)}")
    return [QUANTITIES[name] for name in dict.fromkeys(names)]


def functions(network, quantities: list[Quantity], dtype: str | None = None) -> dict:
    """{name: function of a network} for symcount.analyses.sweep.sweep_of, refusing a quantity the
    network does not have (a KV cache without causal attention), and a dtype that is none."""
    if dtype is not None:
        dtype_name(dtype)
    if any(q.name == "kv_cache" for q in quantities) and _kv_cache(network, dtype) == 0:
        raise SymcountError("kv_cache: this network keeps no keys and values (a decoder's causal attention "
                            "layers, attn[causal], keep them)")
    return {q.name: _Bound(q.of, dtype) for q in quantities}


@dataclass(frozen=True)
class _Bound:
    """A quantity's function with its dtype given: one value, so sweeps of one choice share a compile."""
    of: Callable
    dtype: str | None

    def __call__(self, network):
        return self.of(network, self.dtype)
