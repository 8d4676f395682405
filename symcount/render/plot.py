"""A sweep drawn with matplotlib (an optional extra: pip install symcount[plot]).

One panel per quantity, against the first swept symbol; the other axes of a grid give one
curve each.  An axis is logarithmic where its values are positive and span more than two
decades.  On a transformer the MACs panel splits attention from the rest: stacked areas on
a linear axis, separate curves on a log one, and the attention share in percent on a second
axis.  matplotlib is imported here only, and drawn through its Agg canvas, never pyplot, so
no window opens and no global backend is changed.
"""
from __future__ import annotations

import itertools
from fractions import Fraction

from symcount.analyses.quantities import ATTENTION_KINDS, QUANTITIES, dtype_of, functions
from symcount.analyses.sweep import sweep_of
from symcount.errors import SymcountError
from symcount.layers.result import layout

SUFFIXES = (".png", ".svg", ".pdf")
MAX_CURVES = 8
WIDTH, PANEL, DPI = 9.0, 2.8, 100  # inches, inches per panel, dots per inch


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import EngFormatter, FuncFormatter
    except ImportError:
        raise SymcountError("--plot needs matplotlib, an optional extra: pip install symcount[plot]") from None
    return Figure, FigureCanvasAgg, EngFormatter, FuncFormatter


def _number(value):
    if value is None:
        return float("nan")
    try:
        return float(value) if not isinstance(value, Fraction) else value.numerator / value.denominator
    except OverflowError:
        raise SymcountError("--plot: a value beyond a float's range (10³⁰⁸); sweep smaller sizes") from None


def _logarithmic(values) -> bool:
    shown = [v for v in values if v == v]  # not NaN
    return bool(shown) and min(shown) > 0 and max(shown) / min(shown) > 100


def _axis_label(network, name: str, paired_with: list) -> str:
    """The swept symbol and what it measures: the sequence length, or an input size in pixels."""
    together = " = ".join([name] + paired_with)
    dims = [str(d) for d in network.input_shape]
    if name in dims and layout(network.input_shape) in ("tokens", "ids"):
        return f"{together}: sequence length (tokens)"
    if name in dims[1:]:
        return f"{together}: input size (pixels)"
    return together


def _curves(plan, result, x_name: str):
    """[(label, indices)]: one curve per combination of the other axes' values."""
    others = [a for a in plan.axes if x_name not in a.names and len(set(a.values)) > 1 and not plan.paired]
    keys = [a.names[0] for a in others]
    groups: dict = {}
    for index in range(len(result["valid"])):
        key = tuple(result[name][index] for name in keys)
        groups.setdefault(key, []).append(index)
    if len(groups) > MAX_CURVES:
        raise SymcountError(f"--plot draws at most {MAX_CURVES} curves; this grid gives {len(groups)} "
                            f"(one per value of {', '.join(keys)}): sweep fewer values, or --paired")
    return [(", ".join(f"{k} = {v:,}" for k, v in zip(keys, key)), indices) for key, indices in groups.items()]


def plot(path: str, network, title: str, plan, quantities, result, dtype=None) -> None:
    """Draw the quantities of a sweep into `path` (.png, .svg or .pdf)."""
    if not path.lower().endswith(SUFFIXES):
        raise SymcountError(f"--plot {path!r}: the file name must end in {', '.join(SUFFIXES)}")
    if not plan.swept:
        raise SymcountError("--plot needs a range, not a single value, e.g. T=1..4096:2x")
    Figure, Canvas, EngFormatter, FuncFormatter = _matplotlib()
    x_name = plan.swept[0]
    paired_with = [n for n in plan.swept[1:] if plan.paired or any(x_name in a.names and n in a.names
                                                                  for a in plan.axes)]
    curves = _curves(plan, result, x_name)
    split = len(curves) == 1 and any(row.kind in ATTENTION_KINDS for row in network.layers)
    if split and any(q.name == "macs" for q in quantities) and "attention" not in result:
        result = {**result, **sweep_of(network, functions(network, [QUANTITIES["attention"]]), plan.columns)}

    figure = Figure(figsize=(WIDTH, PANEL * len(quantities) + 0.9), dpi=DPI, layout="constrained")
    Canvas(figure)
    panels = figure.subplots(len(quantities), 1, sharex=True, squeeze=False)[:, 0]
    x_all = [_number(v) for v in result[x_name]]
    for panel, quantity in zip(panels, quantities):
        y_all = [_number(v) for v in result[quantity.name]]
        log_y = _logarithmic(y_all)
        if split and quantity.name == "macs":
            _attention_split(panel, x_all, y_all, [_number(v) for v in result["attention"]], log_y, x_name)
        else:
            for (label, indices), marker in zip(curves, itertools.cycle("os^vD<>p")):
                panel.plot([x_all[i] for i in indices], [y_all[i] for i in indices], marker=marker,
                           markersize=3, label=label or quantity.heading)
        if log_y:
            panel.set_yscale("log")
        else:
            panel.yaxis.set_major_formatter(EngFormatter())
        unit = f" in {dtype_of(quantity, dtype)}" if dtype_of(quantity, dtype) else ""
        panel.set_ylabel(f"{quantity.unit}{unit}")
        panel.set_title(quantity.label + unit, fontsize=10, loc="left")
        panel.grid(True, which="major", alpha=0.3)
        if len(curves) > 1:
            panel.legend(fontsize=8, loc="upper left")
    if _logarithmic(x_all):
        panels[-1].set_xscale("log", base=2 if all(v > 0 and (int(v) & (int(v) - 1)) == 0 for v in x_all) else 10)
        panels[-1].xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else
                                                           f"{value:g}"))
    panels[-1].set_xlabel(_axis_label(network, x_name, paired_with))
    figure.suptitle(f"{title}: {', '.join(q.heading for q in quantities)} against {x_name}")
    try:
        figure.savefig(path)
    except OSError as error:
        raise SymcountError(f"cannot write {path}: {error.strerror or error}") from None


def _attention_split(panel, x, total, attention, log_y: bool, x_name: str) -> None:
    """MACs of the attention layers and of the rest, and attention's share on a second axis."""
    rest = [t - a for t, a in zip(total, attention)]
    if log_y:
        panel.plot(x, total, color="black", linewidth=1.5, label="all layers")
        panel.plot(x, attention, color="tab:red", marker="o", markersize=3, label="attention layers")
        panel.plot(x, rest, color="tab:blue", marker="s", markersize=3, label="other layers")
    else:
        panel.stackplot(x, rest, attention, colors=("tab:blue", "tab:red"), alpha=0.6,
                        labels=("other layers", "attention layers"))
        panel.plot(x, total, color="black", linewidth=1.5, label="all layers")
    share = panel.twinx()
    share.plot(x, [100 * a / t if t else float("nan") for a, t in zip(attention, total)], color="tab:red",
               linestyle="--", linewidth=1, label="attention share")
    share.set_ylim(0, 100)
    share.set_ylabel("attention share (%)", color="tab:red")
    share.tick_params(axis="y", colors="tab:red")
    handles, labels = panel.get_legend_handles_labels()
    more, more_labels = share.get_legend_handles_labels()
    panel.legend(handles + more, labels + more_labels, fontsize=8, loc="upper left")
