"""`symcount export` prints a module file to the terminal: every line of it, the helper
classes pasted in as written (symcount.render.torch_helpers) as well as the lines symcount
writes itself, keeps to 79 columns (PEP 8's), so it reads in an 80-column terminal."""
import pytest

import symcount
from symcount import zoo
from symcount.render.torch_helpers import HELPERS

WIDTH = 79
# Networks whose exports together paste in every helper (test_every_helper_is_exported_here
# says so), and pix2pix's U-Net, whose eight nested skips start its innermost layers 68 columns in.
ZOO = ["unet", "inception_v3", "shufflenet_v2_x1_0", "convnext_tiny", "efficientnet_b0", "vit_b_16", "bert_base",
       "transformer_base", "whisper_tiny", "deepseek_v3", "swin_t", "qwen2_0_5b", "pix2pix_unet"]
DEEP = "res(conv3-8[pad=1] " * 11 + ")" * 11  # eleven residuals, one inside the other
NOTATIONS = ["input 3x16x16 add(conv3-12[pad=1] | conv1-12) gap fc10",
             "input 6x8 tokens attn2[rope, kv_heads=1, window=3, alibi] attn2[relative=8] gap fc3",
             "input 4x8x8 patch2-16 fc16 unpatch",
             f"input 3x16x16 {DEEP}",
             f"input 3x16x16 conv3-8[pad=1] ({DEEP})x3"]  # the same, in a loop of passes


def exports():
    for name in ZOO:
        yield name, zoo.load(name).to_torch("Net")
    for notation in NOTATIONS:
        yield notation, symcount.parse(notation).to_torch()


SOURCES = dict(exports())


def too_wide(source: str) -> list[str]:
    return [line for line in source.splitlines() if len(line) > WIDTH]


@pytest.mark.parametrize("helper", sorted(HELPERS))
def test_every_line_of_a_helper_keeps_to_79_columns(helper):
    assert too_wide(HELPERS[helper]) == []
    compile(HELPERS[helper], helper, "exec")


@pytest.mark.parametrize("name", list(SOURCES))
def test_an_exported_file_keeps_to_79_columns_and_compiles(name):
    source = SOURCES[name]
    assert too_wide(source) == [], name
    compile(source, "x.py", "exec")


def test_every_helper_is_exported_here():
    """A helper added without a network here that uses it fails, so its lines are read too."""
    assert [helper for helper in HELPERS if not any(HELPERS[helper] in source for source in SOURCES.values())] == []


@pytest.mark.parametrize("notation", NOTATIONS[-2:])
def test_a_branch_nested_too_deep_is_written_before_the_stack_and_is_the_same_modules(notation):
    """Written above as `branch1 = nn.Sequential(...)`, or as a function called once a pass where
    a loop makes the passes (a variable there would be one module shared by every pass)."""
    import torch
    net = symcount.parse(notation)
    source = net.to_torch()
    assert ("def branch1():" if "x3" in notation else "branch1 = nn.Sequential(") in source
    namespace = {"__name__": "exported"}
    exec(compile(source, "x.py", "exec"), namespace)
    model = namespace["Net"]()
    parameters = list(model.parameters())
    assert len(parameters) == len(list(model.named_parameters(remove_duplicate=False)))  # none shared
    assert sum(p.numel() for p in parameters) == net.params
    assert tuple(model(torch.zeros(1, 3, 16, 16)).shape[1:]) == net.output_shape
