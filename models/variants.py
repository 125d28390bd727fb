"""Cross-talk variants: the hypotheses of BIOLOGY.md, all built on one shared core.

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
        Number in BIOLOGY.md's list of hypotheses.
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
_CROSS_ACTIVATION = {"k_stat3_vegfr2": 1e-2}
_SATURABLE = {"inv_Km_fb": 1e-2}

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            "independent",
            "1",
            "Independent convergence: IL-6R/gp130 and VEGFR2 feed the shared Ras/PI3K/MKK3/6 "
            "nodes and nothing else; SOCS3 damps only the IL-6 arm (hypothesis 5 is built in).",
            {},
            "null model",
        ),
        Variant(
            "stat3_vegf_autocrine",
            "2",
            "pSTAT3 drives VEGF transcription and secretion, prolonging VEGFR2 signalling when "
            "IL-6 is present.",
            dict(_AUTOCRINE),
            "Niu et al. 2002 Oncogene; Wei et al. 2003 Oncogene; Xu et al. 2005 Oncogene",
        ),
        Variant(
            "vegfr2_stat3",
            "3",
            "VEGFR2 cross-activates STAT3 (via Src), so VEGF adds to the IL-6 arm's STAT3 output.",
            dict(_CROSS_ACTIVATION),
            "Chen et al. 2008",
        ),
        Variant(
            "saturable_feedback",
            "4",
            "Both arms induce one limited pool of feedback phosphatases (DUSPs); two inputs "
            "saturate it, so the combination escapes feedback and stays up longer.",
            dict(_SATURABLE),
            "hypothesis (no direct evidence found; BIOLOGY.md)",
        ),
        Variant(
            "full",
            "2+3+4",
            "All three cross-talk mechanisms together (nests every other variant).",
            {**_AUTOCRINE, **_CROSS_ACTIVATION, **_SATURABLE},
            "union of hypotheses 2–4",
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
