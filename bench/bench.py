"""symcount against its fastest peers, in one run: prints a table of times and ratios.

Peers (what torchinfo, thop, ptflops and fvcore pay per input size, and the cheapest
counter there is):
  torch forward  a real PyTorch CPU forward pass of the same network (model already built)
  meta count     torch.utils.flop_counter.FlopCounterMode on the meta device: builds the
                 model on 'meta' and runs it, no compute, one input size per call
symcount is timed with its caches cleared before every repetition (parse cache and layer
cache; the Lark parser itself is built once per process, timed apart as "first call").

    python bench/bench.py            # needs torch: pip install torch==2.13.0
    python bench/bench.py --quick    # fewer repetitions
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symcount  # noqa: E402
from symcount.layers.kinds import evaluate  # noqa: E402
from symcount.notation.parse import parse_notation  # noqa: E402

VGG16 = ("conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool conv3-512x3 pool "
         "fc4096 fc4096 fc1000")


def deep_net(per_stage: int) -> str:
    """The issue's deep case: 3 stages of `per_stage` conv3 layers, two stride-2 downsamplings."""
    return " ".join(["conv3-16"] * per_stage + ["conv3-32/2"] + ["conv3-32"] * per_stage + ["conv3-64/2"] +
                    ["conv3-64"] * per_stage + ["gap", "fc10"])


def clear_caches():
    parse_notation.cache_clear()
    evaluate.cache_clear()


def measure(function, repeat: int, setup=None) -> float:
    """Median seconds of `repeat` calls, after one untimed warm-up call; `setup` (untimed)
    runs before each call, so symcount's caches can be cleared every time."""
    if setup:
        setup()
    function()
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ------------------------------------------------------------------ torch peers

def torch_vgg16(torch, nn, device):
    with torch.device(device):
        layers, channels = [], 3
        for width, count in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
            for _ in range(count):
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
                channels = width
            layers.append(nn.MaxPool2d(2))
        layers += [nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
                   nn.Linear(4096, 1000)]
        return nn.Sequential(*layers)


def torch_deep(torch, nn, per_stage, device):
    with torch.device(device):
        layers, channels = [], 16
        for width, first_stride in ((16, 1), (32, 2), (64, 2)):
            if first_stride == 2:
                layers.append(nn.Conv2d(channels, width, 3, stride=2, padding=1))
                channels = width
            layers += [nn.Conv2d(channels, width, 3, padding=1) for _ in range(per_stage)]
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
        return nn.Sequential(*layers)


