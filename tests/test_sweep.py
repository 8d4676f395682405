"""Sweeps: exact at any size, valid exactly where every layer has a size >= 1."""
import pytest

import symcount

VGG16_BODY = ("conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool conv3-512x3 pool "
              "fc4096 fc4096 fc1000")


def seed_vgg16_params(size):
    """seeds/000: every layer but fc1 sums to 138,357,544 - 102,764,544; fc1 is (512·7·7)·4096 + 4096 at 224,
    where 7 = 224 halved by five 2×2 poolings (PyTorch's floor rule: size // 2 each time)."""
    side = size
    for _ in range(5):
        side //= 2
    return (138_357_544 - 102_764_544) + 512 * side * side * 4096 + 4096


@pytest.fixture(scope="module")
def vgg():
    return symcount.parse(VGG16_BODY, input="3xSxS")


def test_sweep_is_exact_far_beyond_float_precision(vgg):
    sizes = [224, 227, 10**30 + 7, 2**70 - 1]
    assert vgg.sweep(S=sizes)["params"] == [seed_vgg16_params(s) for s in sizes]


def test_valid_exactly_where_brute_force_says(vgg):
    def brute_force_valid(size):  # walk the layers' floor rule in plain integers
        side = size
        for _ in range(5):  # conv3 with half padding keeps the side; each pool halves it
            side //= 2
            if side < 1:
                return False
        return True

    sizes = list(range(1, 130))
    result = vgg.sweep(S=sizes)
    assert result["valid"] == [brute_force_valid(s) for s in sizes]
    assert all((p is None) == (not v) for p, v in zip(result["params"], result["valid"]))


def test_two_symbols_zip_and_scalars_broadcast():
    net = symcount.parse("conv3-8 pool fc10", input="3xHxW")
    result = net.sweep(H=[32, 64], W=32)
    # fc10 after 8×(H/2)×(W/2): (8·16·16)·10 + 10 and (8·32·16)·10 + 10, plus conv (3·3·3)·8 + 8
    assert result["params"] == [8 * 16 * 16 * 10 + 10 + 224, 8 * 32 * 16 * 10 + 10 + 224]
    assert result["H"] == [32, 64] and result["W"] == [32, 32]


def test_sweep_errors():
    net = symcount.parse("conv3-8 pool fc10", input="3xHxW")
    with pytest.raises(symcount.SymbolError, match="missing: W"):
        net.sweep(H=[32])
    with pytest.raises(symcount.SymbolError, match="unknown symbol Q"):
        net.sweep(H=[32], W=[32], Q=[1])
    with pytest.raises(symcount.SymbolError, match="one length"):
        net.sweep(H=[32, 64], W=[32])
    with pytest.raises(symcount.SymbolError, match="integers"):
        net.sweep(H=[32.5], W=[32])


def test_subs_accepts_expressions_as_text():
    net = symcount.parse("conv3-8 pool fc10", input="3xHxW")
    half = net.subs(H="2*W")
    assert half.symbols == {"W": net.symbols["W"]}
    assert half.subs(W=16).params == net.subs(H=32, W=16).params


def test_folded_symbolic_repeat_against_pytorch_below_its_assumption_too():
    from torch_reference import nn, torch

    def torch_params(n):  # n convolutions 3→8→8..., then fc2 over 8×8×8 (3×3 convs keep 8×8)
        with torch.device("meta"):
            layers = [nn.Conv2d(3 if i == 0 else 8, 8, 3, padding=1) for i in range(n)]
            layers += [nn.Flatten(), nn.Linear((8 if n else 3) * 8 * 8, 2)]
            return sum(p.numel() for p in nn.Sequential(*layers).parameters())

    net = symcount.parse("input 3x8x8 conv3-8x{n} fc2")
    result = net.sweep(n=[0, 1, 2, 3, 7])
    # n = 0 is outside the folded formula's assumption n >= 1: counted as subs counts it, built at n = 0
    assert result["valid"] == [True] * 5
    assert result["params"] == [torch_params(n) for n in (0, 1, 2, 3, 7)] == [net.subs(n=n).params for n in (0, 1, 2, 3, 7)]
    assert [s["n"] for s in net.solve([f"params={torch_params(5)}"], {"n": range(0, 50)}).solutions] == [5]
    assert [s["n"] for s in net.solve([f"params={torch_params(0)}"], {"n": range(0, 50)}).solutions] == [0]
