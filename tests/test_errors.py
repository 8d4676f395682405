"""Each kind of bad input: the right SymcountError, with place, caret and expectation."""
import pytest

import symcount


def test_syntax_error_has_line_column_caret_and_expected():
    with pytest.raises(symcount.NotationError) as caught:
        symcount.parse("input 3x224x224\nconv3-64 pool\nconv3-128x fc10")
    error = caught.value
    assert (error.line, error.column) == (3, 12)
    lines = str(error).splitlines()
    assert lines[1] == "  conv3-128x fc10"
    assert lines[2] == "  " + " " * 11 + "^~~~"  # under the whole unexpected word fc10
    assert "expected one of: a number, '{'" in str(error)
    assert "repeat count" in lines[0]


def test_unknown_layer_is_named():
    with pytest.raises(symcount.NotationError, match="unknown layer 'conv3x3'|unknown layer 'sofmax'"):
        symcount.parse("conv3-64 relu sofmax")


def test_unknown_option_lists_the_accepted_ones():
    with pytest.raises(symcount.OptionError) as caught:
        symcount.parse("conv3-64[padd=1]")
    assert "unknown option 'padd' for conv" in str(caught.value)
    assert "pad" in str(caught.value) and caught.value.column == 10


def test_option_a_layer_does_not_take():
    with pytest.raises(symcount.OptionError, match="for fc"):
        symcount.parse("fc10[groups=2]")
    with pytest.raises(symcount.OptionError, match="unknown option 'inplace' for relu; it accepts: functional"):
        symcount.parse("relu[inplace]")
    with pytest.raises(symcount.OptionError, match="bn takes no options|for bn"):
        symcount.parse("input 3x8x8 bn[inplace]")
    with pytest.raises(symcount.OptionError, match="flatten takes no options"):
        symcount.parse("input 3x8x8 flatten[inplace]")


def test_option_given_twice():
    with pytest.raises(symcount.OptionError, match="stride is given twice"):
        symcount.parse("conv3-64/2[stride=2]")


def test_groups_must_divide_channels():
    with pytest.raises(symcount.ShapeError) as caught:
        symcount.parse("input 3x32x32 conv3-64[groups=2]")
    message = str(caught.value)
    assert "groups=2 does not divide the input channels 3" in message and "3×32×32" in message


def test_size_below_one_names_the_layer_and_its_input():
    with pytest.raises(symcount.ShapeError) as caught:
        symcount.parse("input 3x8x8 conv3-16[pad=0] pool pool pool")
    error = caught.value
    assert "pool gives a size 0 < 1" in str(error) and "from input 16×1×1" in str(error)
    assert (error.line, error.column) == (1, 39)  # the third pool


def test_symbolic_group_check_happens_on_substitution():
    net = symcount.parse("conv3-64[groups=2]", input="CxHxW")
    with pytest.raises(symcount.ShapeError, match="does not divide"):
        net.subs(C=3)
    assert net.subs(C=4, H=8, W=8).params == 3 * 3 * 2 * 64 + 64  # k·k·(C/g)·C_out + C_out


def test_set_of_an_unknown_symbol():
    net = symcount.parse("conv3-64", input="3xHxW")
    with pytest.raises(symcount.SymbolError, match="unknown symbol Q; this network's symbols: H, W"):
        net.subs(Q=3)


def test_bad_input_shapes():
    with pytest.raises(symcount.ShapeError, match="C×L, C×H×W or C×D×H×W, a flat N or tokens \\(N ids, N×D\\), got 3×4×4×4×4"):
        symcount.parse("relu", input="3x4x4x4x4")
    with pytest.raises(symcount.ShapeError, match="whole numbers > 0"):
        symcount.parse("relu", input="0x4x4")
    with pytest.raises(symcount.ShapeError, match="C×L, C×H×W or C×D×H×W input"):
        symcount.parse("input 100 conv3-64")


@pytest.mark.parametrize("text,message", [
    ("input 3x16x16 conv1x3x3-8", "the kernel 1×3×3 has 3 values, but the input has 2 spatial axes (C×H×W)"),
    ("input 3x16 conv3-8[stride=(1 2)]", "the stride 1×2 has 2 values, but the input has 1 spatial axis (C×L)"),
    ("input 3x4x16x16 maxpool2x2", "the kernel 2×2 has 2 values, but the input has 3 spatial axes (C×D×H×W)"),
    ("input 3x16 pixelshuffle", "pixel shuffle needs a C×H×W input"),
    ("input 3x16 layernorm", "layernorm over the channels at each position is torchvision's LayerNorm2d"),
    ("input 3x4x16x16 upsample[scale=2, mode=bilinear]", "bilinear upsampling is for C×H×W"),
    ("input 3x16 maxpool2[pad=causal]", "pooling takes pad=n, one per axis, half, same or valid, not causal"),
])
def test_a_value_per_axis_must_fit_the_input(text, message):
    with pytest.raises(symcount.SymcountError) as caught:
        symcount.parse(text)
    assert message in str(caught.value)


def test_fractional_and_negative_parameters():
    with pytest.raises(symcount.ShapeError, match="whole number"):
        symcount.parse("input 3x8x8 conv3-{7/2}")
    with pytest.raises(symcount.ShapeError, match="at least 1"):
        symcount.parse("input 3x8x8 conv3-{1-1}")
    with pytest.raises(symcount.NotationError, match="division by zero"):
        symcount.parse("fc{1/0}")


def test_pool_padding_over_half_the_kernel():
    # PyTorch's rule (aten Pool.h): "pad should be at most half of effective kernel size"
    with pytest.raises(symcount.ShapeError, match="more than half"):
        symcount.parse("input 3x8x8 maxpool3/2[pad=2]")


def test_every_error_is_a_symcount_error():
    for cls in (symcount.NotationError, symcount.OptionError, symcount.ShapeError, symcount.SymbolError,
                symcount.LimitError):
        assert issubclass(cls, symcount.SymcountError)


@pytest.mark.parametrize("text,column,hint", [
    ("input 3x8x8 dw3-8", 17, "a depthwise convolution takes no filter count"),
    ("input 3x8x8 conv3-8 dw3/2-16 relu", 27, "a depthwise convolution takes no filter count"),
    ("input 3x8x8 relu-8", 18, "no filter count or width follows relu"),
    ("input 3x8x8 conv3-64-8", 22, "no filter count or width follows conv3-64"),
])
def test_a_number_after_a_dash_that_no_layer_takes(text, column, hint):
    """The parser is in the same state after any item and a dash, so the hint comes from the
    words before the dash (not a guess about the input shape)."""
    with pytest.raises(symcount.NotationError) as caught:
        symcount.parse(text)
    assert hint in str(caught.value) and caught.value.column == column
    assert "input shape" not in str(caught.value)


def test_a_layer_made_from_a_short_form_is_named_with_braces():
    """se's convolutions are written as the notation would write them: conv1-{3/4}, not the
    conv1-3/4 that reads as a stride of 4."""
    with pytest.raises(symcount.ShapeError, match=r"conv1-\{3/4\}: filters must be a whole number"):
        symcount.parse("input 3x8x8 se[squeeze={in/4}]")


def test_a_requirement_shows_why_it_is_kept():
    net = symcount.parse("input 3xHxH conv3-8[pad=0]")
    assert "gives a size" in repr(net.requirements[-1]) and "lambda" not in repr(net.requirements)
