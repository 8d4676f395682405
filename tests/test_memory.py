"""Memory per image: weights' bytes and activations both ways, against
the tools' figures on torchvision's VGG-16 and against PyTorch's own tensors."""
import math

import pytest

import symcount
from symcount import zoo
from test_conventions import VGG16_TORCHVISION
from torch_zoo import build, torch, trace


def test_vgg16_figures_of_the_seed_thread_and_the_tools():
    memory = symcount.parse(VGG16_TORCHVISION).memory("float32")
    assert memory.weights_file == 553_430_176          # seeds: 138,357,544 parameters x 4 bytes
    assert memory.activations_with_params == 13_556_712  # fvcore ActivationCountAnalysis
    assert round(int(memory.forward_backward_with_params) / 10**6, 2) == 108.45  # torchinfo, MB = 10^6 bytes
    assert round(int(memory.forward_backward) / 2**20, 2) == 218.78              # torchsummary, MiB = 2^20 bytes


@pytest.mark.parametrize("dtype,torch_dtype", [("float32", "float32"), ("float16", "float16"),
                                               ("bfloat16", "bfloat16"), ("float64", "float64")])
def test_weights_bytes_equal_pytorch_tensors(dtype, torch_dtype):
    model = build("resnet18", (3, 224, 224)).to(getattr(torch, torch_dtype))
    tensors = list(model.parameters()) + [b for n, b in model.named_buffers() if "running" in n]
    assert zoo.load("resnet18").memory(dtype).weights_file == sum(t.numel() * t.element_size() for t in tensors)


def test_int8_is_one_byte_per_element():
    assert zoo.load("lenet5").memory("int8").weights_file == 61_706  # LeNet-5's parameters, one byte each


@pytest.mark.parametrize("name", ["resnet50", "densenet121", "googlenet"])
def test_activations_of_layers_with_parameters_equal_pytorch(name):
    layers, _, _ = trace(build(name, (3, 224, 224)), (3, 224, 224))
    expected = sum(math.prod(shape) for kind, shape in layers if kind in ("conv", "bn", "fc"))
    assert zoo.load(name).memory().activations_with_params == expected
    assert zoo.load(name).memory().activations == sum(math.prod(shape) for _, shape in layers)


def test_unknown_dtype_is_a_clear_error():
    with pytest.raises(symcount.SymcountError, match="unknown dtype 'float8'; choose one of"):
        zoo.load("lenet5").memory("float8")
