"""`symcount sweep --plot`: a file of the expected size that shows something, and a clear
message where matplotlib (an optional extra) is missing."""
import struct
import sys

import pytest

from symcount.cli import main

pytest.importorskip("matplotlib")


def png_size(path):
    """Width and height from the PNG's own header: the signature, then the IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def pixels(path):
    from matplotlib.image import imread
    image = imread(str(path))
    return image.reshape(-1, image.shape[-1])[:, :3]


def reddish(colours) -> int:
    """Pixels near the red that draws attention (tab:red, 214/39/40, alone or blended on white: green and
    blue alike, which tells it from the second curve's orange, 255/127/14)."""
    red, green, blue = colours[:, 0], colours[:, 1], colours[:, 2]
    return int(((red > 0.75) & (green < 0.6) & (abs(green - blue) < 0.1)).sum())


def test_a_transformer_plot_is_drawn_with_its_attention_split(tmp_path, capsys):
    path = tmp_path / "gpt2.png"
    assert main(["sweep", "gpt2", "T=16..1024:16", "--quantity", "macs,activations", "--plot", str(path)]) == 0
    assert f"plot written to {path}" in capsys.readouterr().err
    # 9 × (2 panels of 2.8 + 0.9) inches at 100 dots per inch
    assert png_size(path) == (900, 650)
    colours = pixels(path)
    assert len({tuple(c) for c in colours[::7].round(2).tolist()}) > 10  # not blank
    assert reddish(colours) > 1000  # the attention area


def test_a_convolutional_grid_draws_one_curve_per_value_and_no_attention(tmp_path, capsys):
    path = tmp_path / "vgg.png"
    assert main(["sweep", "vgg16", "--input", "3xHxW", "H=64..512:64", "W=64,224", "--quantity", "params",
                 "--plot", str(path)]) == 0
    assert png_size(path) == (900, 370)
    colours = pixels(path)
    assert len({tuple(c) for c in colours[::7].round(2).tolist()}) > 10
    assert reddish(colours) == 0


def test_an_svg_is_written(tmp_path, capsys):
    path = tmp_path / "gpt2.svg"
    assert main(["sweep", "gpt2", "T=1..1024:2x", "--quantity", "params,macs,kv_cache", "--plot", str(path)]) == 0
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text


@pytest.mark.parametrize("args,needle", [
    (["T=1..8", "--plot", "out.txt"], "must end in .png, .svg, .pdf"),
    (["T=8", "--plot", "out.png"], "needs a range"),
])
def test_bad_plots_exit_2(tmp_path, capsys, args, needle):
    args = [str(tmp_path / a) if a.startswith("out") else a for a in args]
    assert main(["sweep", "gpt2", *args]) == 2
    assert needle in capsys.readouterr().err


def test_too_many_curves_are_refused(tmp_path, capsys):
    assert main(["sweep", "conv3-8 pool fc10", "--input", "3xHxW", "H=8..16:8", "W=8..80:8",
                 "--plot", str(tmp_path / "p.png")]) == 2
    assert "at most 8 curves" in capsys.readouterr().err


def test_without_matplotlib_the_message_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)  # what `import matplotlib` meets where it is not installed
    path = tmp_path / "p.png"
    assert main(["sweep", "gpt2", "T=1..8", "--plot", str(path)]) == 2
    err = capsys.readouterr().err
    assert "pip install symcount[plot]" in " ".join(err.split()) and "Traceback" not in err  # wrapped to the terminal
    assert not path.exists()
