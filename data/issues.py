"""Validation issues as data, in the spirit of libpetab's lint results.

Every check returns :class:`Issue` records collected in an :class:`IssueList`; the loader
raises one :class:`~paracrine.errors.DataValidationError` listing all errors, and keeps the
warnings on the loaded object (and emits them as :class:`DataWarning`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

from paracrine.errors import DataValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DataWarning", "Issue", "IssueList"]

Severity = Literal["error", "warning"]

# Beyond this many lines the error message would drown the reader; every issue stays in
# ``DataValidationError.issues`` regardless.
_MAX_LISTED = 40


class DataWarning(UserWarning):
    """A data file loaded, but something in it deserves attention (see ``.issues``)."""


@dataclass(frozen=True)
class Issue:
    """One problem found in a data file or table.

    Attributes
    ----------
    severity
        ``"error"`` (the data cannot be used) or ``"warning"`` (usable, but look).
    file
        The file (or ``"<DataFrame>"``) the problem is in.
    row
        1-based line number as a user sees the file in an editor, header = line 1;
        None when the problem concerns the whole file.
    column
        The column concerned, or None when it concerns a whole row or file.
    expected
        What was expected there, in words.
    received
        What was found.
    message
        One sentence a user can act on.
    """

    severity: Severity
    file: str
    row: int | None
    column: str | None
    expected: str
    received: str
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return (
            f"{', '.join(where)}: {self.message} "
            f"(expected {self.expected}; received {self.received})"
        )


class IssueList(list[Issue]):
    """A list of :class:`Issue` with helpers to query it."""

    def __init__(self, issues: Iterable[Issue] = ()) -> None:
        super().__init__(issues)

    def has_errors(self) -> bool:
        """Return True if any issue has severity ``"error"``."""
        return any(i.severity == "error" for i in self)

    def errors(self) -> IssueList:
        """Return the issues of severity ``"error"``."""
        return IssueList(i for i in self if i.severity == "error")

    def warnings(self) -> IssueList:
        """Return the issues of severity ``"warning"``."""
        return IssueList(i for i in self if i.severity == "warning")

    def to_frame(self) -> pd.DataFrame:
        """Return the issues as a DataFrame, one row per issue."""
        import pandas as pd

        columns = ["severity", "file", "row", "column", "expected", "received", "message"]
        return pd.DataFrame([asdict(i) for i in self], columns=columns)

    def report(self) -> str:
        """Return a readable multi-line summary: a count line, then one line per issue."""
        n_err, n_warn = len(self.errors()), len(self.warnings())
        head = f"{n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}"
        lines = [head, *(f"  - {i.severity}: {i}" for i in self[:_MAX_LISTED])]
        if len(self) > _MAX_LISTED:
            lines.append(
                f"  … and {len(self) - _MAX_LISTED} more (all of them: the error's .issues; the "
                "command line writes them to data_issues.csv)"
            )
        return "\n".join(lines)

    def raise_if_errors(self, what: str) -> None:
        """Raise :class:`~paracrine.errors.DataValidationError` listing every issue if any is
        an error; *what* names the thing validated (e.g. the file)."""
        if self.has_errors():
            raise DataValidationError(f"{what} failed validation: {self.report()}", list(self))
