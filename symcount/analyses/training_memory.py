"""The memory of training, per device: the model states (weights, gradients, optimizer states) and the
activations kept for the backward pass (symcount.analyses.kept), in bytes.

Model states, Ψ parameters (Rajbhandari et al. 2020, ZeRO, §3.1):
  precision  weights  gradients  optimizer, a parameter
  fp32       4        4          4 a moment
  mixed      2        2          4 (an fp32 master copy) + 4 a moment: Adam's 16Ψ in all
  bf16       2        2          2 a moment (no master copy)
  moments: sgd 0, momentum 1, adam and adamw 2 (PyTorch's exp_avg and exp_avg_sq; the step counter,
  one number a parameter tensor, is left out).  BatchNorm's running statistics count as weights.
ZeRO over `devices` data-parallel ranks N_d: stage 1 divides the optimizer states by N_d, stage 2 also
the gradients, stage 3 also the weights.  Tensor parallelism divides every parameter but the norms'
(replicated, as Megatron-LM keeps them) by t.  Activations are per device for a micro-batch of `batch`.
"""
from __future__ import annotations

from dataclasses import dataclass

from symcount import algebra as al
from symcount.given import whole, whole_or_symbol
from symcount.analyses.kept import CONVENTIONS, JOINS_KEEPING, Dtypes, keeps
from symcount.errors import SymcountError
from symcount.flow import makes_tensor
from symcount.layers.result import layout
from symcount.shown import figure, shown_fields

MB, GIB = 10**6, 2**30

OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}  # moments a parameter
PRECISIONS = {"fp32": dict(weights=4, gradients=4, master=0, moment=4, activations=4),
              "mixed": dict(weights=2, gradients=2, master=4, moment=4, activations=2),
              "bf16": dict(weights=2, gradients=2, master=0, moment=2, activations=2)}
