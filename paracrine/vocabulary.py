"""The words every part of paracrine shares: cell lines, read-outs, the paper's four arms, how a
condition of one cell line is labelled, and the one colour palette of every figure.

A leaf module: it imports nothing from paracrine, so that data, models, simulations, fitting
and the command line can all use it without import cycles.
"""

from __future__ import annotations

import re

__all__ = [
    "ARMS",
    "ARM_COLOURS",
    "CELL_LINES",
    "COMBINATION",
    "CONTROL",
    "READOUTS",
    "SINGLE_LIGANDS",
    "condition_colour",
    "condition_label",
    "split_condition_label",
]

#: The three breast-cancer cell lines of De Luca et al. 2012 (J Cell Biochem 113:3363).
CELL_LINES: tuple[str, ...] = ("MCF-7", "T47D", "SK-Br-3")
#: Phospho-blot read-outs (phosphorylated fractions): ERK1/2, AKT, p38 (claim 4) and STAT3.
READOUTS: tuple[str, ...] = ("pERK", "pAKT", "p38", "pSTAT3")
#: The paper's four arms: unstimulated, each ligand alone, both together.
CONTROL = "control"
SINGLE_LIGANDS: tuple[str, ...] = ("IL-6", "VEGF")
COMBINATION = "IL-6+VEGF"
ARMS: tuple[str, ...] = (CONTROL, *SINGLE_LIGANDS, COMBINATION)

#: One colour per arm, the same in every paracrine figure (colour-blind-safe Okabe–Ito hues).
ARM_COLOURS: dict[str, str] = {
    CONTROL: "#7f7f7f",
    "IL-6": "#0072B2",
    "VEGF": "#009E73",
    COMBINATION: "#D55E00",
}
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
