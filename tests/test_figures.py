"""The figures of paracrine: one palette, defined once in :mod:`paracrine.vocabulary`, and the
figures of issue 12 drawn as asked (natural parameter values with units and intervals, time
courses faceted by cell line × read-out, fits with mean ± SD and a time scale, dose heat maps
with round ticks and defined metrics)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

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
        'ax.scatter(x, y, edgecolor="none")',
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
