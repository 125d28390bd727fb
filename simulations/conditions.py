"""Experimental conditions and perturbations: doses, MSC-CM, antibodies, knockouts, knockdowns
and inhibitors.

A :class:`Condition` is what happens to one well: its cell line, what is added at t = 0, and
which genes are perturbed. Perturbations act on parameters (a knockout sets a protein's total
to zero, an inhibitor scales the catalytic rate constants of its target), so every condition
still starts from the unstimulated steady state of its (perturbed) cell line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from paracrine.errors import InvalidInputError, UnknownNameError
from paracrine.models.targets import INHIBITOR_TARGETS, KNOCKOUT_TARGETS
from paracrine.simulations import units
from paracrine.vocabulary import COMBINATION, CONTROL, IL6_ARM, VEGF_ARM, condition_label

# KNOCKOUT_TARGETS and INHIBITOR_TARGETS are defined in paracrine.models.targets and
# re-exported here (and from paracrine.simulations), where the perturbations use them.
__all__ = [
    "INHIBITOR_TARGETS",
    "KNOCKOUT_TARGETS",
    "Condition",
    "Inhibitor",
    "Knockdown",
    "Knockout",
    "Perturbation",
    "bound_at_equilibrium",
    "standard_conditions",
]


def bound_at_equilibrium(ligand_nm: float, sites_nm: float, kd_nm: float) -> float:
    """Complex concentration (nM) of L + S <-> C at equilibrium, same volume (closed form).

    Solves C = (L0 - C)(S0 - C)/Kd, taking the root in [0, min(L0, S0)]; written in the
    cancellation-free form 2·L0·S0 / (b + sqrt(b² - 4·L0·S0)) with b = L0 + S0 + Kd.
    """
    b = ligand_nm + sites_nm + kd_nm
    disc = max(b * b - 4.0 * ligand_nm * sites_nm, 0.0)
    if ligand_nm <= 0 or sites_nm <= 0:
        return 0.0
    return 2.0 * ligand_nm * sites_nm / (b + math.sqrt(disc))


def _check_fraction(value: float, what: str) -> float:
    if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise InvalidInputError(f"{what}: expected a number in [0, 1], received {value!r}")
    return float(value)


@dataclass(frozen=True)
class Knockout:
    """Remove a protein completely (its total, or its synthesis, set to 0)."""

    target: str

    def __post_init__(self) -> None:
        if self.target not in KNOCKOUT_TARGETS:
            raise UnknownNameError("knockout target", self.target, KNOCKOUT_TARGETS)

    def factors(self) -> dict[str, float]:
        return dict.fromkeys(KNOCKOUT_TARGETS[self.target], 0.0)

    def label(self) -> str:
        return f"{self.target} KO"


@dataclass(frozen=True)
class Knockdown:
    """Reduce a protein to ``remaining`` (a fraction in [0, 1]) of its normal amount."""

    target: str
    remaining: float

    def __post_init__(self) -> None:
        if self.target not in KNOCKOUT_TARGETS:
            raise UnknownNameError("knockdown target", self.target, KNOCKOUT_TARGETS)
        _check_fraction(self.remaining, f"knockdown of {self.target}: remaining")

    def factors(self) -> dict[str, float]:
        return dict.fromkeys(KNOCKOUT_TARGETS[self.target], self.remaining)

    def label(self) -> str:
        return f"{self.target} KD {self.remaining:g}"


@dataclass(frozen=True)
class Inhibitor:
    """Inhibit a kinase's catalytic activity by ``inhibition`` (fraction in [0, 1])."""

    target: str
    inhibition: float

    def __post_init__(self) -> None:
        if self.target not in INHIBITOR_TARGETS:
            raise UnknownNameError("inhibitor target", self.target, INHIBITOR_TARGETS)
        _check_fraction(self.inhibition, f"inhibitor of {self.target}: inhibition")

    def factors(self) -> dict[str, float]:
        return dict.fromkeys(INHIBITOR_TARGETS[self.target], 1.0 - self.inhibition)

    def label(self) -> str:
        return f"{self.target} inhibitor {self.inhibition:g}"


Perturbation = Knockout | Knockdown | Inhibitor


