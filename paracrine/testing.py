"""Test helpers: a tiny but real fitting problem (A → B → C in libRoadRunner) with fault
injection, for tests, examples and docs.

It lives in the package, not in ``tests/``, because multistart workers (spawned processes, Dask
workers) must be able to import the class to unpickle it; a class defined in a pytest
``conftest.py`` is not importable by name in a fresh interpreter. Nothing in the library
imports this module.

The problem is a hand-written :class:`paracrine.fitting.objective.Problem`:

* free parameters ``log10_k1``, ``log10_k2`` (rate constants in 1/min, log10 scale);
* observable ``A`` is measured on an absolute scale, observable ``B`` with an unknown scale
  factor ``s_B`` (solved in closed form inside :meth:`ChainProblem.residuals`);
* log-normal noise with one σ per observable, solved analytically in
  :meth:`ChainProblem.update_inner` (σ_k = RMS of the log-residuals of observable k).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from paracrine.errors import SimulationError
from paracrine.fitting.objective import Capabilities, Problem
from paracrine.simulations import Simulator, Tolerances

__all__ = ["CHAIN_ANTIMONY", "ChainProblem", "antimony_to_sbml", "write_petab_problem"]

CHAIN_ANTIMONY = """
model chain
  J1: A -> B; k1*A
  J2: B -> C; k2*B
  A = 10; B = 0; C = 0
  k1 = 0.1; k2 = 0.03
end
"""

_FLOOR = 1e-10  # nM; model values below it are clipped so that log-residuals stay finite


class ChainProblem(Problem):
    """Fit k1, k2 of A → B → C to log-normal data, with analytic scale and noise levels.

    Parameters
    ----------
    data
        Measured values, shape ``(len(times_min), 2)``: columns A (absolute) and B (arbitrary
        units). Use :meth:`simulate_data` to make some.
    times_min
        Measurement times in minutes (all > 0).
    bounds
        ``(lower, upper)`` of both log10 rate constants.
    fail_region
        ``(parameter index, threshold)``: residuals raise :class:`SimulationError` whenever
        ``x[index] > threshold`` (to test failure handling). ``None``: never.
    fail_mode
        ``"raise"``: raise :class:`SimulationError` in the failure region; ``"exit"``: end the
        whole process there, as a crashing integrator would (only ever use it in workers).
    rtol
        CVODE relative tolerance of ordinary evaluations (``precise=True`` uses 1e-10).
    delay_s
        Sleep this long in every residual evaluation (to make starts last, e.g. for a test
        that kills a cluster worker mid-fit). 0: no delay.

    Notes
    -----
    Picklable: the RoadRunner instance is dropped in ``__getstate__`` and recompiled lazily.
    Not fork-safe once compiled, and not thread-safe (one instance per thread).
    """

    parameter_names: tuple[str, ...] = ("log10_k1", "log10_k2")
    n_inner_parameters: int = 3  # σ_A, σ_B and the scale factor s_B
    capabilities = Capabilities(alternating_inner=True)

    def __init__(
        self,
        data: np.ndarray,
        times_min: np.ndarray,
        *,
        bounds: tuple[float, float] = (-3.0, 0.0),
        fail_region: tuple[int, float] | None = None,
        fail_mode: str = "raise",
        rtol: float = 1e-6,
        delay_s: float = 0.0,
    ) -> None:
        self.delay_s = float(delay_s)
        self.data = np.asarray(data, dtype=float)
        self.times_min = np.asarray(times_min, dtype=float)
        self.lower = np.full(2, float(bounds[0]))
        self.upper = np.full(2, float(bounds[1]))
        self.n_data = int(self.data.size)
        self.fail_region = fail_region
        self.fail_mode = fail_mode
        self.rtol = rtol
        self.sigma = np.ones(2)
        self._log_data = np.log(self.data)
        self._sim = Simulator(
            self._make_sbml(), ("k1", "k2"), ("time", "A", "B"), tolerances=Tolerances(rtol, 1e-12)
        )

    def reset(self) -> None:
        """Noise levels back to 1 (the state ``update_inner`` changes)."""
        self.sigma = np.ones(2)

    # -- construction helpers --------------------------------------------------------------
    @staticmethod
    def _make_sbml() -> str:
        import antimony

        antimony.clearPreviousLoads()
        if antimony.loadAntimonyString(CHAIN_ANTIMONY) < 0:  # pragma: no cover - fixed text
            raise SimulationError(antimony.getLastError())
        return antimony.getSBMLString("chain")

    @classmethod
    def simulate_data(
        cls,
        *,
        k1: float = 0.1,
        k2: float = 0.03,
        scale_b: float = 2.0,
        cv: tuple[float, float] = (0.15, 0.2),
        times_min: np.ndarray | None = None,
        seed: int = 0,
        **kwargs: Any,
    ) -> ChainProblem:
        """Return a problem whose data are simulated at (k1, k2) with seeded log-normal noise."""
        times = np.arange(5.0, 101.0, 5.0) if times_min is None else np.asarray(times_min)
        clean = cls(np.ones((times.size, 2)), times)  # no failure region for the truth
        model = clean.simulate(np.log10([k1, k2]), precise=True)
        model[:, 1] *= scale_b
        rng = np.random.default_rng(seed)
        data = model * np.exp(rng.normal(0.0, np.asarray(cv), size=model.shape))
        return cls(data, times, **kwargs)

    # -- model ---------------------------------------------------------------------------------
    def simulate(self, x: np.ndarray, *, precise: bool = False) -> np.ndarray:
        """Return A and B (nM) at ``times_min``, shape ``(n_times, 2)``."""
        x = np.asarray(x, dtype=float)
        if self.fail_region is not None and x[self.fail_region[0]] > self.fail_region[1]:
            if self.fail_mode == "exit":
                os._exit(3)
            raise SimulationError(
                f"CVODE failed (test failure region): x = {x.tolist()} has "
                f"{self.parameter_names[self.fail_region[0]]} > {self.fail_region[1]}"
            )
        sim = self._sim
        sim.set_tolerances(Tolerances(1e-10 if precise else self.rtol, 1e-12))
        sim.reset()
        sim.set_parameters(10.0**x)
        try:
            out = sim.integrate(np.array([0.0, *self.times_min]))
        except RuntimeError as exc:
            raise SimulationError(f"CVODE failed at x = {x.tolist()}: {exc}") from exc
        return np.maximum(out[1:, 1:], _FLOOR)

    def _log_errors(self, x: np.ndarray, *, precise: bool = False) -> np.ndarray:
        """Unweighted log-residuals (model − data), with the optimal log-scale of B applied."""
        err = np.log(self.simulate(x, precise=precise)) - self._log_data
        err[:, 1] -= err[:, 1].mean()  # closed-form optimal log(s_B)
        return err

    # -- Problem interface --------------------------------------------------------------
    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Weighted log-residuals given the current noise levels ``self.sigma``."""
        if self.delay_s > 0:
            import time

            time.sleep(self.delay_s)
        return (self._log_errors(x) / self.sigma).ravel()

    def update_inner(self, x: np.ndarray) -> None:
        """Set σ_k to the RMS log-residual of observable k at x."""
        err = self._log_errors(x)
        self.sigma = np.sqrt(np.mean(err**2, axis=0))

    def nllh(self, x: np.ndarray, *, precise: bool = False) -> float:
        """Negative log-likelihood (log-normal density of the data) with optimal σ and s_B."""
        err = self._log_errors(x, precise=precise)
        n = err.shape[0]
        sigma2 = np.mean(err**2, axis=0)
        return float(np.sum(0.5 * n * (np.log(2 * np.pi * sigma2) + 1.0)) + np.sum(self._log_data))

    def to_natural(self, x: np.ndarray) -> dict[str, float]:
        """Rate constants in 1/min."""
        return {"k1": float(10.0 ** x[0]), "k2": float(10.0 ** x[1])}

    def fingerprint(self) -> str:
        """Hash of the data, times and settings (identifies the problem in checkpoints)."""
        h = hashlib.sha256()
        for arr in (self.data, self.times_min, self.lower, self.upper):
            h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
        h.update(repr((self.fail_region, self.fail_mode, self.rtol)).encode())
        return h.hexdigest()[:16]


