"""paracrine.fitting — multistart fitting of mechanistic models to data.

Names are imported lazily so that ``import paracrine.fitting`` stays cheap (no libRoadRunner,
scipy or Dask until a fit runs).
"""

from __future__ import annotations

from paracrine.lazy import lazy_exports

# name -> module that defines it
_API = {
    "Problem": "paracrine.fitting.objective",
    "Capabilities": "paracrine.fitting.objective",
    "HierarchicalProblem": "paracrine.fitting.objective",
    "fd_jacobian": "paracrine.fitting.objective",
    "FitOptions": "paracrine.fitting.local",
    "optimize_start": "paracrine.fitting.local",
    "fit_multistart": "paracrine.fitting.engine",
    "latin_hypercube_starts": "paracrine.fitting.starts",
    "FitResult": "paracrine.fitting.result",
    "StartResult": "paracrine.fitting.result",
    "BlotProblem": "paracrine.fitting.problem",
    "BlotFit": "paracrine.fitting.blotfit",
    "fit_blots": "paracrine.fitting.blotfit",
    "combination_effect": "paracrine.fitting.blotfit",
    "ModelSelection": "paracrine.fitting.selection",
    "select_models": "paracrine.fitting.selection",
    "Profile": "paracrine.fitting.profiles",
    "profile": "paracrine.fitting.profiles",
    "profile_all": "paracrine.fitting.profiles",
    "simulate_blots": "paracrine.fitting.synthetic",
    "resample_blots": "paracrine.fitting.synthetic",
    "bootstrap_lrt": "paracrine.fitting.selection",
    "chibar_pvalue": "paracrine.fitting.selection",
    "CombinationRules": "paracrine.fitting.combination",
    "data_combination": "paracrine.fitting.combination",
    "fit_combination": "paracrine.fitting.combination",
    "compare_verdicts": "paracrine.fitting.combination",
    "saturated_fit": "paracrine.fitting.goodness",
    "goodness_of_fit": "paracrine.fitting.goodness",
    "Ensemble": "paracrine.fitting.ensemble",
    "sample_ensemble": "paracrine.fitting.ensemble",
    "prediction_band": "paracrine.fitting.ensemble",
    "timecourse_band": "paracrine.fitting.ensemble",
    "MigrationFit": "paracrine.fitting.migration",
    "fit_migration": "paracrine.fitting.migration",
    "load_petab": "paracrine.fitting.petab",
    "PetabProblem": "paracrine.fitting.petab",
    "export_petab": "paracrine.fitting.petab",
}

__all__ = sorted(_API)


__getattr__, __dir__ = lazy_exports("paracrine.fitting", _API, globals())
