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
    arm_conditions,
    arm_doses,
    standard_conditions,
)
from paracrine.simulations.doses import METRICS, DoseMatrix, dose_matrix
from paracrine.simulations.engine import (
    DEFAULT_TOLERANCES,
    FINAL_TOLERANCES,
    REFERENCE_TOLERANCES,
    Simulator,
    Tolerances,
    check_times,
)
from paracrine.simulations.model_simulator import ModelSimulator
from paracrine.simulations.timecourse import DEFAULT_TIMES_MIN, SimulationResult, simulate

__all__ = [
    "DEFAULT_TIMES_MIN",
    "DEFAULT_TOLERANCES",
    "FINAL_TOLERANCES",
    "INHIBITOR_TARGETS",
    "KNOCKOUT_TARGETS",
    "METRICS",
    "REFERENCE_TOLERANCES",
    "Condition",
    "DoseMatrix",
    "Inhibitor",
    "Knockdown",
    "Knockout",
    "ModelSimulator",
    "Perturbation",
    "SimulationResult",
    "Simulator",
    "Tolerances",
    "arm_conditions",
    "arm_doses",
    "check_times",
    "dose_matrix",
    "simulate",
    "standard_conditions",
]
