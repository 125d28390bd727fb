"""Transitional: the reports moved to :mod:`paracrine.reports`.

Only ``FitResult.report`` and ``FitResult._repr_html_`` (fitting/result.py) still import from
here; delete this file once they import :func:`paracrine.reports.text_report` and
:func:`paracrine.reports.html_report` directly.
"""

from paracrine.reports import html_report, text_report

__all__ = ["html_report", "text_report"]
