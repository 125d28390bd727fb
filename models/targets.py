"""The model ids that experiments act on: what a condition adds to the medium, how antibodies
neutralise their ligands, which parameters a knockout, knockdown or inhibitor changes, and the
one switch that puts ligand into the unstimulated medium.

The ids are the Antimony/SBML ids of ``antimony/*.ant``, verbatim. They are defined once here
so that the simulator, the condition types and the PEtab exporter agree on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

__all__ = [
    "AUTOCRINE_SWITCH",
    "DOSED_SPECIES",
    "INHIBITOR_TARGETS",
    "KNOCKOUT_TARGETS",
    "MEDIUM_INPUTS",
    "NEUTRALISATION",
    "Neutralisation",
]

#: Medium species a condition sets at t = 0 (nM), in the order the simulator writes them:
#: the ligands, the antibodies' binding sites, and the ligand–antibody complexes (non-zero
#: only when antibodies are pre-incubated with their ligand).
MEDIUM_INPUTS: tuple[str, ...] = ("IL6", "VEGF", "Bev", "AbIL6", "VEGF_Bev", "IL6_Ab")

#: Medium species a recombinant dose sets (the ligands added at t = 0): what a PEtab condition
#: table of an exported blot problem assigns.
DOSED_SPECIES: tuple[str, ...] = ("IL6", "VEGF")


class Neutralisation(NamedTuple):
    """One neutralising antibody: ``ligand + sites <-> complex`` with rate constants ``kon``
    (1/(nM·min)) and ``koff`` (1/min), all as model ids."""

    ligand: str
    sites: str
    complex: str
    kon: str
    koff: str


#: The two neutralising antibodies: bevacizumab binds VEGF-A, the anti-IL-6 antibody IL-6.
NEUTRALISATION: tuple[Neutralisation, ...] = (
    Neutralisation("VEGF", "Bev", "VEGF_Bev", "kon_bev", "koff_bev"),
    Neutralisation("IL6", "AbIL6", "IL6_Ab", "kon_ab_il6", "koff_ab_il6"),
)

#: Gene/protein -> parameters that set its abundance (scaled by knockouts and knockdowns).
KNOCKOUT_TARGETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "IL6R": ("R6_tot",),
        "gp130": ("R6_tot",),
        "JAK1": ("JAK_tot",),
        "STAT3": ("STAT3_tot",),
        "SOCS3": ("k_socs3_tx",),
        "VEGFR2": ("R2_0",),
        "PKC": ("PKC_tot",),
        "Ras": ("Ras_tot",),
        "Raf": ("Raf_tot",),
        "MEK": ("MEK_tot",),
        "ERK": ("ERK_tot",),
        "PI3K": ("PI3K_tot",),
        "AKT": ("AKT_tot",),
        "MKK3/6": ("MKK_tot",),
        "p38": ("p38_tot",),
        "DUSP": ("k_fb_ind",),
    }
)

#: Drug target -> catalytic rate constants a (non-competitive) inhibitor scales down.
INHIBITOR_TARGETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "JAK1": ("k_stat3_jak", "k_ras_jak", "k_pi3k_jak", "k_mkk_jak"),
        "VEGFR2": ("k_vr_phos", "vr_kinase"),
        "Src": ("k_mkk_vr", "k_stat3_vegfr2"),
        "PKC": ("k_raf_pkc",),
        "Raf": ("k_mek_phos",),
        "MEK": ("k_erk_phos",),
        "PI3K": ("k_akt_phos",),
        "MKK3/6": ("k_p38_phos",),
    }
)

#: The one mechanism of the core model that puts ligand into the unstimulated medium
#: (crosstalk.ant: pSTAT3-driven VEGF transcription and secretion, hypothesis 2); non-zero in
#: the ``stat3_vegf_autocrine`` and ``full`` variants.
AUTOCRINE_SWITCH = "k_vegf_auto_tx"
