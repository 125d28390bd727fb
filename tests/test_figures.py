"""The figures of paracrine: one palette, defined once in :mod:`paracrine.vocabulary`, and the
figures of issue 12 drawn as asked (natural parameter values with units and intervals, time
courses faceted by cell line × read-out, fits with mean ± SD and a time scale, dose heat maps
with round ticks and defined metrics)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_FOLDERS = ("paracrine", "data", "models", "simulations", "fitting")
PALETTE_MODULE = ROOT / "paracrine" / "vocabulary.py"

#: Keyword arguments of matplotlib calls that take a colour or a colour map.
COLOUR_KEYWORDS = {
    "color", "colors", "c", "ec", "fc", "mfc", "mec", "ecolor", "edgecolor", "edgecolors",
    "facecolor", "facecolors", "markerfacecolor", "markeredgecolor", "cmap", "bad", "colour",
}  # fmt: skip
#: A string that is a colour whatever it is passed to.
COLOUR_LITERAL = re.compile(
    r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|C\d|tab:\w+|xkcd:.+)$"
)
#: ``ax.plot(x, y, "r--")``: a format string with a colour letter.
FMT_WITH_COLOUR = re.compile(r"^[-.:o^v<>sp*hH+xXDd|_1-4]*[bgrcmykw][-.:o^v<>sp*hH+xXDd|_1-4]*$")
#: Colour names that are a colour wherever they stand as a whole string.
COLOUR_NAMES = {
    "black", "white", "red", "blue", "green", "grey", "gray", "orange", "purple", "magenta",
    "cyan", "yellow", "lightgrey", "lightgray", "darkgrey", "darkgray",
}  # fmt: skip
NAMED = {
    "red", "blue", "green", "black", "white", "grey", "gray", "orange", "purple", "k", "r",
    "b", "g", "w", "none",
}  # fmt: skip


#: Drawing calls that take matplotlib's default colour cycle (C0, C1, …) when given no colour.
DRAWING = {
    "plot", "scatter", "bar", "barh", "fill_between", "fill_betweenx", "errorbar", "hist",
    "step", "stairs", "semilogx", "semilogy", "loglog", "vlines", "hlines",
}  # fmt: skip
#: … and those that draw from one position (a line across the axes, a span).
DRAWING_AT = {"axhline", "axvline", "axvspan", "axhspan", "axline"}
#: Maps that take matplotlib's default colour map when given none.
MAPS = {"imshow", "pcolormesh", "pcolor", "contour", "contourf", "matshow"}


def _strings(node: ast.AST):
    """The string constants *node* can evaluate to (itself, either branch of ``a if c else b``,
    ``a or b``, the items of a list or tuple) — not the keys of a subscript or call."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _strings(value)
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for item in node.elts:
            yield from _strings(item)


def hard_coded_colours(source: str) -> list[str]:
    """Colour literals in *source*: ``line N: 'literal'`` for each.

    A string passed as a colour keyword (``color="0.5"``, ``cmap="RdBu_r"``; ``"none"`` is
    allowed: no colour), a string that is a colour anywhere (``"#d9d9d9"``, ``"C0"``,
    ``"tab:red"``), a colour-map name given to ``get_cmap`` and a ``plot`` format string with a
    colour letter.
    """
    found = []
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            if COLOUR_LITERAL.match(node.value) or node.value.lower() in COLOUR_NAMES:
                found.append(f"line {node.lineno}: {node.value!r}")
        if isinstance(node, ast.Dict):  # bbox={"fc": ..., "ec": ...}, error_kw={"ecolor": ...}
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in COLOUR_KEYWORDS:
                    for const in _strings(value):
                        if const.value != "none":
                            found.append(f"line {const.lineno}: {key.value}={const.value!r}")
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg in COLOUR_KEYWORDS:
                for const in _strings(keyword.value):
                    if const.value != "none":
                        found.append(f"line {const.lineno}: {keyword.arg}={const.value!r}")
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        keywords = {k.arg for k in node.keywords}
        drawing = (name in DRAWING and len(node.args) >= 2) or (
            name in DRAWING_AT and len(node.args) >= 1
        )
        if drawing and None not in keywords and not keywords & COLOUR_KEYWORDS:
            found.append(f"line {node.lineno}: {name}(...) without a colour (the default cycle)")
        if name in MAPS and None not in keywords and not keywords & {"cmap", "colors"}:
            found.append(f"line {node.lineno}: {name}(...) without a colour map (the default)")
        if name in ("get_cmap", "get_cmap_by_name"):
            for const in (a for a in node.args if isinstance(a, ast.Constant)):
                found.append(f"line {const.lineno}: {name}({const.value!r})")
        if name in ("plot", "semilogx", "semilogy", "loglog", "errorbar"):
            for arg in node.args:
                is_text = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                if is_text and (FMT_WITH_COLOUR.match(arg.value) or arg.value in NAMED):
                    found.append(f"line {arg.lineno}: format {arg.value!r}")
    return sorted(set(found), key=lambda s: int(s.split()[1].rstrip(":")))


