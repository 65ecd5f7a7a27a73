"""The documentation site: every Python block of docs/**/*.md runs as written (each on its own),
and every public name of scatterjax has an entry (``::: name``) in the API reference pages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from markdown_blocks import RUN, SKIP, code_blocks, run_block

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "notebooks" not in p.relative_to(DOCS).parts)
BLOCKS = [(page, line, language, code) for page in PAGES for line, language, code in code_blocks(page)]

# The public modules and the file each lives in; a module's public names are its ``__all__``, or,
# without one, its public functions and classes and the names it re-exports as ``import x as x``.
PUBLIC_MODULES = {
    "scatterjax": "scatterjax/__init__.py",
    "scatterjax.flax": "scatterjax/flax/__init__.py",
    "scatterjax.flax.linen": "scatterjax/flax/linen.py",
    "scatterjax.equinox": "scatterjax/equinox.py",
    "scatterjax.torch": "scatterjax/torch.py",
    "scatterjax.tensorflow": "scatterjax/tensorflow.py",
    "scatterjax.keras": "scatterjax/keras.py",
    "scatterjax.sklearn": "scatterjax/sklearn.py",
    "scatterjax.numpy": "scatterjax/numpy.py",
    "scatterjax.jax": "scatterjax/jax.py",
    "scatterjax.plot": "scatterjax/plot.py",
    "scatterjax.examples": "scatterjax/examples.py",
    "scatterjax.extract": "scatterjax/extract.py",
}


def public_names(module: str) -> set[str]:
    tree = ast.parse((ROOT / PUBLIC_MODULES[module]).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return {f"{module}.{name}" for name in ast.literal_eval(node.value)}
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname for a in node.names if a.asname == a.name and not a.name.startswith("_"))
    return {f"{module}.{name}" for name in names}


def documented_names() -> set[str]:
    names = set()
    for page in (DOCS / "api").glob("*.md"):
        names.update(re.findall(r"^::: ([\w.]+)\s*$", page.read_text(encoding="utf-8"), re.MULTILINE))
    return names


def test_every_public_name_is_in_the_api_reference():
    public = set().union(*(public_names(module) for module in PUBLIC_MODULES))
    assert len(public) > 60  # the parser found them (a regression here would make the test vacuous)
    missing = sorted(public - documented_names())
    assert not missing, f"public names with no '::: name' entry in docs/api/*.md: {missing}"


def test_the_api_reference_names_only_public_objects():
    public = set().union(*(public_names(module) for module in PUBLIC_MODULES))
    stale = sorted(documented_names() - public - set(PUBLIC_MODULES))
    assert not stale, f"docs/api/*.md documents names that are not public (renamed or removed?): {stale}"


def test_every_block_says_what_it_is():
    unknown = [(str(page.relative_to(ROOT)), line, language) for page, line, language, _ in BLOCKS
               if language not in RUN | SKIP]
    assert not unknown, f"docs blocks with no or an unknown language tag (page, line, tag): {unknown}"


@pytest.mark.parametrize(
    "page,line,code",
    [(page, line, code) for page, line, language, code in BLOCKS if language in RUN],
    ids=[f"{page.relative_to(DOCS)}:{line}" for page, line, language, _ in BLOCKS if language in RUN],
)
def test_block_runs_as_written(page, line, code):
    run_block(code, f"{page.relative_to(ROOT)}:{line}")
