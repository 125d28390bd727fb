"""The words every part of paracrine shares: cell lines, read-outs, the paper's four arms, how a
condition of one cell line is labelled, and the one colour palette of every figure.

A leaf module: it imports nothing from paracrine, so that data, models, simulations, fitting
and the command line can all use it without import cycles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "ARMS",
    "ARM_COLOURS",
    "ARM_LINE_STYLES",
    "ARM_MARKERS",
    "CELL_LINES",
    "CELL_LINE_MARKERS",
    "COMBINATION",
    "CONTROL",
    "DIVERGING_CMAP",
    "FAINT",
    "GUIDE",
    "HIGHLIGHT",
    "IL6_ARM",
    "INK",
    "MISSING",
    "MUTED",
    "PAPER",
    "READOUTS",
    "SEQUENTIAL_CMAP",
    "SEQUENTIAL_CMAP_REVERSED",
    "SINGLE_LIGANDS",
    "TIME_SCALES",
    "VEGF_ARM",
    "WARNING",
    "cell_line_markers",
    "condition_colour",
    "condition_colours",
    "condition_label",
    "set_time_scale",
    "split_condition_label",
    "text_colour",
]

#: The three breast-cancer cell lines of De Luca et al. 2012 (J Cell Biochem 113:3363).
CELL_LINES: tuple[str, ...] = ("MCF-7", "T47D", "SK-Br-3")
#: Phospho-blot read-outs (phosphorylated fractions): ERK1/2, AKT, p38 (claim 4) and STAT3.
READOUTS: tuple[str, ...] = ("pERK", "pAKT", "p38", "pSTAT3")
#: The paper's four arms: unstimulated, each ligand alone, both together.
CONTROL = "control"
#: The single-ligand arms; also the agent names a condition label joins with ``+``.
IL6_ARM = "IL-6"
VEGF_ARM = "VEGF"
SINGLE_LIGANDS: tuple[str, ...] = (IL6_ARM, VEGF_ARM)
COMBINATION = f"{IL6_ARM}+{VEGF_ARM}"
ARMS: tuple[str, ...] = (CONTROL, *SINGLE_LIGANDS, COMBINATION)

#: One colour per arm, the same in every paracrine figure (colour-blind-safe Okabe–Ito hues).
ARM_COLOURS: dict[str, str] = {
    CONTROL: "#7f7f7f",
    IL6_ARM: "#0072B2",
    VEGF_ARM: "#009E73",
    COMBINATION: "#D55E00",
}
#: Line style and marker of each arm in time-course figures: colour tells the arm, and the style
#: keeps an arm visible where its curve lies on another's (IL-6 dashed over IL-6+VEGF, which is
#: drawn wider underneath).
ARM_LINE_STYLES: dict[str, dict[str, object]] = {
    CONTROL: {"ls": "-", "lw": 1.4, "zorder": 2},
    IL6_ARM: {"ls": (0, (4, 2)), "lw": 1.8, "zorder": 5},
    VEGF_ARM: {"ls": (0, (1.5, 1.5)), "lw": 2.0, "zorder": 4},
    COMBINATION: {"ls": "-", "lw": 3.2, "zorder": 3, "alpha": 0.85},
}
ARM_MARKERS: dict[str, str] = {CONTROL: "o", IL6_ARM: "s", VEGF_ARM: "^", COMBINATION: "D"}
#: Colour map of signed maps (synergy scores, excess over a reference): always centred at 0, with
#: symmetric limits or a ``TwoSlopeNorm``, so that white means "no excess".
DIVERGING_CMAP = "RdBu_r"
#: Colour map of response maps (fold over basal, fractional effect): perceptually uniform.
SEQUENTIAL_CMAP = "viridis"
#: The same, reversed (small = bright), for maps where small is good (p-values, errors).
SEQUENTIAL_CMAP_REVERSED = SEQUENTIAL_CMAP + "_r"
#: Colours for conditions that are not one of the four arms (perturbations, doses), in order.
_OTHER_COLOURS = ("#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442", "#882255", "#44AA99")

#: Colours that are not a condition's, for everything else a figure draws; no module outside
#: this one writes a colour literal (``tests/test_figures.py`` scans the source for them).
#: Text, axes-like reference lines (zero, identity) and outlines.
INK = "#000000"
#: Secondary marks: a model's free ligand, starts other than the best, a fit's summary line.
MUTED = "#595959"
#: Guides that should recede: ±2σ bands, 50 % lines, the grid.
GUIDE = "#9e9e9e"
#: Faint fill behind marks, e.g. the background of a heat map.
FAINT = "#eeeeee"
#: Cells of a heat map without a value ("n/a").
MISSING = "#d9d9d9"
#: Text on a dark cell.
PAPER = "#ffffff"
#: The one emphasised thing of a figure that shows no condition: best start, hits, estimates.
HIGHLIGHT = "#CC79A7"
#: Failed starts, parameters at a bound, thresholds crossed.
WARNING = "#E69F00"
#: Markers telling cell lines apart where colour already tells conditions (in order).
CELL_LINE_MARKERS: tuple[str, ...] = ("o", "s", "D", "^", "v", "P", "X")

_LABEL = re.compile(r"^(?P<arm>.*\S) \[(?P<line>[^\[\]]+)\]$")


def condition_label(arm: str, cell_line: str) -> str:
    """Label of *arm* in *cell_line*, ``"IL-6 [MCF-7]"``: a condition's name in fits and plots.

    Examples
    --------
    >>> condition_label("IL-6+VEGF", "T47D")
    'IL-6+VEGF [T47D]'
    """
    return f"{arm} [{cell_line}]"


def split_condition_label(label: str) -> tuple[str, str | None]:
    """Inverse of :func:`condition_label`: ``(arm, cell_line)``; ``(label, None)`` when *label*
    names no cell line.

    Examples
    --------
    >>> split_condition_label("IL-6 [MCF-7]")
    ('IL-6', 'MCF-7')
    >>> split_condition_label("IL-6")
    ('IL-6', None)
    """
    match = _LABEL.match(label)
    if match is None:
        return label, None
    return match.group("arm"), match.group("line")


def condition_colour(name: str, index: int = 0) -> str:
    """Colour of a condition: its arm's (for a label or an arm name), else the *index*-th of a
    fixed list of other colours (cycling)."""
    arm, _ = split_condition_label(name)
    if arm in ARM_COLOURS:
        return ARM_COLOURS[arm]
    return _OTHER_COLOURS[index % len(_OTHER_COLOURS)]


def condition_colours(names: Iterable[str]) -> dict[str, str]:
    """Colour of each of *names* (labels or arm names): each arm its own, the other
    conditions the other colours in the order given, so that no two of them share one until
    the list cycles.

    Examples
    --------
    >>> condition_colours(["IL-6 [T47D]", "gp130 KO", "VEGF"])
    {'IL-6 [T47D]': '#0072B2', 'gp130 KO': '#CC79A7', 'VEGF': '#009E73'}
    """
    colours: dict[str, str] = {}
    others = 0
    for name in dict.fromkeys(names):
        if split_condition_label(name)[0] in ARM_COLOURS:
            colours[name] = condition_colour(name)
        else:
            colours[name] = condition_colour(name, others)
            others += 1
    return colours


def cell_line_markers(lines: Iterable[str]) -> dict[str, str]:
    """Marker of each cell line in *lines*: the known ones always the same, others the rest.

    Examples
    --------
    >>> cell_line_markers(["T47D", "MDA-MB-231"])
    {'T47D': 's', 'MDA-MB-231': '^'}
    """
    markers: dict[str, str] = {}
    spare = [m for k, m in enumerate(CELL_LINE_MARKERS) if k >= len(CELL_LINES)]
    others = 0
    for line in dict.fromkeys(lines):
        if line in CELL_LINES:
            markers[line] = CELL_LINE_MARKERS[CELL_LINES.index(line)]
        else:
            markers[line] = spare[others % len(spare)]
            others += 1
    return markers


def text_colour(dark: bool) -> str:
    """Colour of text written on a heat-map cell: :data:`PAPER` on a *dark* cell, else
    :data:`INK`."""
    return PAPER if dark else INK


#: Time axes of time-course figures: ``"sqrt"`` and ``"log"`` spread the early minutes.
TIME_SCALES: tuple[str, ...] = ("linear", "sqrt", "log")


def set_time_scale(ax, scale: str = "linear", t_max: float = 240.0) -> str:
    """Set the time axis of *ax* (minutes) to *scale* and return its axis label.

    ``"linear"``; ``"sqrt"``: a square-root axis (a matplotlib ``FuncScale``), so that 0–15 min
    take as much room as 60–135 min; ``"log"``: logarithmic above 1 min and linear below
    (``symlog``), so that t = 0 stays on the axis. Ticks at round minutes up to *t_max*.
    """
    if scale not in TIME_SCALES:
        raise ValueError(
            f"time_scale: expected one of {', '.join(TIME_SCALES)}, received {scale!r}"
        )
    ticks = [t for t in (0, 5, 15, 30, 60, 120, 240, 480, 960, 1440) if t <= max(t_max, 5.0)]
    if scale == "sqrt":

        def forward(t):
            return abs(t) ** 0.5 * ((t > 0) * 2 - 1)

        def inverse(u):
            return u * abs(u)

        ax.set_xscale("function", functions=(forward, inverse))
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        return "time (min, square-root axis)"
    if scale == "log":
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        return "time (min, log axis above 1 min)"
    return "time (min)"
