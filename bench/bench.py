"""symcount against its peers, in one run: prints tables of times and ratios.

Peers, each measured in this same run:
  import torch     a fresh `python -c "import torch"`: what any PyTorch-based counter pays first
  torchinfo        a fresh process running torchinfo.summary on the same network (when installed)
  meta count       torch.utils.flop_counter.FlopCounterMode on the meta device: builds the
                   model on 'meta' and runs it, no compute, one input size per call
symcount is timed in fresh processes (the command as a user meets it: the checkout built into a
wheel and unpacked, as pip installs it) and in one process with its caches cleared before every
repetition (parse cache, layer cache).

    python bench/bench.py            # needs torch: pip install torch==2.13.0
    python bench/bench.py --quick    # fewer repetitions
"""
from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symcount  # noqa: E402
from symcount.layers.kinds import evaluate  # noqa: E402
from symcount import builder  # noqa: E402
from symcount.notation import blocks, parse as parse_module  # noqa: E402
from symcount.notation.parse import parse_notation  # noqa: E402
from symcount.notation.words import items_of  # noqa: E402

VGG16 = ("conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool conv3-512x3 pool "
         "fc4096 fc4096 fc1000")


def deep_net(per_stage: int) -> str:
    """A deep case: 3 stages of `per_stage` conv3 layers, two stride-2 downsamplings (3n + 4 layers)."""
    return " ".join(["conv3-16"] * per_stage + ["conv3-32/2"] + ["conv3-32"] * per_stage + ["conv3-64/2"] +
                    ["conv3-64"] * per_stage + ["gap", "fc10"])


def clear_caches():
    parse_notation.cache_clear()
    items_of.cache_clear()
    evaluate.cache_clear()


@contextlib.contextmanager
def limits_lifted(lift: bool):
    """For the 100,000-layer case only: symcount refuses a text over 100,000 characters (about
    10,000 layers written out) and more than 20,000 rows, bounds on hostile input; they are
    lifted here to measure the time per layer beyond them, and restored after."""
    bounds = [(parse_module, "MAX_TEXT"), (blocks, "MAX_EXPANDED_ITEMS"), (builder, "MAX_ROWS")]
    saved = [getattr(module, name) for module, name in bounds]
    try:
        if lift:
            for module, name in bounds:
                setattr(module, name, 10**7)
        yield
    finally:
        for (module, name), value in zip(bounds, saved):
            setattr(module, name, value)


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


ROOT = Path(__file__).resolve().parents[1]
TORCHINFO = """
import sys
sys.path.insert(0, {root!r})
import symcount, torchinfo
namespace = {{}}
exec(symcount.zoo.load({name!r}).to_torch("Net"), namespace)
torchinfo.summary(namespace["Net"](), input_size=(1, 3, 224, 224), verbose=0, device="cpu")
"""


