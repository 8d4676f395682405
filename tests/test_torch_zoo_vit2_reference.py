"""The hand-built Swin-T and DiT-XL/2 of torch_zoo_vit2 against numbers recorded from outside it:
torchvision 0.28.0's swin_t and facebookresearch/DiT models.py (DiT_XL_2, timm 1.0.31 layers), both
run once under torch 2.13.0's FlopCounterMode (see torch_zoo_vit2's docstring), and the papers /
torchvision's published metadata.  Meta device only: fast, no weights."""
import pytest

from torch_zoo_vit2 import BUILDERS, params, torch, trace_vis, window_info

# torchvision 0.28.0: sum(p.numel() for p in swin_t().parameters()); also Swin_T_Weights meta "num_params".
SWIN_T_PARAMS = 28_288_354
# torchvision 0.28.0 swin_t(), FlopCounterMode total for one (1, 3, H, W) image, on meta and on CPU alike.
SWIN_T_FLOPS = {(224, 224): 8_981_133_312, (256, 256): 14_690_883_072, (192, 192): 7_273_212_672,
                (100, 60): 1_921_655_808}
# DiT models.py DiT_XL_2: trainable parameters (requires_grad; its frozen pos_embed excluded).
DIT_XL_2_TRAINABLE = 674_834_720
# ... and sum(p.numel() for p in model.parameters()) as its train.py logs it, pos_embed 256 x 1152 included.
DIT_XL_2_ALL_AT_32 = 675_129_632
# DiT models.py DiT_XL_2(input_size=s) on the meta device, FlopCounterMode total for one (1, 4, s, s) latent.
DIT_XL_2_FLOPS = {(16, 16): 58_066_108_416, (32, 32): 237_242_843_136, (64, 64): 1_049_076_596_736}


@pytest.fixture(scope="module")
def swin():
    return BUILDERS["swin_t"]()


@pytest.fixture(scope="module")
def dit():
    return BUILDERS["dit_xl_2"]()


def test_swin_t_params(swin):
    assert params(swin) == SWIN_T_PARAMS
    buffers = dict(swin.named_buffers())
    assert all(name.endswith("relative_position_index") for name in buffers)  # buffers are not parameters
    assert len(buffers) == 12


@pytest.mark.parametrize("size", [(224, 224), (256, 256), (192, 192), (100, 60)])
def test_swin_t_flops(swin, size):
    layers, flops = trace_vis(swin, *size)
    assert flops == SWIN_T_FLOPS[size]
    assert sum(p for _, _, p in layers) == SWIN_T_PARAMS  # every parameter sits in exactly one listed layer
    assert layers[-1] == ("fc", (1000,), 769_000)


def test_swin_t_published_ops(swin):
    # torchvision's Swin_T_Weights meta "_ops": 4.491 (GFLOPS, counted as multiply-adds) at 224 x 224.
    assert round(trace_vis(swin, 224, 224)[1] / 2 / 1e9, 3) == 4.491


def test_swin_t_windows(swin):
    # padded to multiples of 7, the window never shrinks, no shift where a padded side is one window.
    odd = window_info(swin, 224, 224)[1::2]
    assert [(i["padded"], i["windows"], i["shift"]) for i in (odd[0], odd[1], odd[2], odd[-1])] == [
        ((56, 56), 64, (3, 3)), ((28, 28), 16, (3, 3)), ((14, 14), 4, (3, 3)), ((7, 7), 1, (0, 0))]
    last = window_info(swin, 256, 256)[-1]
    assert (last["H"], last["padded"], last["windows"], last["shift"]) == (8, (14, 14), 4, (3, 3))
    assert window_info(swin, 192, 192)[-1]["padded"] == (7, 7)
    first = window_info(swin, 100, 60)[0]
    assert (first["H"], first["W"], first["padded"], first["windows"]) == (25, 15, (28, 21), 12)
    assert first["table"] == 169 * 3 and first["index"] == 49 * 49


def test_dit_xl_2_params(dit):
    assert params(dit) == DIT_XL_2_TRAINABLE
    assert params(dit) + 256 * 1152 == DIT_XL_2_ALL_AT_32
    assert round(DIT_XL_2_ALL_AT_32 / 1e6) == round(params(dit) / 1e6) == 675  # the paper's 675M


@pytest.mark.parametrize("size", [(16, 16), (32, 32), (64, 64)])
def test_dit_xl_2_flops(dit, size):
    layers, flops = trace_vis(dit, *size)
    assert flops == DIT_XL_2_FLOPS[size]
    assert sum(p for _, _, p in layers) == DIT_XL_2_TRAINABLE
    tokens = size[0] * size[1] // 4
    assert layers[-1] == ("fc", (tokens, 32), 1152 * 32 + 32)


def test_dit_xl_2_paper_gflops(dit):
    # Peebles & Xie 2023, Table 1: DiT-XL/2 118.6 Gflops for 256 x 256 images (32 x 32 latents): multiply-adds.
    assert round(trace_vis(dit, 32, 32)[1] / 2 / 1e9, 1) == 118.6


def test_dit_any_multiple_of_the_patch(dit):
    layers, flops = trace_vis(dit, 16, 24)
    assert layers[0] == ("conv", (1152, 8, 12), 4 * 1152 * 4 + 1152)
    with torch.device("meta"):
        out = dit(torch.zeros(2, 4, 16, 24), torch.zeros(2), torch.zeros(2, dtype=torch.long))
    assert tuple(out.shape) == (2, 8, 16, 24)
