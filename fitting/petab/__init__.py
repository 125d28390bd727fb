"""paracrine.fitting.petab — PEtab (v1) import and export on paracrine's objective layer.

* :mod:`.read` — read and lint a problem, refuse unsupported features (named, with the file);
* :mod:`.build` — the checked tables as flat arrays (:class:`~.build.PetabSpec`);
* :mod:`.inner` — which parameters are solved in closed form (noise levels, scalings, offsets);
* :mod:`.simulate` — PEtab's run semantics (pre-equilibration, condition species) on the one
  libRoadRunner wrapper;
* :mod:`.problem` — :class:`PetabProblem` and :func:`load_petab`;
* :mod:`.export` — a paracrine blot problem as PEtab (:func:`export_petab`).
"""

from paracrine.fitting.petab.export import export_petab
from paracrine.fitting.petab.problem import PetabProblem, load_petab

__all__ = ["PetabProblem", "export_petab", "load_petab"]
