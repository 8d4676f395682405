"""A long text of plain layer words is parsed one distinct word at a time
(symcount/notation/words.py); it must read exactly as the full parse of the text: the same
spec, every span included, or the same error."""
import pytest
from hypothesis import given, strategies as st

from symcount.errors import SymcountError
from symcount.notation import parse as parsing
from symcount.notation.words import MIN_WORDS, parse_words

# Plain words the grammar takes alone, words it refuses alone (a shape, `tokens`, a stride
# repeated), words that are not plain (x2, /2, -, 64: they continue the word before), block
# calls without a definition (an error of the network, not of the word), and mixed case.
WORDS = ["conv3-64", "conv3-64x2", "Conv3-64", "CONV1x7-128", "conv3-64/2", "conv3-64/2x2", "conv1-8", "pool",
         "maxpool3/2", "poolx2", "avgpool2", "relu", "relu-", "relux2", "bn", "BN", "fc10", "fc-10", "FC4096",
         "dense256", "gap", "dropout", "soft-max", "softmax", "dw3", "dw3/2", "C64", "resnet50", "deconv4-64/2",
         "attn12", "patch16-768", "pos", "pos1024", "segment2", "tokens", "input", "adaptiveavgpool7",
         "conv3-64-relu", "x2", "/2", "-", "64", "gn", "lrn", "conv3-99999999999999999999999999999999999999999",
         "input 3x32x32", "input 16xSxS", "input 197x768", "flatten", "sigmoid", "tanh", "se", "scale"]
SEPARATORS = [" ", ", ", "\n", "  ", " # a comment (with parens)\n", ",", "\t", "\n\n  "]


def full_parse(text):
    """The text read by the grammar in one parse (the plain-word path turned off)."""
    try:
        parsing.parse_words, saved = (lambda text: None), parsing.parse_words
        return parsing._parse(text, "start")
    finally:
        parsing.parse_words = saved


def outcome(read, text):
    try:
        return read(text)
    except SymcountError as error:
        return type(error).__name__, str(error)


@st.composite
def texts(draw):
    vocabulary = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6, unique=True))
    words = draw(st.lists(st.sampled_from(vocabulary), min_size=MIN_WORDS, max_size=2 * MIN_WORDS))
    gaps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(words), max_size=len(words)))
    return "".join(gap + word for gap, word in zip(gaps, words))


@given(texts())
def test_plain_words_read_as_the_full_parse(text):
    fast = outcome(parse_words, text)
    if fast is None:
        return  # not a text of plain words: the full parse reads it
    assert fast == outcome(full_parse, text)


def test_a_deep_network_takes_the_word_path_and_matches_the_full_parse():
    text = "input 16xSxS  # explicit layers\n" + " ".join(["conv3-16"] * 40 + ["conv3-32/2"] + ["conv3-32"] * 40) + \
        "\n  gap, fc10\n"
    spec = parse_words(text)
    assert spec is not None and spec == full_parse(text)
    layer = spec.items[40]  # the conv3-32/2, which stands on the second line
    assert (layer.text, layer.span.line, layer.span.column) == ("conv3-32/2", 2, 1 + 40 * len("conv3-16 "))
    assert text[layer.span.start:layer.span.end] == "conv3-32/2"


@pytest.mark.parametrize("text, reason", [
    (" ".join(["conv3-16"] * 30), "short: one parse is as cheap"),
    (" ".join(f"fc{n}" for n in range(1, 200)), "mostly distinct words"),
    (" ".join(["conv3-16"] * 100) + " (relu)x2", "a group"),
    (" ".join(["conv3-16"] * 100) + " conv3-16 x2", "a repeat apart from its layer"),
    ("input 197x768\n" + " ".join(["attn12"] * 100) + "\n tokens", "tokens continue the shape"),
    ("\"stage\": " + " ".join(["conv3-16"] * 100), "a stage label"),
])
def test_other_texts_take_the_full_parse(text, reason):
    assert parse_words(text) is None, reason


def test_an_error_in_a_word_is_reported_by_the_full_parse():
    text = " ".join(["conv3-16"] * 100) + "\nconv3-64/2x2"  # reads two ways: refused
    with pytest.raises(SymcountError) as error:
        parsing.parse_notation(text)
    assert str(error.value) == outcome(full_parse, text)[1]
    assert "line 2" in str(error.value) or "2:1" in str(error.value) or "^" in str(error.value)