def installed(into: Path) -> Path:
    """The checkout as pip installs it, in `into`: the wheel's files (with the parser the build
    generates, symcount/notation/standalone.py) and their bytecode.  The source tree when the
    wheel cannot be built here (no pip, setuptools or lark): that measures Lark's own runtime."""
    try:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                        "--wheel-dir", str(into), str(ROOT)], check=True, capture_output=True)
        wheel, = into.glob("symcount-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(into / "site")
        compileall.compile_dir(into / "site", quiet=1)
        return into / "site"
    except (subprocess.CalledProcessError, ValueError) as error:
        print(f"(could not build the wheel, so the source tree is measured: {error})", file=sys.stderr)
        return ROOT


def fresh(arguments, repeat: int, path: Path = ROOT) -> float:
    """Median wall time of a fresh process (after one untimed run, so files are in the page cache), run
    in `path`: `python -m` puts the working directory first on sys.path, before PYTHONPATH."""
    environment = dict(os.environ, PYTHONPATH=str(path), COLUMNS="80")
    run = lambda: subprocess.run(arguments, env=environment, stdout=subprocess.DEVNULL,  # noqa: E731
                                 stderr=subprocess.DEVNULL, check=True, cwd=path)
    return measure(run, repeat)


def exported(name: str, torch):
    """A zoo network as a PyTorch module (symcount's exporter): the meta count's model."""
    namespace = {}
    exec(symcount.zoo.load(name).to_torch("Net"), namespace)  # our own generated source
    return namespace["Net"]


def meta_of(torch, module_class, shape):
    from torch.utils.flop_counter import FlopCounterMode
    with torch.device("meta"):
        model = module_class()
    with FlopCounterMode(display=False) as counter:
        model(torch.empty(1, *shape, device="meta"))
    return counter.get_total_flops()


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true")
    options = arguments.parse_args()
    repeat = 3 if options.quick else 11
    try:
        import torch
        from torch import nn
    except ImportError:
        sys.exit("bench needs torch for its peers: pip install torch==2.13.0")
    torch.set_num_threads(os.cpu_count() or 1)
    rows = []

    def row(case, ours, peer, theirs, target=None):
        rows.append((case, ours, peer, theirs, target))

    # 1. the command in a fresh process
    python = sys.executable
    import_torch = fresh([python, "-c", "import torch"], repeat)
    try:
        import torchinfo  # noqa: F401
        torchinfo_run = fresh([python, "-c", TORCHINFO.format(root=str(ROOT), name="resnet50")], max(3, repeat // 3))
    except ImportError:
        torchinfo_run = None
    with tempfile.TemporaryDirectory(prefix="symcount-bench-") as scratch:
        package = installed(Path(scratch))
        for name in ("vgg16", "resnet50", "gpt2", "llama2_7b"):
            ours = fresh([python, "-m", "symcount", name], repeat, package)
            row(f"`symcount {name}`, fresh process", ours, "`python -c \"import torch\"`", import_torch, 0.1)
            if torchinfo_run is not None and name in ("vgg16", "resnet50"):
                row("", ours, "torchinfo on ResNet-50, fresh process", torchinfo_run)

    # 2. the table in one process, caches cleared, against one meta-device count
    vgg_meta = measure(lambda: meta_count(torch, lambda d: torch_vgg16(torch, nn, d), (3, 224, 224)), repeat)
    resnet = exported("resnet50", torch)
    resnet_meta = measure(lambda: meta_of(torch, resnet, (3, 224, 224)), repeat)
    row("VGG-16 table, 3×224×224", measure(lambda: symcount.parse(VGG16, input="3x224x224").table(), repeat,
                                            clear_caches), "meta count", vgg_meta, 0.02)
    row("ResNet-50 table, 3×224×224", measure(lambda: symcount.zoo.load("resnet50").table(), repeat, clear_caches),
        "meta count", resnet_meta, 0.02)

    # 3. a 1,000-size sweep from text, compile included
    def sweep_1000():
        return symcount.parse(VGG16, input="3xSxS").sweep(S=range(32, 32 + 1000))
    row("VGG-16 sweep of 1,000 sizes from text", measure(sweep_1000, repeat, clear_caches), "meta count (1 size)",
        vgg_meta, 0.1)
    compiled = symcount.parse(VGG16, input="3xSxS")
    compiled.sweep(S=[224])
    row("  the same, compiled already", measure(lambda: compiled.sweep(S=range(32, 1032)), repeat),
        "meta count (1 size)", vgg_meta)

    print(f"# symcount benchmark, {time.strftime('%Y-%m-%d')}: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; Python {platform.python_version()}; torch {torch.__version__}")
    print("\n| case | symcount | peer | peer time | ratio | target | met |")
    print("|---|---:|---|---:|---:|---|---|")
    for case, ours, peer, theirs, target in rows:
        ratio = ours / theirs
        met = "" if target is None else "yes" if ratio <= target else "NO"
        print(f"| {case} | {ours * 1e3:.1f} ms | {peer} | {theirs * 1e3:.1f} ms | {ratio:.3f} | "
              f"{'' if target is None else f'≤ {target}'} | {met} |")

    # 4. depth: explicit layers, symbolic input; parse + totals, then one substitution (the numeric path)
    print("\n## per layer against depth (explicit layers, input 16×S×S; caches cleared)\n")
    print("| layers | symbolic: parse + totals | numeric: subs(S=224) | both | meta count (S=224) | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for per_stage in (32, 332, 3332, 33332):
        layers = 3 * per_stage + 4
        text = "input 16xSxS " + deep_net(per_stage)
        times = []
        for _ in range(1 if layers > 10_000 else 3):
            clear_caches()
            with limits_lifted(layers > 10_000):
                start = time.perf_counter()
                net = symcount.parse(text)
                _ = net.params, net.macs, net.activations
                middle = time.perf_counter()
                at = net.subs(S=224)
                _ = at.params, at.macs, at.activations
                times.append((middle - start, time.perf_counter() - middle))
        symbolic, numeric = (statistics.median(t[i] for t in times) for i in (0, 1))
        theirs = None if layers > 10_000 else measure(
            lambda: meta_count(torch, lambda d: torch_deep(torch, nn, per_stage, d), (16, 224, 224)), 1)
        per = lambda seconds: f"{seconds / layers * 1e6:.1f} µs"  # noqa: E731
        print(f"| {layers:,} | {per(symbolic)} | {per(numeric)} | {per(symbolic + numeric)} | "
              f"{'—' if theirs is None else per(theirs)} | "
              f"{'—' if theirs is None else f'{(symbolic + numeric) / theirs:.3f}'} |")


if __name__ == "__main__":
    main()
