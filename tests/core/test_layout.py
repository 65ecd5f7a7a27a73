"""The package's layout rules, checked on its source: data flows one way, privacy is respected."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "scatterjax"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, str]]:
    """``(module, name)`` for every ``from module import name`` and ``(module, '')`` for ``import``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            found += [("." * node.level + (node.module or ""), alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_another_modules_private_names(path):
    private = [f"{module}.{name}" for module, name in _imports(path) if name.startswith("_") and name[1:2] != "_"]
    assert not private, f"{path.name} imports private names {private}: make them public inside their package"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("design.py")), ids=lambda p: p.parent.name)
def test_filter_design_never_imports_jax(path):
    modules = [module for module, _ in _imports(path)]
    assert not [m for m in modules if m == "jax" or m.startswith("jax.")], f"{path} imports jax"
    # Nor anything of ours that does (a design module uses only NumPy/SciPy and other designs).
    ours = [m for m in modules if m.startswith(".")]
    assert all(m.lstrip(".").split(".")[-1] in ("design", "") for m in ours), ours


def test_every_transform_folder_has_its_steps_in_data_flow_order():
    for folder in ("_scattering1d", "_scattering2d", "_harmonic3d", "_jtfs"):
        names = {p.stem for p in (PACKAGE / folder).glob("*.py")}
        assert {"bank", "core", "frontend"} <= names, folder