def meta_count(torch, build, shape):
    from torch.utils.flop_counter import FlopCounterMode
    model = build("meta")
    with FlopCounterMode(display=False) as counter:
        model(torch.empty(1, *shape, device="meta"))
    return counter.get_total_flops()


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true")
    options = arguments.parse_args()
    repeat = 3 if options.quick else 15
    try:
        import torch
        from torch import nn
    except ImportError:
        sys.exit("bench needs torch for its peers: pip install torch==2.13.0")
    torch.set_num_threads(os.cpu_count() or 1)

    rows = []

    def row(case, symcount_seconds, peer_name, peer_seconds, target):
        rows.append((case, symcount_seconds, peer_name, peer_seconds, target))

    # first call in a fresh process: grammar file read and LALR parser built
    start = time.perf_counter()
    symcount.parse(VGG16, input="3x224x224").table()
    first_call = time.perf_counter() - start

    vgg_meta = measure(lambda: meta_count(torch, lambda d: torch_vgg16(torch, nn, d), (3, 224, 224)), repeat)
    cpu_model = torch_vgg16(torch, nn, "cpu").eval()
    cpu_input = torch.randn(1, 3, 224, 224)
    with torch.inference_mode():
        cpu_model(cpu_input)  # warm-up
        vgg_forward = measure(lambda: cpu_model(cpu_input), max(3, repeat // 3))

    table_time = measure(lambda: symcount.parse(VGG16, input="3x224x224").table(), repeat, clear_caches)
    cached_table = measure(lambda: symcount.parse(VGG16, input="3x224x224").table(), repeat)
    row("VGG-16 table, 3×224×224", table_time, "meta count", vgg_meta, "≤ 1/4 of meta count")
    row("  same, caches warm", cached_table, "meta count", vgg_meta, "")

    def symbolic_vgg():
        net = symcount.parse(VGG16, input="3xHxW")
        return net.params, net.macs, net.activations, net.table()
    row("VGG-16 symbolic 3×H×W (totals + table)", measure(symbolic_vgg, repeat, clear_caches), "meta count",
        vgg_meta, "")

    def sweep_1000():
        net = symcount.parse(VGG16, input="3xSxS")
        return net.sweep(S=range(32, 32 + 1000))
    row("VGG-16 sweep, 1,000 sizes (incl. compile)", measure(sweep_1000, repeat, clear_caches), "meta count (1 size)",
        vgg_meta, "< one meta count")
    sweep_net = symcount.parse(VGG16, input="3xSxS")
    sweep_net.sweep(S=[224])
    row("  same, compiled once already", measure(lambda: sweep_net.sweep(S=range(32, 1032)), repeat),
        "meta count (1 size)", vgg_meta, "")

    deep_text = "input 16xSxS " + deep_net(333)

    def deep_symbolic():
        net = symcount.parse(deep_text)
        totals = (net.params, net.macs, net.activations)
        return totals, net.subs(S=224).macs
    deep_meta = measure(lambda: meta_count(torch, lambda d: torch_deep(torch, nn, 333, d), (16, 224, 224)),
                        max(3, repeat // 3))
    row("1,000 layers symbolic + subs(S=224)", measure(deep_symbolic, max(3, repeat // 3), clear_caches),
        "VGG-16 CPU forward", vgg_forward, "< VGG-16 CPU forward")

    def deep_expression_only():
        net = symcount.parse(deep_text)
        return net.macs.xreplace({net.symbols["S"]: 224}), net.params
    row("  totals + substituted formula only", measure(deep_expression_only, max(3, repeat // 3), clear_caches),
        "VGG-16 CPU forward", vgg_forward, "")
    row("  (peer) 1,000 layers, meta count at 224", deep_meta, "VGG-16 CPU forward", vgg_forward, "")

    print(f"# symcount benchmark: {platform.node() or 'machine'}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; Python {platform.python_version()}; torch {torch.__version__}; "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"# first call in a process (grammar load + LALR parser build + VGG-16 table): {first_call * 1e3:.1f} ms")
    print(f"# VGG-16 CPU forward at 224: {vgg_forward * 1e3:.1f} ms; meta count: {vgg_meta * 1e3:.1f} ms\n")
    print("| case | symcount | peer | peer time | ratio | target | met |")
    print("|---|---:|---|---:|---:|---|---|")
    for case, ours, peer, theirs, target in rows:
        ratio = ours / theirs
        met = ""
        if target.startswith("≤ 1/4"):
            met = "yes" if ratio <= 0.25 else "NO"
        elif target.startswith("<"):
            met = "yes" if ratio < 1 else "NO"
        print(f"| {case} | {ours * 1e3:.2f} ms | {peer} | {theirs * 1e3:.2f} ms | {ratio:.3f} | {target} | {met} |")

    print("\n## time against depth (explicit layers, symbolic input 16×S×S; caches cleared)\n")
    print("| layers | symcount | per layer | meta count (S=224) | per layer |")
    print("|---:|---:|---:|---:|---:|")
    for per_stage in (33, 100, 333, 1000, 3333):
        layers = 3 * per_stage + 4
        text = "input 16xSxS " + deep_net(per_stage)
        ours = measure(lambda: symcount.parse(text).macs, 1 if per_stage > 1000 else 3, clear_caches)
        theirs = measure(lambda: meta_count(torch, lambda d: torch_deep(torch, nn, per_stage, d), (16, 224, 224)),
                         1 if per_stage > 1000 else 3)
        print(f"| {layers:,} | {ours * 1e3:.1f} ms | {ours / layers * 1e6:.0f} µs | {theirs * 1e3:.1f} ms | "
              f"{theirs / layers * 1e6:.0f} µs |")


if __name__ == "__main__":
    main()
