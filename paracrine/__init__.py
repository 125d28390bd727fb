"""paracrine — mechanistic simulator of MSC paracrine IL-6/VEGF signalling in breast cancer cells.

The public API is imported lazily, so ``import paracrine`` (and ``paracrine --help``) stays fast:
libRoadRunner is loaded the first time a model is used.
"""

from __future__ import annotations

from paracrine.lazy import lazy_exports

__version__ = "0.1.0"

# name -> module that defines it
_API = {
    "Model": "paracrine.models",
    "load_model": "paracrine.models",
    "list_variants": "paracrine.models",
    "Condition": "paracrine.simulations",
    "simulate": "paracrine.simulations",
    "SimulationResult": "paracrine.simulations",
    "fit_blots": "paracrine.fitting.blotfit",
    "BlotFit": "paracrine.fitting.blotfit",
    "load_blots": "paracrine.data",
    "load_readouts": "paracrine.data",
    "list_datasets": "paracrine.data",
}

__all__ = ["__version__", *sorted(_API)]


__getattr__, __dir__ = lazy_exports("paracrine", _API, globals())
