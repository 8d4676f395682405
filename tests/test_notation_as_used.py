"""Notation as people use it: a defined block's layers read with the call's arguments,
folded rows named by the call, errors at the failing call; paper spellings, near misses."""
import symcount

BLOCK = "def blk(c, g) = (conv3-{c}/{g} conv3-{2*c}[groups={g}])\n"


def test_the_notation_column_shows_the_arguments_filled_in():
    net = symcount.parse(BLOCK + "input 4x8x8 blk(8, 2) blk(16, 1)")
    assert [row.text for row in net.layers] == ["conv3-8/2", "conv3-16[groups=2]", "conv3-16/1", "conv3-32[groups=1]"]


def test_a_value_that_keeps_a_symbol_stays_in_braces():
    net = symcount.parse(BLOCK + "input 4x8x8 blk({C}, 2)")
    assert [row.text for row in net.layers] == ["conv3-{C}/2", "conv3-{2*C}[groups=2]"]


def test_folded_rows_are_named_by_their_call():
    net = symcount.parse(BLOCK + 'input 4x8x8 "stage": (blk(8, 2) blk(8, 1))')
    assert [row.text for row in net.folded(1)] == ["blk(8, 2)", "blk(8, 1)"]
    assert [row.text for row in net.folded(0)] == ["stage"]


def test_an_error_inside_a_block_points_at_the_call_that_failed_then_at_the_definition():
    text = BLOCK + "input 4x8x8\nblk(8, 2) blk(8, 3)\n"
    try:
        symcount.parse(text)
    except symcount.ShapeError as error:
        assert (error.line, error.column) == (3, 11)  # the second call: groups=3 does not divide 8
        assert "in the block as defined at line 1, column 32" in str(error)
        assert "\n  blk(8, 2) blk(8, 3)\n            ^~~~~~~~~" in str(error)
    else:
        raise AssertionError("groups=3 on 8 channels must be refused (PyTorch: in_channels must be divisible)")


# --------------------------------------------------------------- paper spellings and near misses
def run_cli(*args, stdin=""):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "symcount", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_soft_max_as_the_vgg_paper_writes_it():
    assert [row.kind for row in symcount.parse("input 10 soft-max Soft-Max softmax").layers] == ["softmax"] * 3


def test_zoo_names_ignore_case_and_near_misses_are_suggested():
    from symcount import zoo
    assert zoo.get("VGG16") is zoo.get("vgg16") and zoo.find("Resnet50").name == "resnet50"
    assert "total" in run_cli("ResNet18").stdout
    done = run_cli("resnet5")
    assert done.returncode == 2 and "did you mean resnet50" in done.stderr and "define" not in done.stderr


def test_repl_commands_suggest_the_near_name():
    done = run_cli("repl", stdin=":sett H=3\n")
    assert "unknown command :sett; did you mean :set?" in done.stderr


def test_the_zoo_is_reached_from_the_package_as_the_readme_writes_it():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", "import symcount; print(symcount.zoo.load('resnet18').params)"],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "11689512"  # torchvision's documented ResNet-18 parameters


def test_a_group_in_square_brackets_as_the_resnet_paper_writes_it_gets_the_parentheses_hint():
    for text, column in (("input 3x56x56 [conv1-64 conv3-64 conv1-256]x3", 15), ("conv3-8 [conv1-8]x2", 9)):
        try:
            symcount.parse(text)
        except symcount.NotationError as error:
            assert "(conv1-64 conv3-64 conv1-256)x3" in str(error) and error.column == column
        else:
            raise AssertionError(f"{text!r} must not be read as options")
    assert symcount.parse("input 3x8x8 conv3-8  # [conv1-8] in a comment\nrelu").output_shape == (8, 8, 8)