RECOMPUTE = ("none", "selective", "full")
NORMS = ("layernorm", "rmsnorm", "bn", "groupnorm", "instancenorm")


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes per device: each a number or a formula."""
    weights: object
    gradients: object
    optimizer: object
    activations: object
    settings: tuple = ()

    def __post_init__(self):
        shown_fields(self)

    @figure
    def total(self):
        return self.weights + self.gradients + self.optimizer + self.activations

    def items(self) -> list:
        """(key, label, bytes) of every figure, in the order a report shows them."""
        return [("weights", "weights", self.weights), ("gradients", "gradients", self.gradients),
                ("optimizer_states", "optimizer states", self.optimizer),
                ("activations_kept", "activations kept", self.activations), ("total", "total", self.total)]

    def lines(self, wide: bool = True, shown=str) -> list[str]:
        """The report as text lines; `wide` gives every byte, `shown` prints a formula."""
        def amount(expr):
            if not al.is_constant(expr):
                return f"{shown(expr)} bytes"
            whole = int(expr) == expr
            exact = f"{int(expr):,} bytes" if whole else f"{float(expr):,.1f} bytes"
            if float(expr) < MB:
                return exact
            return (f"{exact} = " if wide else "") + f"{float(expr) / MB:,.2f} MB = {float(expr) / GIB:,.3f} GiB"

        s = dict(self.settings)
        size = PRECISIONS[s["precision"]]
        optimizer = size["master"] + OPTIMIZERS[s["optimizer"]] * size["moment"]
        head = ["training memory per device (MB = 10^6 bytes, GiB = 2^30 bytes):",
                f"  {s['optimizer']}, {s['precision']}: {size['weights']} + {size['gradients']} + {optimizer} bytes "
                f"a parameter; ZeRO stage {s['zero']}, {s['devices']} device{'s' if s['devices'] != 1 else ''}",
                f"  activations as {'PyTorch autograd keeps them' if s['convention'] == 'pytorch' else 'Megatron-LM counts them'}"
                f", batch {s['batch']}" + (f", tensor parallel {s['tensor_parallel']}" if s['tensor_parallel'] != 1 else "")
                + (", sequence parallel" if s["sequence_parallel"] else "")
                + (f", recompute {s['recompute']}" if s["recompute"] != "none" else "")]
        width = max(len(label) for _, label, _ in self.items())
        return head + [f"  {label:<{width}}  {amount(value)}" for _, label, value in self.items()]


def _choice(value, choices, what):
    key = str(value).lower()
    if key not in choices:
        raise SymcountError(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")
    return key


def training_memory(network, optimizer="adam", precision="mixed", zero=0, devices=1, activations="pytorch",
                    tensor_parallel=1, sequence_parallel=False, recompute="none", batch=1) -> TrainingMemory:
    optimizer = _choice(optimizer, OPTIMIZERS, "optimizer")
    precision = _choice(precision, PRECISIONS, "precision")
    convention = _choice(activations, CONVENTIONS, "activations convention")
    recompute = _choice(recompute, RECOMPUTE, "recompute")
    if zero not in (0, 1, 2, 3) or isinstance(zero, bool):
        raise SymcountError(f"zero is a ZeRO stage, 0, 1, 2 or 3, got {zero!r}")
    devices = whole(devices, "devices")
    t = whole_or_symbol(network, tensor_parallel, "tensor_parallel")
    if not isinstance(sequence_parallel, bool):
        raise SymcountError(f"sequence_parallel is true or false, got {sequence_parallel!r}")
    if convention == "pytorch" and (t != 1 or sequence_parallel or recompute != "none"):
        raise SymcountError("activations='pytorch' counts what eager autograd keeps on one device without "
                            "recomputation; tensor and sequence parallelism and recomputation are counted under "
                            "activations='megatron'")
    size = PRECISIONS[precision]
    _check_divides(network, t, sequence_parallel)
    split = network.params - sum((row.params for row in network.layers if row.kind in NORMS), al.Integer(0))
    params = (network.params - split) + split / t
    states = {"weights": size["weights"] * (params + network.non_trainable),  # running statistics: a norm's
              "gradients": size["gradients"] * params,
              "optimizer": (size["master"] + OPTIMIZERS[optimizer] * size["moment"]) * params}
    sharded = {1: ("optimizer",), 2: ("optimizer", "gradients"), 3: ("optimizer", "gradients", "weights")}
    for name in sharded.get(zero, ()):
        states[name] = states[name] / devices
    dt = Dtypes(value=size["activations"], mask=size["activations"]) if convention == "pytorch" else Dtypes(2, 1)
    per_sample, shared = activation_bytes(network, convention, dt, t, sequence_parallel, recompute)
    batch = whole_or_symbol(network, batch, "batch")
    settings = (("optimizer", optimizer), ("precision", precision), ("zero", zero), ("devices", devices),
                ("convention", convention), ("tensor_parallel", t), ("sequence_parallel", sequence_parallel),
                ("recompute", recompute), ("batch", batch))
    return TrainingMemory(*(al.expand(states[name]) for name in ("weights", "gradients", "optimizer")),
                          al.expand(batch * per_sample + shared), settings)


def _check_divides(network, t, sequence_parallel):
    """Tensor parallelism splits attention's heads and key/value heads and the wider layers' features
    over t; sequence parallelism the tokens: each must divide where it is a number."""
    if t == 1 or not al.is_constant(t):
        return
    attention = [row for row in network.layers if row.kind == "attn"]
    if not attention:
        raise SymcountError("tensor parallelism splits attention's heads and an MLP's features: this network has "
                            "no attention")
    widths = _model_widths(network)
    for row in network.layers:
        options = dict(row.options)
        sizes = [("heads", options.get("heads")), ("key/value heads", options.get("kv_heads"))] \
            if row.kind == "attn" else []
        if layout(row.output) == "tokens" and row.output[-1] not in widths and row is not network.layers[-1]:
            sizes.append(("features", row.output[-1]))  # the logits' vocabulary is padded to a multiple of t
        if sequence_parallel and layout(row.input) == "tokens":
            sizes.append(("tokens", row.input[0]))
        for what, value in sizes:
            if value is not None and al.is_constant(value) and value % t:
                raise SymcountError(f"{row.name}: tensor parallelism over {t} devices splits its {what}, {value}, "
                                    f"which {t} does not divide")


def _model_widths(network) -> set:
    """The model's widths, attention's inputs': tensors this wide are replicated under tensor parallelism
    (without sequence parallelism), the wider ones between a column- and a row-parallel layer split."""
    return {row.input[-1] for row in network.layers if row.kind == "attn"}


def activation_bytes(network, convention, dt, t=1, sequence_parallel=False, recompute="none"):
    """(bytes a sample, bytes the whole batch shares) of what the backward pass keeps."""
    flow, rows = network.flow, network.layers
    if any(join.kind == "moe" for join in flow.joins):
        raise SymcountError(f"activations={convention!r} has no rule for a mixture of experts (each expert keeps "
                            "its share of the tokens)")
    skipped_rows, skipped_joins = set(), set()
    if recompute == "full":
        for repeat in flow.repeats:
            skipped_rows.update(range(repeat.start, repeat.end))
            skipped_joins.update(range(*repeat.joins))
    widths = _model_widths(network)

    def divisor(shape):
        wide = layout(shape) == "tokens" and shape[-1] not in widths
        return t if sequence_parallel or wide else 1

    grad = _carrying_gradients(network)
    producers, readers, total, shared = {}, {}, al.Integer(0), {}
    for index, row in enumerate(rows):
        if index in skipped_rows:
            continue
        kept = keeps(row, convention, dt, recompute)
        trained = row.params != 0  # a layer with weights keeps its input for their gradient
        reads = [read for read in row.reads if trained or grad.get(read[0])]  # autograd records the others not
        active = row.count * al.Add(*[share for _, share, _ in reads])
        for part in kept.extra:
            amount = active * part.bytes / (t if part.inner else divisor(row.input))
            if part.per_sample:
                total += amount
            else:
                shared[index] = amount
        if makes_tensor(row):  # a view's tensor is its input's, recorded where that was made
            producers[row.tensor] = (kept.output and active != 0, active)
        if kept.input:
            for tensor, share, slot in reads:
                readers.setdefault(tensor, {}).setdefault(slot, row.count * share)
        options = dict(row.options)
        if convention == "pytorch" and row.kind == "attn" and options.get("rope"):
            n, head = row.input[0], options.get("head_dim", row.input[1] / options["heads"])
            shared[(n, head)] = 2 * n * head * dt.value  # cos and sin, made once for every layer
    for index, join in enumerate(flow.joins):
        if index in skipped_joins:
            continue
        producers[join.tensor] = (False, join.count)
        if join.kind in JOINS_KEEPING:  # a product keeps each factor the other's gradient needs
            for tensor, share, slot in join.operands:
                if any(grad.get(other) for other, _, _ in join.operands if other != tensor):
                    readers.setdefault(tensor, {}).setdefault(slot, join.count * share)
    for tensor, shape in flow.shapes.items():
        keeps_output, count = producers.get(tensor, (False, 1))
        read = sum(readers.get(tensor, {}).values(), al.Integer(0))
        copies = read if not keeps_output else count if read == 0 else al.Max(count, read)
        if copies != 0:
            each = dt.index if tensor in flow.ids else dt.value
            total += copies * al.Mul(*shape) * each / divisor(shape)
    if recompute == "full":
        for repeat in flow.repeats:
            for shape, passes in repeat.inputs:
                total += passes * al.Mul(*shape) * dt.value / divisor(shape)
    return al.expand(total), al.expand(al.Add(*shared.values()))


def _carrying_gradients(network) -> dict:
    """Which tensors carry a gradient: those a layer with weights makes, and every one made from them.
    The data does not.  Tensors are made in the order of their ids; a folded pass also reads its own
    output (a later id), so this runs to a fixed point."""
    made = sorted([(row.tensor, row.params != 0, row.reads) for row in network.layers
                   if makes_tensor(row)] +
                  [(join.tensor, False, join.operands) for join in network.flow.joins], key=lambda m: m[0])
    grad, changed = {}, True
    while changed:
        changed = False
        for tensor, weighted, reads in made:
            carries = weighted or any(grad.get(t, False) for t, _, _ in reads)
            if grad.get(tensor) != carries:
                grad[tensor], changed = carries, True
    return grad


SETTING_NAMES = {"optimizer": "optimizer", "precision": "precision", "zero": "zero", "devices": "devices",
                 "activations": "activations", "tensor_parallel": "tensor_parallel", "tp": "tensor_parallel",
                 "t": "tensor_parallel", "sequence_parallel": "sequence_parallel", "sp": "sequence_parallel",
                 "recompute": "recompute", "batch": "batch", "b": "batch"}


def settings_from_text(text: str) -> dict:
    """training_memory's keyword arguments from `adam,mixed,zero=2,devices=8,megatron,tp=2,sp,batch=4`:
    a bare word names an optimizer, a precision, an activations convention or sequence parallelism."""
    settings = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, value = (piece.strip() for piece in item.partition("="))
        if not sep:
            value, name = name, next((key for key, table in (("optimizer", OPTIMIZERS), ("precision", PRECISIONS),
                                                               ("activations", CONVENTIONS)) if name.lower() in table),
                                     "sequence_parallel" if name.lower() in ("sp", "sequence_parallel") else None)
            if name is None:
                raise SymcountError(f"training memory setting {item!r}: a bare word is an optimizer "
                                    f"({', '.join(OPTIMIZERS)}), a precision ({', '.join(PRECISIONS)}), "
                                    f"an activations convention ({', '.join(CONVENTIONS)}) or sp")
            value = True if name == "sequence_parallel" else value
        elif name.lower() not in SETTING_NAMES:
            raise SymcountError(f"training memory setting {item!r}: unknown name {name!r}; the names are "
                                f"{', '.join(sorted(set(SETTING_NAMES.values())))} (tp, sp and b for short)")
        name = SETTING_NAMES.get(name.lower(), name)
        if isinstance(value, str) and name in ("zero", "devices", "tensor_parallel", "batch"):
            value = int(value) if value.isdigit() else value
        if isinstance(value, str) and name == "sequence_parallel":
            if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise SymcountError(f"training memory setting {item!r}: sequence_parallel is true or false")
            value = value.lower() in ("true", "yes", "1")
        if name in settings:
            raise SymcountError(f"training memory setting {item!r}: {name} is given twice")
        settings[name] = value
    return settings
