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
    "CELL_LINES",
    "COMBINATION",
    "CONTROL",
    "DIVERGING_CMAP",
    "IL6_ARM",
    "READOUTS",
    "SEQUENTIAL_CMAP",
    "SINGLE_LIGANDS",
    "VEGF_ARM",
    "condition_colour",
    "condition_colours",
    "condition_label",
    "split_condition_label",
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
#: Colour map of signed maps (synergy scores, excess over a reference): always centred at 0, with
#: symmetric limits or a ``TwoSlopeNorm``, so that white means "no excess".
DIVERGING_CMAP = "RdBu_r"
#: Colour map of response maps (fold over basal, fractional effect): perceptually uniform.
SEQUENTIAL_CMAP = "viridis"
#: Colours for conditions that are not one of the four arms (perturbations, doses), in order.
_OTHER_COLOURS = ("#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442", "#882255", "#44AA99")

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
