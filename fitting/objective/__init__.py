"""paracrine.fitting.objective — the shared objective layer of every fitting problem.

* :mod:`.interface` — :class:`Problem` and its declared :class:`Capabilities`;
* :mod:`.layout` — :class:`MeasurementLayout`: runs → measurement rows, which parameters touch
  which runs;
* :mod:`.noise` — transformations (lin/log/log10) and noise distributions (normal/Laplace);
* :mod:`.inner` — ONE analytic solver of scales, offsets and noise levels;
* :mod:`.jacobian` — dense and sparse finite-difference Jacobians (with a sensitivity hook);
* :mod:`.hierarchical` — :class:`HierarchicalProblem`, the pipeline built from these.
"""

from paracrine.fitting.objective.hierarchical import HierarchicalProblem
from paracrine.fitting.objective.inner import InnerLayout, InnerSolution, InnerSolver
from paracrine.fitting.objective.interface import Capabilities, Problem
from paracrine.fitting.objective.jacobian import Sensitivities, fd_jacobian, sparse_jacobian
from paracrine.fitting.objective.layout import MeasurementLayout
from paracrine.fitting.objective.noise import Distribution, Transform

__all__ = [
    "Capabilities",
    "Distribution",
    "HierarchicalProblem",
    "InnerLayout",
    "InnerSolution",
    "InnerSolver",
    "MeasurementLayout",
    "Problem",
    "Sensitivities",
    "Transform",
    "fd_jacobian",
    "sparse_jacobian",
]
