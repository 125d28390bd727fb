"""paracrine.data — data formats, validation, loaders and the bundled (synthetic) data sets.

Two tidy CSV formats, one row per measurement:

* blot time courses: ``cell_line, condition, il6_ng_ml, vegf_ng_ml, time_min, readout, value,
  replicate, blot`` (+ optional ``sd``, ``normalization``), read by :func:`load_blots`;
* migration/proliferation read-outs: ``cell_line, condition, il6_ng_ml, vegf_ng_ml,
  bevacizumab_ug_ml, anti_il6_ug_ml, msc_cm_fraction, readout, fold_change, sd, n``, read by
  :func:`load_readouts`.

Loading validates every cell and row and raises one
:class:`~paracrine.errors.DataValidationError` listing every problem (file, row, column,
expected, received). The bundled data sets are SYNTHETIC (see ``README.md`` in this folder).

This package is a leaf: it imports numpy, pandas, the standard library,
:mod:`paracrine.errors` and :mod:`paracrine.vocabulary` only (matplotlib lazily, when
plotting).
"""

from __future__ import annotations

from paracrine.data._schema import (
    BLOT_COLUMNS,
    BLOT_READOUTS,
    CELL_LINES,
    PHENOTYPE_READOUTS,
    READOUT_COLUMNS,
)
from paracrine.data.datasets import (
    DEFAULT_BLOTS,
    DEFAULT_READOUTS,
    BlotData,
    Dataset,
    ReadoutData,
    list_datasets,
    load_blots,
    load_readouts,
)
from paracrine.data.issues import DataWarning, Issue, IssueList
from paracrine.data.normalization import (
    normalize_to_loading_control,
    normalize_to_time_zero,
    normalize_to_total_protein,
)
from paracrine.data.validation import (
    validate_blot_frame,
    validate_blots,
    validate_readout_frame,
    validate_readouts,
)

__all__ = [
    "BLOT_COLUMNS",
    "BLOT_READOUTS",
    "CELL_LINES",
    "DEFAULT_BLOTS",
    "DEFAULT_READOUTS",
    "PHENOTYPE_READOUTS",
    "READOUT_COLUMNS",
    "BlotData",
    "DataWarning",
    "Dataset",
    "Issue",
    "IssueList",
    "ReadoutData",
    "list_datasets",
    "load_blots",
    "load_readouts",
    "normalize_to_loading_control",
    "normalize_to_time_zero",
    "normalize_to_total_protein",
    "validate_blot_frame",
    "validate_blots",
    "validate_readout_frame",
    "validate_readouts",
]