def package_sources():
    for folder in PACKAGE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path != PALETTE_MODULE:
                yield path


@pytest.mark.parametrize(
    "snippet",
    [
        'ax.plot(x, y, color="0.6")',
        'ax.scatter(x, y, c="tab:red")',
        'ax.imshow(z, cmap="RdBu_r")',
        'plt.get_cmap("viridis")',
        'ax.plot(x, y, "r--")',
        'ax.set_facecolor("#eeeeee")',
        'ax.text(0, 0, "a", color="white" if dark else "black")',
        'ax.errorbar(x, y, error_kw={"ecolor": "k"}, ecolor="k")',
        'ax.text(0, 0, "a", bbox={"fc": "w", "ec": "0.75"})',
        'x = "C1"',
        'ax.plot(x, y, "o-", ms=3)',
        "ax.axhline(0.0, lw=1)",
        "ax.imshow(grid)",
        'colour = "black" if value <= 3.0 else "white"',
    ],
)
def test_the_scan_finds_a_hard_coded_colour(snippet):
    assert hard_coded_colours(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        "ax.plot(x, y, color=ARM_COLOURS[arm])",
        'ax.plot(x, y, color=style["color"])',
        'np.errstate(over="ignore")',
        'ax.plot(x, y, "o-", color=MUTED)',
        'ax.scatter(x, y, color=INK, edgecolor="none")',
        "ax.plot(x, y, **style)",
        "fit.plot()",
        "client.scatter(problem, broadcast=True)",
        'f"{value:#x}"',
        '"""Docstring naming #d9d9d9 as an example."""',
    ],
)
def test_the_scan_passes_colours_from_the_vocabulary(snippet):
    assert hard_coded_colours(snippet) == []


