"""Cross-talk variants: the hypotheses of docs/literature.md (section 6), on one shared core.

Every variant is the same Antimony model (``antimony/*.ant``); a variant decides which
cross-talk strength parameters are switched on (given a non-zero default and estimated). The
null model has them all at exactly zero, so each variant nests the null model and the ``full``
variant nests them all — which is what makes likelihood-ratio tests between them valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paracrine.errors import UnknownNameError
from paracrine.models.targets import AUTOCRINE_SWITCH

__all__ = ["VARIANTS", "Variant", "get_variant", "list_variants"]


@dataclass(frozen=True)
class Variant:
    """A named cross-talk hypothesis.

    Attributes
    ----------
    name
        Identifier used everywhere (``--variant`` on the command line).
    hypothesis
        Number in the project's list of cross-talk hypotheses (docs/literature.md).
    description
        One sentence.
    switched_on
        Cross-talk parameters this variant estimates, with their starting defaults.
    references
        Literature behind the mechanism.
    """

    name: str
    hypothesis: str
    description: str
    switched_on: dict[str, float] = field(default_factory=dict)
    references: str = ""


_AUTOCRINE = {AUTOCRINE_SWITCH: 1e-3}
_SATURABLE = {"inv_Km_fb": 1e-2}
_PHOSPHATASES = {"sat_erk": 10.0, "sat_akt": 10.0, "sat_p38": 10.0}
_KDR = {"k_kdr_ind": 20.0}
_COOPERATION = {"k_coop": 0.1, "k_e_deg": 1 / 600, "n_coop": 2.0}

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            "independent",
            "1",
            "Independent convergence: IL-6R/gp130 and VEGFR2 feed the shared Ras/PI3K/MKK3/6 "
            "nodes (and VEGFR2 phosphorylates some STAT3 via Src) and nothing else; SOCS3 "
            "damps only the IL-6 arm, ligand-induced down-regulation only the VEGF arm.",
            {},
            "null model",
        ),
        Variant(
            "stat3_vegf_autocrine",
            "2",
            "pSTAT3 drives VEGF transcription and secretion, prolonging VEGFR2 signalling when "
            "IL-6 is present.",
            dict(_AUTOCRINE),
            "Niu et al. 2002 Oncogene 21:2000; Wei et al. 2003 Oncogene 22:319; Xu et al. 2005 "
            "Oncogene 24:5552",
        ),
        Variant(
            "saturable_feedback",
            "4",
            "Both arms induce one limited pool of feedback phosphatases (DUSPs on ERK and p38); "
            "two inputs saturate it, so the combination escapes feedback and stays up longer.",
            dict(_SATURABLE),
            "hypothesis (no direct evidence found); DUSP specificity: Caunt & Keyse 2013 FEBS J",
        ),
        Variant(
            "saturable_phosphatases",
            "6",
            "The constitutive phosphatases of ERK, AKT and p38 work near saturation (zero-order "
            "ultrasensitivity): the input of one receptor, once adapted, stays below the "
            "phosphatases' capacity, the summed input of two exceeds it, so only the combination "
            "stays up.",
            dict(_PHOSPHATASES),
            "Goldbeter & Koshland 1981 PNAS 78:6840; Huang & Ferrell 1996 PNAS 93:10078",
        ),
        Variant(
            "stat3_vegfr2_expression",
            "7",
            "IL-6/pSTAT3 induces KDR (VEGFR2) mRNA, raising VEGFR2 synthesis: with VEGF present "
            "the extra receptor replaces what ligand-induced down-regulation removes, so VEGF "
            "signalling persists only when IL-6 is there too.",
            dict(_KDR),
            "hypothesis; see docs/literature.md for the evidence on STAT3 and KDR expression",
        ),
        Variant(
            "stat3_erk_cooperation",
            "8",
            "Coincidence at STAT3: full transcriptional activity needs pY705 (JAK, IL-6) and "
            "pS727 (ERK, strongest with VEGF); the doubly active STAT3 dimer induces a "
            "long-lived effector that keeps Ras, PI3K and MKK3/6 active — built up only when "
            "both ligands act.",
            dict(_COOPERATION),
            "Wen, Zhong & Darnell 1995 Cell 82:241; Chung et al. 1997 Mol Cell Biol 17:6508",
        ),
        Variant(
            "cooperation_saturation",
            "6+8",
            "STAT3–ERK coincidence (the long-lived effector of stat3_erk_cooperation) acting "
            "through ERK, AKT and p38 phosphatases that work near saturation "
            "(saturable_phosphatases): the effector sustains, the saturation sharpens the "
            "combination's peak.",
            {**_COOPERATION, **_PHOSPHATASES},
            "Wen, Zhong & Darnell 1995 Cell 82:241; Goldbeter & Koshland 1981 PNAS 78:6840",
        ),
        Variant(
            "full",
            "2+4+6+7+8",
            "All cross-talk mechanisms together (nests every other variant).",
            {**_AUTOCRINE, **_SATURABLE, **_PHOSPHATASES, **_KDR, **_COOPERATION},
            "union of the variants",
        ),
    )
}


def list_variants() -> list[str]:
    """Names of the available variants, the null model first."""
    return list(VARIANTS)


def get_variant(name: str) -> Variant:
    """The variant called *name*; unknown names raise with close-match suggestions."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise UnknownNameError("variant", name, VARIANTS) from None
