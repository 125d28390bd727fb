"""The public API: every exported name resolves to the documented object, never to a
submodule that happens to share its name (which would break `from paracrine.x import name`
depending on import order)."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

PACKAGES = [
    "paracrine",
    "paracrine.cli",
    "paracrine.models",
    "paracrine.simulations",
    "paracrine.fitting",
    "paracrine.data",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_exported_names_are_not_shadowed_by_submodules(name):
    package = importlib.import_module(name)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{name}.{info.name}")  # import every submodule first
    for attr in package.__all__:
        value = getattr(package, attr)
        assert not isinstance(value, types.ModuleType), f"{name}.{attr} is a module"


def test_import_is_cheap_and_side_effect_free():
    import subprocess
    import sys

    code = (
        "import logging, sys, paracrine, paracrine.fitting, paracrine.data;"
        "print('roadrunner' in sys.modules, 'matplotlib' in sys.modules, logging.getLogger().handlers)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False False []"
