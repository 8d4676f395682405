"""What a block's body may name: its parameters, {in} (its input's channels), declared
symbols and the network's own; anything else is refused, not made a free symbol."""
import pytest

import symcount
from symcount.repl import Session
from torch_reference import nn, torch

SE_LIKE = "input 3x32x32 conv3-16 def mix(c) = (conv1-{c} relu conv1-{in}[bias=false] bn) mix(8) mix(24) gap fc10"


def test_in_is_the_channels_of_each_layers_own_input():
    network = symcount.parse(SE_LIKE)
    convolutions = [row.output[0] for row in network.layers if row.kind == "conv"]
    # conv3-16, then each mix: a 1x1 to c, a 1x1 back to the c it came from ({in} of that layer is c)
    assert convolutions == [16, 8, 8, 24, 24]
    assert network.symbols == {}


def test_in_counts_as_pytorch_counts_it():
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1),
                          nn.Conv2d(16, 8, 1), nn.ReLU(), nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8),
                          nn.Conv2d(8, 24, 1), nn.ReLU(), nn.Conv2d(24, 24, 1, bias=False), nn.BatchNorm2d(24),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 10))
    network = symcount.parse(SE_LIKE)
    assert network.params == sum(p.numel() for p in model.parameters())
    namespace = {}
    exec(compile(network.to_torch("Mixed"), "mixed.py", "exec"), namespace)  # the export resolves {in} too
    exported = namespace["Mixed"]()
    assert sum(p.numel() for p in exported.parameters()) == sum(p.numel() for p in model.parameters())
    assert tuple(exported(torch.zeros(1, 3, 32, 32)).shape) == (1, 10)


def test_a_stray_symbol_in_a_block_is_refused_with_both_ways_out():
    with pytest.raises(symcount.NotationError, match=r"block 'b' uses C, which is not one of its parameters \(c\)"):
        symcount.parse("input 3x32x32 def b(c) = (conv3-{C}) b(16)")
    assert set(symcount.parse("symbols(C) input 3x32x32 def b(c) = (conv3-{C}) b(16)").symbols) == {"C"}
    # a symbol the rest of the network uses, or the input's, is the network's: no declaration needed
    assert set(symcount.parse("input 3xSxS def b(c) = (conv3-{c} pool) b(16) fc{N}").symbols) == {"N", "S"}
    assert set(symcount.parse("input CxHxW def b(c) = (conv3-{C}) b(16)").symbols) == {"C", "H", "W"}


def test_the_repl_keeps_a_declaration():
    session = Session()
    assert session.handle("symbols(k)") == "declared symbols(k)"
    assert session.handle("def b(c) = (conv3-{c*k})") == "defined b"
    session.handle(":input 3x8x8")
    session.handle(":set k=3")
    assert "6×8×8" in session.handle("b(2)")
