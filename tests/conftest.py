"""Shared test fixtures: paths to the public PEtab problems kept outside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

#: ../shared/petab relative to the repository root (CI always provides it).
SHARED_PETAB = Path(__file__).resolve().parents[2] / "shared" / "petab"


@pytest.fixture(scope="session")
def shared_petab() -> Path:
    if not SHARED_PETAB.is_dir():
        pytest.skip(
            "../shared/petab not found: the public PEtab problems live outside the repository "
            "(CI always has them)"
        )
    return SHARED_PETAB
