"""Unit conversions for user-facing doses.

paracrine works in minutes and nM. Users give ligand doses in ng/mL and antibody doses in µg/mL;
these are converted with the molar masses below (1 ng/mL of a protein of M kDa = 1/M nM).
"""

from __future__ import annotations

__all__ = [
    "ANTIBODY_SITES_PER_IGG",
    "BEVACIZUMAB_KDA",
    "IGG_KDA",
    "IL6_KDA",
    "MSC_CM_IL6_NG_ML",
    "MSC_CM_VEGF_NG_ML",
    "VEGF_KDA",
    "antibody_ug_ml_to_site_nm",
    "ng_ml_to_nm",
]

#: Recombinant human IL-6, ~21 kDa (docs/literature.md).
IL6_KDA = 21.0
#: VEGF-A165 homodimer, glycosylated, ~45 kDa: 50 ng/mL ≈ 1.1 nM (docs/literature.md; the
#: non-glycosylated dimer is ~38 kDa; the 45 kDa value is the one used throughout).
VEGF_KDA = 45.0
#: Bevacizumab (humanised IgG1), 149 kDa.
BEVACIZUMAB_KDA = 149.0
#: A generic IgG for the anti-IL-6 antibody (assumed; no specific clone is named in the paper).
IGG_KDA = 150.0
#: Binding sites per IgG (bivalent), each binding one ligand molecule (dimer for VEGF).
ANTIBODY_SITES_PER_IGG = 2

#: IL-6 in undiluted MSC-conditioned medium. Assumed: the paper reports no concentration;
#: bone-marrow MSC-CM carries IL-6 at low ng/mL (docs/literature.md: secretion qualitatively
#: established). An input of every MSC-CM condition, overridable per condition.
MSC_CM_IL6_NG_ML = 2.0
#: VEGF-A in undiluted MSC-conditioned medium (assumed, as above).
MSC_CM_VEGF_NG_ML = 0.5


def ng_ml_to_nm(dose_ng_per_ml: float, molar_mass_kda: float) -> float:
    """Convert a protein dose in ng/mL to nM (1 ng/mL = 1/M nM for M in kDa)."""
    return dose_ng_per_ml / molar_mass_kda


def antibody_ug_ml_to_site_nm(dose_ug_per_ml: float, molar_mass_kda: float) -> float:
    """Convert an IgG dose in µg/mL to nM of binding sites (two per IgG)."""
    return ANTIBODY_SITES_PER_IGG * 1000.0 * dose_ug_per_ml / molar_mass_kda
