"""Where data comes from: bundled data sets (package data) or a user's file."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from paracrine.errors import InvalidInputError, UnknownNameError

__all__ = ["bundled_names", "read_source"]


def _package_dir():
    return resources.files("paracrine.data")


def bundled_names() -> list[str]:
    """Names (file stems) of the CSV data sets shipped with paracrine, sorted."""
    return sorted(
        entry.name[: -len(".csv")]
        for entry in _package_dir().iterdir()
        if entry.name.endswith(".csv") and entry.is_file()
    )


def read_source(path_or_name: str | os.PathLike[str]) -> tuple[bytes, str]:
    """Return the bytes of a bundled data set or a file, and the name to show in messages.

    A ``str`` that is exactly the name of a bundled data set means that data set; any other
    ``str`` or path-like is a file path. A string with neither a directory part nor a suffix
    that names no file is reported as an unknown data set (with close matches), since that is
    what the user most likely meant.

    Raises
    ------
    UnknownNameError
        A bare name that is neither a bundled data set nor an existing file.
    InvalidInputError
        A path that does not exist, is a directory, or cannot be read.
    """
    if isinstance(path_or_name, str) and path_or_name in bundled_names():
        entry = _package_dir().joinpath(path_or_name + ".csv")
        return entry.read_bytes(), path_or_name + ".csv"
    if not isinstance(path_or_name, str | os.PathLike):
        raise InvalidInputError(
            "expected a data set name (str) or a path to a CSV file; "
            f"received {type(path_or_name).__name__} {path_or_name!r}"
        )
    path = Path(path_or_name)
    if not path.exists():
        bare = isinstance(path_or_name, str) and path.name == path_or_name and not path.suffix
        if bare:
            raise UnknownNameError("data set", path_or_name, bundled_names())
        raise InvalidInputError(f"data file {str(path)!r} does not exist")
    if path.is_dir():
        raise InvalidInputError(f"{str(path)!r} is a directory; expected a CSV file")
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise InvalidInputError(f"cannot read data file {str(path)!r}: {exc}") from exc