def test_no_colour_is_hard_coded_outside_the_vocabulary():
    """Every colour of every figure comes from paracrine.vocabulary (one palette)."""
    problems = {
        str(path.relative_to(ROOT)): found
        for path in package_sources()
        if (found := hard_coded_colours(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


# -- the figures ------------------------------------------------------------------------------
@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _legend_texts(fig) -> list[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def _fake_result(x, lower, upper, names, others=()):
    """What plot_parameters reads of a FitResult: a log10 problem with natural values."""
    from types import SimpleNamespace

    x = np.asarray(x, dtype=float)
    start = SimpleNamespace(failed=False, nllh=1.0, x=x)
    more = [
        SimpleNamespace(failed=False, nllh=1.0 + k, x=np.asarray(o)) for k, o in enumerate(others)
    ]
    return SimpleNamespace(
        parameter_names=tuple(names),
        values={n: float(10.0**v) for n, v in zip(names, x, strict=True)},
        x=x,
        lower=np.asarray(lower, dtype=float),
        upper=np.asarray(upper, dtype=float),
        starts=[start, *more],
        nllh=1.0,
    )


def test_parameters_figure_shows_natural_values_units_intervals_and_bounds(plt, tmp_path):
    from paracrine.fitting.plotting import plot_parameters
    from paracrine.vocabulary import WARNING

    # R6_tot[MCF-7] at -1.998 against a lower bound of -2 is at its bound (issue 12)
    result = _fake_result(
        [-1.998, -1.0, 0.5],
        [-2.0, -3.0, -1.0],
        [2.0, 1.0, 2.0],
        ["R6_tot[MCF-7]", "k_stat3_dephos", "n_coop"],
        others=[[-1.5, -0.5, 0.4]],
    )
    ax = plot_parameters(result, intervals={"k_stat3_dephos": (0.03, float("inf"))})
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "R6_tot [MCF-7]  (nM)" and labels[1] == "k_stat3_dephos  (1/min)"
    assert ax.get_yticklabels()[0].get_color() == WARNING
    assert ax.get_yticklabels()[1].get_color() != WARNING
    assert ax.get_xscale() == "log" and "natural units" in ax.get_xlabel()
    texts = _legend_texts(ax.figure)
    assert "allowed range (bounds)" in texts and "at a bound (1)" in texts
    assert any("profile-likelihood interval" in t for t in texts)
    ax.figure.savefig(tmp_path / "parameters.png", dpi=300)
    # nothing clipped: the tick labels lie inside the figure
    renderer = ax.figure.canvas.get_renderer()
    for label in ax.get_yticklabels():
        assert label.get_window_extent(renderer).x0 >= -1  # pixels


def test_time_courses_are_faceted_by_cell_line_and_output_with_one_legend(plt):
    from paracrine.simulations import arm_conditions, simulate
    from paracrine.vocabulary import ARM_COLOURS

    result = simulate(
        "independent",
        arm_conditions(["MCF-7", "T47D"], 50.0, 50.0),
        times=np.linspace(0, 120, 25),
        outputs=["pERK", "pSTAT3"],
    )
    fig = result.plot(time_scale="sqrt")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 4  # 2 cell lines × 2 read-outs
    assert [ax.get_title() for ax in axes[:2]] == ["pERK", "pSTAT3"]
    assert "MCF-7" in axes[0].get_ylabel() and "T47D" in axes[2].get_ylabel()
    # one figure legend, the arms named once each, not over the curves
    assert all(ax.get_legend() is None for ax in axes) and len(fig.legends) == 1
    assert _legend_texts(fig) == ["control", "IL-6", "VEGF", "IL-6+VEGF"]
    for ax in axes:
        assert len(ax.get_lines()) == 4
        assert {line.get_color() for line in ax.get_lines()} == set(ARM_COLOURS.values())
        assert ax.get_xscale() == "function"


def test_time_courses_name_what_every_arm_shares(plt):
    import dataclasses

    from paracrine.simulations import arm_conditions, simulate
    from paracrine.simulations.conditions import Knockout

    conditions = [
        dataclasses.replace(c, perturbations=(Knockout("STAT3"),), bevacizumab_ug_ml=10.0)
        for c in arm_conditions(["T47D"], 50.0, 50.0)
    ]
    fig = simulate("independent", conditions, times=np.linspace(0, 60, 13)).plot()
    title = fig.legends[0].get_title().get_text()
    assert "T47D" in title and "every arm with STAT3 KO, bevacizumab 10 µg/mL" in title


def test_dose_ticks_are_round_doses():
    from paracrine.simulations.plotting import dose_ticks, format_dose

    assert format_dose(0.0) == "0" and format_dose(31.62) == "32" and format_dose(0.3162) == "0.32"
    positions, labels = dose_ticks(np.r_[0.0, np.logspace(-2, 3, 16)])
    assert labels == ["0", "0.01", "0.1", "1", "10", "100", "1000"]
    assert list(positions) == [0, 1, 4, 7, 10, 13, 16]
    _, labels = dose_ticks(np.r_[0.0, np.logspace(-1, 2, 9)])  # no round doses: 2 digits
    assert labels == ["0", "0.24", "1.3", "7.5", "42"]
    _, labels = dose_ticks(np.linspace(0, 100, 11))
    assert labels == ["0", "10", "20", "50", "100"]


def test_dose_heat_maps_define_their_metric(plt):
    from paracrine.simulations.doses import METRICS, DoseMatrix

    il6, vegf = np.array([0.0, 0.1, 1.0, 10.0]), np.array([0.0, 1.0, 10.0, 100.0])
    shape = (4, 4, 2)
    matrix = DoseMatrix(
        il6, vegf, ("pERK", "pAKT"),
        {m: np.arange(32, dtype=float).reshape(shape) for m in METRICS},
        "MCF-7", "independent", 90.0,
    )  # fmt: skip
    for metric in METRICS:
        fig = matrix.plot(metric)
        heat = fig.axes[0]
        assert [t.get_text() for t in heat.get_xticklabels()] == ["0", "1", "10", "100"]
        assert [t.get_text() for t in heat.get_yticklabels()] == ["0", "0.1", "1", "10"]
        caption = [t.get_text() for t in fig.texts if t.get_text().startswith(f"{metric}: ")]
        assert caption and METRICS[metric][:15] in caption[0]
        colourbar = fig.axes[2].get_ylabel()  # the panels first, then their colour bars
        assert colourbar
    assert "90 min" in matrix.plot("sustained").axes[2].get_ylabel()
