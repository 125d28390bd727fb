"""Lazy public names for a package's ``__init__`` (PEP 562): ``import paracrine`` and
``import paracrine.fitting`` stay cheap, and a name's module is imported on first use.

A leaf module: it imports nothing from paracrine.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, api: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for *package*, whose names *api* maps to their modules.

    A name, once imported, is stored in *namespace* (the package's ``globals()``), so later
    look-ups cost nothing.
    """

    def __getattr__(name: str) -> Any:
        module = api.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(api))

    return __getattr__, __dir__