def antimony_to_sbml(antimony_text: str) -> str:
    """SBML (level 3) of an Antimony model, for hand-made PEtab problems.

    Raises
    ------
    InvalidInputError
        If Antimony cannot read *antimony_text* (its own message).
    """
    import antimony

    from paracrine.errors import InvalidInputError

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(antimony_text) < 0:
        raise InvalidInputError(f"Antimony model: {antimony.getLastError()}")
    return antimony.getSBMLString(antimony.getMainModuleName())


def write_petab_problem(
    directory: str | os.PathLike[str],
    sbml: str,
    tables: dict[str, list[dict[str, Any]]],
) -> Path:
    """Write a PEtab v1 problem into *directory*: ``model.xml`` and one TSV per table, and
    return the path of its ``problem.yaml`` — small problems whose likelihood a test computes
    by hand.

    Parameters
    ----------
    directory
        An existing folder.
    sbml
        The model (e.g. :func:`antimony_to_sbml`).
    tables
        Rows of the ``conditions``, ``observables``, ``measurements`` and ``parameters``
        tables (each a list of dicts; columns as PEtab names them).

    Raises
    ------
    InvalidInputError
        If a table is missing.
    """
    import pandas as pd

    from paracrine.errors import InvalidInputError

    kinds = ("conditions", "observables", "measurements", "parameters")
    missing = [k for k in kinds if k not in tables]
    if missing:
        raise InvalidInputError(
            f"tables: expected rows of {', '.join(kinds)}; received no {', '.join(missing)}"
        )
    folder = Path(directory)
    (folder / "model.xml").write_text(sbml, encoding="utf-8")
    for kind in kinds:
        pd.DataFrame(tables[kind]).to_csv(folder / f"{kind}.tsv", sep="\t", index=False)
    yaml_path = folder / "problem.yaml"
    yaml_path.write_text(
        "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n"
        "- condition_files: [conditions.tsv]\n  measurement_files: [measurements.tsv]\n"
        "  observable_files: [observables.tsv]\n  sbml_files: [model.xml]\n",
        encoding="utf-8",
    )
    return yaml_path
