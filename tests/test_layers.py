"""The layers of paracrine, read from the source: dependencies run one way and no module
imports a private name of another package.

    vocabulary, errors, lazy    leaves
    data                        → vocabulary, errors
    models                      → vocabulary, errors
    simulations                 → models, vocabulary, errors
    fitting                     → simulations, models, data, vocabulary, errors, lazy
    cli, reports, testing       on top (nothing below imports them)
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"data": "data", "models": "models", "simulations": "simulations", "fitting": "fitting"}
#: layer -> the paracrine layers it may import
ALLOWED = {
    "vocabulary": set(),
    "errors": set(),
    "lazy": set(),
    "data": {"vocabulary", "errors"},
    "models": {"vocabulary", "errors"},
    "simulations": {"models", "vocabulary", "errors"},
    "fitting": {"simulations", "models", "data", "vocabulary", "errors", "lazy"},
}


def layer_of_module(name: str) -> str | None:
    """'paracrine.fitting.petab.problem' -> 'fitting'; 'paracrine.vocabulary' -> 'vocabulary'."""
    parts = name.split(".")
    if parts[0] != "paracrine" or len(parts) < 2:
        return None
    return parts[1]


def violations(source: str, layer: str, package: str) -> list[str]:
    """Forbidden imports in one module's *source* (``package``: its own dotted package)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [(node.module, alias.name) for alias in node.names]
        else:
            continue
        for module, name in targets:
            target = layer_of_module(module)
            if target is None:
                continue
            if target != layer and target not in ALLOWED.get(layer, set()):
                found.append(f"line {node.lineno}: {layer} imports {module}")
            other_package = not (module == package or module.startswith(package + "."))
            private = [p for p in module.split(".")[1:] if p.startswith("_")]
            if other_package and (private or (name or "").startswith("_")):
                found.append(f"line {node.lineno}: private name {module}.{name or ''} imported")
    return found


def sources():
    for layer, folder in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            package = ".".join(["paracrine", layer, *rel.parts[:-1]])
            yield path, layer, package
    for name in ("vocabulary", "errors", "lazy"):
        yield ROOT / "paracrine" / f"{name}.py", name, "paracrine"


def test_layers_and_private_names_hold_in_the_package():
    problems = {
        str(path.relative_to(ROOT)): found
        for path, layer, package in sources()
        if (found := violations(path.read_text(encoding="utf-8"), layer, package))
    }
    assert problems == {}


def test_the_contract_fails_on_a_forbidden_import():
    upward = "from paracrine.fitting import fit_blots\n"
    assert violations(upward, "simulations", "paracrine.simulations") == [
        "line 1: simulations imports paracrine.fitting"
    ]
    on_top = "import paracrine.cli\n"
    assert violations(on_top, "fitting", "paracrine.fitting") == [
        "line 1: fitting imports paracrine.cli"
    ]
    private = "from paracrine.data._schema import BLOT_SCHEMA\n"
    assert violations(private, "fitting", "paracrine.fitting") == [
        "line 1: private name paracrine.data._schema.BLOT_SCHEMA imported"
    ]
    # inside its own package a private module is fine
    assert (
        violations(
            "from paracrine.fitting._inputs import assemble\n", "fitting", "paracrine.fitting"
        )
        == []
    )
