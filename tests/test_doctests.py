"""Every example in a docstring of the package runs as written and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import scatterjax


def _modules() -> list[str]:
    names = ["scatterjax"]
    for info in pkgutil.walk_packages(scatterjax.__path__, prefix="scatterjax."):
        if not info.name.endswith("__main__"):  # importing it runs the tour
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    examples = 0
    for test in finder.find(module, name):
        examples += len(test.examples)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {examples} docstring examples failed in {name}"
