"""Finite-difference Jacobians: a dense one for any residual function, and ONE sparse one for
problems built from simulation runs, which re-simulates only the runs a parameter touches and
takes a hook for sensitivity-based gradients."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from paracrine.errors import InvalidInputError, SimulationError
from paracrine.fitting.objective.layout import MeasurementLayout

__all__ = ["Sensitivities", "fd_jacobian", "sparse_jacobian"]

#: ``sensitivities(x, j, runs)``: d(outputs of each run in *runs*)/d x_j, one array per run
#: shaped like the run's outputs, or ``None`` to fall back to finite differences for x_j.
Sensitivities = Callable[[np.ndarray, int, np.ndarray], Sequence[np.ndarray] | None]


def fd_jacobian(
    fun: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    f0: np.ndarray,
    *,
    step: float = 1e-3,
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    """Forward-difference Jacobian of *fun* at *x*, stepping backwards at an upper bound.

    Parameters
    ----------
    fun
        Residual function of the optimisation-scale parameters.
    x
        Point, shape ``(n,)``.
    f0
        ``fun(x)``, shape ``(m,)`` (passed in because the optimiser already has it).
    step
        Step in optimisation-scale units (log10 for log parameters). Pair it with the
        integrator tolerance: 1e-3 for CVODE rtol 1e-6, 1e-4 for rtol 1e-8; steps smaller
        than the solver's noise make the optimiser lose hits.
    lower, upper
        Bounds; a step that would leave ``[lower, upper]`` above is taken downwards instead.

    Returns
    -------
    numpy.ndarray
        Shape ``(m, n)``, ``J[i, j] = d f_i / d x_j``.

    Raises
    ------
    InvalidInputError
        If *step* is not positive.
    FloatingPointError
        If *fun* returns non-finite values at a perturbed point.

    Examples
    --------
    >>> import numpy as np
    >>> J = fd_jacobian(lambda x: x**2, np.array([1.0]), np.array([1.0]),
    ...                 lower=np.array([0.0]), upper=np.array([1.0]))
    >>> round(float(J[0, 0]), 3)  # backward step at the upper bound
    1.999
    """
    if not step > 0:
        raise InvalidInputError(f"fd_jacobian: step must be > 0, received {step!r}")
    x = np.asarray(x, dtype=float)
    f0 = np.asarray(f0, dtype=float)
    jac = np.empty((f0.size, x.size))
    for j in range(x.size):
        h = step if x[j] + step <= upper[j] else -step
        xj = x.copy()
        xj[j] += h
        fj = np.asarray(fun(xj), dtype=float)
        if not np.all(np.isfinite(fj)):
            raise FloatingPointError(
                f"non-finite residuals in the finite-difference step of parameter {j} "
                f"at x = {xj.tolist()}"
            )
        jac[:, j] = (fj - f0) / h
    return jac


def sparse_jacobian(
    x: np.ndarray,
    r0: np.ndarray,
    stacked0: np.ndarray,
    *,
    layout: MeasurementLayout,
    simulate: Callable[[np.ndarray, np.ndarray], Sequence[np.ndarray]],
    residuals: Callable[..., np.ndarray],
    steps: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    names: Sequence[str],
    static_step: float = 1e-6,
    sensitivities: Sensitivities | None = None,
) -> np.ndarray:
    """Jacobian of ``residuals(stacked, x)`` that re-simulates only what each parameter touches.

    * a parameter that changes simulations (``layout.dependence[j]`` not empty): forward
      difference with ``steps[j]``, backwards at the upper bound or where the integrator fails
      on the forward side; only the runs of ``layout.dependence[j]`` are re-simulated;
    * a parameter that changes no simulation (observable scalings, noise parameters, priors
      only): central differences with ``static_step·max(1, |x_j|)`` on the cached simulations
      (no integration);
    * with *sensitivities*, a parameter whose run sensitivities are returned gets its column
      from them (a central difference of the observation model along the sensitivity
      direction: exact to O(static_step²), no re-simulation).

    Parameters
    ----------
    x, r0, stacked0
        The point, the residuals there and the stacked simulations there.
    layout
        Runs and dependence.
    simulate
        ``simulate(x, runs)``: outputs of *runs* at *x* (raises SimulationError).
    residuals
        ``residuals(stacked, x, changed=j)``: residuals from simulations; *changed* names the
        parameter that moved (a problem may re-evaluate only what it enters).
    steps
        Forward-difference step per parameter (optimisation-scale units).
    lower, upper
        Bounds of x.
    names
        Parameter names (messages).
    static_step
        Relative step of the central differences of static parameters.
    sensitivities
        Optional hook (see :data:`Sensitivities`).

    Raises
    ------
    SimulationError
        If the integrator fails on both sides of a parameter.
    FloatingPointError
        If the model gives non-finite values at a perturbed point.
    """
    x = np.asarray(x, dtype=float)
    jac = np.zeros((r0.size, x.size))
    for j in range(x.size):
        runs = layout.dependence[j]
        xj = x.copy()
        derivative = sensitivities(x, j, runs) if (sensitivities and runs.size) else None
        if runs.size and derivative is None:
            h = float(steps[j]) if x[j] + steps[j] <= upper[j] else -float(steps[j])
            xj[j] = x[j] + h
            try:
                new = simulate(xj, runs)
            except SimulationError:
                if not lower[j] <= x[j] - h <= upper[j]:
                    raise
                h = -h  # the integrator failed on one side: difference towards the other
                xj[j] = x[j] + h
                new = simulate(xj, runs)
            rj = residuals(layout.replace(stacked0, runs, new), xj, changed=j)
            column = (rj - r0) / h
        else:
            h = static_step * max(1.0, abs(x[j]))
            sides = []
            for sign in (1.0, -1.0):
                xj[j] = x[j] + sign * h
                stacked = stacked0
                if derivative is not None:
                    moved = [
                        block + sign * h * np.asarray(dblock)
                        for block, dblock in zip(
                            (stacked0[a:b] for a, b in _blocks(layout, runs)),
                            derivative,
                            strict=True,
                        )
                    ]
                    stacked = layout.replace(stacked0, runs, moved)
                sides.append(residuals(stacked, xj, changed=j))
            column = (sides[0] - sides[1]) / (2 * h)
        if not np.all(np.isfinite(column)):
            raise FloatingPointError(f"non-finite model values in the step of {names[j]}")
        jac[:, j] = column
    return jac


def _blocks(layout: MeasurementLayout, runs: np.ndarray) -> list[tuple[int, int]]:
    offsets = layout.offsets
    return [(int(offsets[k]), int(offsets[k + 1])) for k in runs]
