"""Memory per image: the weights' size, and activations counted the two usual ways.

- every layer's output (symcount's `activations`; torchsummary sums all modules' outputs);
- the outputs of layers with parameters only (torchinfo's "Forward/backward pass size" and
  fvcore's ActivationCountAnalysis count these).
A forward + backward figure is an estimate, as both tools make it: twice the activations
(the outputs kept for the backward pass, and their gradients).  MB are 10^6 bytes (torchinfo),
MiB 2^20 bytes (torchsummary).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from symcount.errors import SymcountError
from symcount.shown import figure, shown_fields

DTYPES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
MB, MIB = 10**6, 2**20


@dataclass(frozen=True)
class Memory:
    dtype: str
    bytes_per_element: int
    params: sympy.Expr                 # elements of the trainable parameters
    non_trainable: sympy.Expr          # BatchNorm running statistics
    activations: sympy.Expr            # every layer's output
    activations_with_params: sympy.Expr  # outputs of layers with parameters (torchinfo, fvcore)

    def __post_init__(self):
        shown_fields(self)

    def bytes(self, elements) -> sympy.Expr:
        return elements * self.bytes_per_element

    @figure
    def weights_file(self) -> sympy.Expr:
        """Bytes of the parameters and running statistics: a saved state dict's floating-point
        tensors (BatchNorm's int64 num_batches_tracked counters, 8 bytes each, apart)."""
        return self.bytes(self.params + self.non_trainable)

    @figure
    def forward_backward(self) -> sympy.Expr:
        """An estimate: 2 × every layer's output bytes (torchsummary's "Forward/backward pass size")."""
        return 2 * self.bytes(self.activations)

    @figure
    def forward_backward_with_params(self) -> sympy.Expr:
        """An estimate: 2 × the output bytes of layers with parameters (torchinfo's)."""
        return 2 * self.bytes(self.activations_with_params)

    def items(self) -> list:
        """(key, label, bytes) of every figure, in the order a report shows them."""
        return [("weights_file", "weights file (params + running stats)", self.weights_file),
                ("activations", "activations, every layer", self.bytes(self.activations)),
                ("activations_with_params", "activations, layers with params",
                 self.bytes(self.activations_with_params)),
                ("forward_backward", "fwd+bwd, every layer", self.forward_backward),
                ("forward_backward_with_params", "fwd+bwd, layers with params", self.forward_backward_with_params)]

    def lines(self, wide: bool = True, shown=str) -> list[str]:
        """The report as text lines; `wide` gives every byte, `shown` prints a formula."""
        def amount(expr):
            if not expr.is_number:
                return f"{shown(expr)} bytes"
            return (f"{int(expr):,} bytes = " if wide else "") + \
                f"{float(expr) / MB:,.2f} MB = {float(expr) / MIB:,.2f} MiB"

        items = self.items()
        width = max(len(label) for _, label, _ in items)
        return [f"memory per image in {self.dtype}, {self.bytes_per_element} bytes per element; "
                "MB = 10^6 bytes, MiB = 2^20",
                "'layers with params' counts as torchinfo and fvcore do, 'every layer' as torchsummary; "
                "fwd+bwd is an estimate, 2 × activations"] + \
            [f"  {label:<{width}}  {amount(value)}" for _, label, value in items]


def dtype_name(dtype) -> str:
    """A dtype's name as DTYPES knows it, or a SymcountError listing them."""
    key = str(dtype).lower()
    if key not in DTYPES:
        raise SymcountError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    return key


def memory(network, dtype: str = "float32") -> Memory:
    key = dtype_name(dtype)
    with_params = sympy.Add(*[row.activations for row in network.layers if row.params != 0])
    return Memory(key, DTYPES[key], network.params, network.non_trainable, network.activations,
                  with_params if with_params.is_number else sympy.expand(with_params))