@dataclass(frozen=True)
class Condition:
    """One experimental condition: a cell line, what is added at t = 0, and perturbations.

    Parameters
    ----------
    name
        Label used in results (unique within one simulation).
    cell_line
        One of the model's cell lines (``"MCF-7"``, ``"T47D"``, ``"SK-Br-3"``).
    il6_ng_ml, vegf_ng_ml
        Recombinant IL-6 / VEGF-A165 added at t = 0 (ng/mL).
    bevacizumab_ug_ml, anti_il6_ug_ml
        Neutralising antibodies added at t = 0 (µg/mL of IgG).
    msc_cm_fraction
        Fraction of MSC-conditioned medium (0–1); brings ``msc_cm_fraction ×``
        (``msc_cm_il6_ng_ml``, ``msc_cm_vegf_ng_ml``) of IL-6 and VEGF.
    perturbations
        Knockouts, knockdowns and inhibitors, applied before pre-equilibration.
    msc_cm_il6_ng_ml, msc_cm_vegf_ng_ml
        IL-6 and VEGF content of undiluted MSC-CM (assumed defaults, see ``units``).
    antibody_preincubation
        If True (default, as in neutralisation experiments), antibodies are pre-incubated with
        the ligands and reach the cells at their binding equilibrium (closed form); if False
        they are added to the cells at the same moment as the ligands.
    """

    name: str
    cell_line: str = "MCF-7"
    il6_ng_ml: float = 0.0
    vegf_ng_ml: float = 0.0
    bevacizumab_ug_ml: float = 0.0
    anti_il6_ug_ml: float = 0.0
    msc_cm_fraction: float = 0.0
    perturbations: tuple[Perturbation, ...] = field(default=())
    msc_cm_il6_ng_ml: float = units.MSC_CM_IL6_NG_ML
    msc_cm_vegf_ng_ml: float = units.MSC_CM_VEGF_NG_ML
    antibody_preincubation: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidInputError(
                f"condition name: expected a non-empty string, received {self.name!r}"
            )
        for attr in (
            "il6_ng_ml",
            "vegf_ng_ml",
            "bevacizumab_ug_ml",
            "anti_il6_ug_ml",
            "msc_cm_il6_ng_ml",
            "msc_cm_vegf_ng_ml",
        ):
            value = getattr(self, attr)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (math.isfinite(value) and value >= 0)
            ):
                raise InvalidInputError(
                    f"condition {self.name!r}, {attr}: expected a finite dose >= 0, "
                    f"received {value!r}"
                )
        _check_fraction(self.msc_cm_fraction, f"condition {self.name!r}, msc_cm_fraction")
        perturbations = tuple(self.perturbations)
        for p in perturbations:
            if not isinstance(p, Knockout | Knockdown | Inhibitor):
                raise InvalidInputError(
                    f"condition {self.name!r}: perturbations must be Knockout, Knockdown or "
                    f"Inhibitor, received {p!r}"
                )
        object.__setattr__(self, "perturbations", perturbations)

    @property
    def total_il6_ng_ml(self) -> float:
        return self.il6_ng_ml + self.msc_cm_fraction * self.msc_cm_il6_ng_ml

    @property
    def total_vegf_ng_ml(self) -> float:
        return self.vegf_ng_ml + self.msc_cm_fraction * self.msc_cm_vegf_ng_ml

    def added_concentrations_nm(self) -> dict[str, float]:
        """Medium species added at t = 0, in nM (antibodies as binding sites)."""
        return {
            "IL6": units.ng_ml_to_nm(self.total_il6_ng_ml, units.IL6_KDA),
            "VEGF": units.ng_ml_to_nm(self.total_vegf_ng_ml, units.VEGF_KDA),
            "Bev": units.antibody_ug_ml_to_site_nm(self.bevacizumab_ug_ml, units.BEVACIZUMAB_KDA),
            "AbIL6": units.antibody_ug_ml_to_site_nm(self.anti_il6_ug_ml, units.IGG_KDA),
        }

    def parameter_factors(self) -> dict[str, float]:
        """Multiplicative factors on parameters from all perturbations (combined by product)."""
        factors: dict[str, float] = {}
        for p in self.perturbations:
            for name, f in p.factors().items():
                factors[name] = factors.get(name, 1.0) * f
        return factors


#: Default IL-6 and VEGF-A165 doses (ng/mL) of the four arms: assumed (the paper's abstract
#: gives none); the bundled synthetic reference data use them too (data/README.md).
DEFAULT_IL6_NG_ML = 50.0
DEFAULT_VEGF_NG_ML = 50.0


def arm_doses(il6_ng_ml: float, vegf_ng_ml: float) -> dict[str, tuple[float, float]]:
    """``{arm: (IL-6, VEGF) in ng/mL}`` of the paper's four arms."""
    return {
        CONTROL: (0.0, 0.0),
        IL6_ARM: (il6_ng_ml, 0.0),
        VEGF_ARM: (0.0, vegf_ng_ml),
        COMBINATION: (il6_ng_ml, vegf_ng_ml),
    }


def standard_conditions(
    cell_line: str = "MCF-7",
    il6_ng_ml: float = DEFAULT_IL6_NG_ML,
    vegf_ng_ml: float = DEFAULT_VEGF_NG_ML,
) -> list[Condition]:
    """Control, IL-6, VEGF and IL-6+VEGF for one cell line (the paper's four arms), named by
    their arm."""
    return [
        Condition(arm, cell_line, il6_ng_ml=il6, vegf_ng_ml=vegf)
        for arm, (il6, vegf) in arm_doses(il6_ng_ml, vegf_ng_ml).items()
    ]


def arm_conditions(
    cell_lines: Sequence[str],
    il6_ng_ml: float = DEFAULT_IL6_NG_ML,
    vegf_ng_ml: float = DEFAULT_VEGF_NG_ML,
) -> list[Condition]:
    """The four arms in each of *cell_lines*, named ``"<arm> [<line>]"``
    (:func:`~paracrine.vocabulary.condition_label`): what fits, reports and synthetic blot
    experiments simulate."""
    return [
        Condition(condition_label(arm, line), line, il6_ng_ml=il6, vegf_ng_ml=vegf)
        for line in cell_lines
        for arm, (il6, vegf) in arm_doses(il6_ng_ml, vegf_ng_ml).items()
    ]
