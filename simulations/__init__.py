"""paracrine.simulations — conditions and perturbations, the simulation engine, ``simulate``,
response metrics and plots."""

from paracrine.simulations.conditions import (
    INHIBITOR_TARGETS,
    KNOCKOUT_TARGETS,
    Condition,
    Inhibitor,
    Knockdown,
    Knockout,
    Perturbation,
    standard_conditions,
)
from paracrine.simulations.doses import METRICS, DoseMatrix, dose_matrix
from paracrine.simulations.engine import Simulator, check_times
from paracrine.simulations.timecourse import DEFAULT_TIMES_MIN, SimulationResult, simulate

__all__ = [
    "DEFAULT_TIMES_MIN",
    "INHIBITOR_TARGETS",
    "KNOCKOUT_TARGETS",
    "METRICS",
    "Condition",
    "DoseMatrix",
    "Inhibitor",
    "Knockdown",
    "Knockout",
    "Perturbation",
    "SimulationResult",
    "Simulator",
    "check_times",
    "dose_matrix",
    "simulate",
    "standard_conditions",
]
