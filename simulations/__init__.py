"""paracrine.simulations — conditions and perturbations, the simulation engine, ``simulate``,
batch runs, response metrics, knockout screens, antibody sweeps, dose–response (Hill) fits,
synergy scores, sensitivity analysis and plots."""

from paracrine.simulations.antibodies import (
    ANTIBODIES,
    AntibodyMatrix,
    AntibodySweep,
    antibody_matrix,
    antibody_sweep,
    equilibrium_ic50,
)
from paracrine.simulations.batch import BatchResult, run_batch
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
from paracrine.simulations.dose_response import HillFit, fit_hill, hill
from paracrine.simulations.doses import METRICS, DoseMatrix, dose_matrix
from paracrine.simulations.engine import (
    DEFAULT_TOLERANCES,
    FINAL_TOLERANCES,
    REFERENCE_TOLERANCES,
    Simulator,
    Tolerances,
    check_times,
)
from paracrine.simulations.knockouts import (
    KnockoutScreen,
    knockout_screen,
    plot_knockout_screens,
    screen_perturbations,
)
from paracrine.simulations.model_simulator import ModelSimulator
from paracrine.simulations.sensitivity import (
    LocalSensitivity,
    MorrisResult,
    SobolResult,
    local_sensitivities,
    metric_function,
    morris_screening,
    sobol_indices,
)
from paracrine.simulations.synergy import (
    SYNERGY_METHODS,
    SynergyScores,
    plot_synergy,
    synergy_scores,
)
from paracrine.simulations.timecourse import DEFAULT_TIMES_MIN, SimulationResult, simulate

__all__ = [
    "ANTIBODIES",
    "DEFAULT_TIMES_MIN",
    "DEFAULT_TOLERANCES",
    "FINAL_TOLERANCES",
    "INHIBITOR_TARGETS",
    "KNOCKOUT_TARGETS",
    "METRICS",
    "REFERENCE_TOLERANCES",
    "SYNERGY_METHODS",
    "AntibodyMatrix",
    "AntibodySweep",
    "BatchResult",
    "Condition",
    "DoseMatrix",
    "HillFit",
    "Inhibitor",
    "Knockdown",
    "Knockout",
    "KnockoutScreen",
    "LocalSensitivity",
    "ModelSimulator",
    "MorrisResult",
    "Perturbation",
    "SimulationResult",
    "Simulator",
    "SobolResult",
    "SynergyScores",
    "Tolerances",
    "antibody_matrix",
    "antibody_sweep",
    "arm_conditions",
    "arm_doses",
    "check_times",
    "dose_matrix",
    "equilibrium_ic50",
    "fit_hill",
    "hill",
    "knockout_screen",
    "local_sensitivities",
    "metric_function",
    "morris_screening",
    "plot_knockout_screens",
    "plot_synergy",
    "run_batch",
    "screen_perturbations",
    "simulate",
    "sobol_indices",
    "standard_conditions",
    "synergy_scores",
]
