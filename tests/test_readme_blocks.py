"""Every Python block of README.md runs as written, on its own (nothing defined by another block)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_blocks import RUN, SKIP, code_blocks, run_block

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = code_blocks(README)


def test_every_block_says_what_it_is():
    unknown = [(line, language) for line, language, _ in BLOCKS if language not in RUN | SKIP]
    assert not unknown, f"README.md blocks with no or an unknown language tag (line, tag): {unknown}"
    assert sum(language in RUN for _, language, _ in BLOCKS) >= 5


def test_readme_starts_with_the_two_commands_and_says_how_long_the_suite_takes():
    line, language, code = BLOCKS[0]
    text = README.read_text(encoding="utf-8")
    assert text.find("```") == text.find("```bash"), "the first block must be the shell commands"
    commands = [c for c in code.splitlines() if c.strip() and not c.lstrip().startswith("#")]
    assert len(commands) == 2, commands
    assert "python -m scatterjax" in commands[0] and '".[plots]"' in commands[0]
    assert '".[test]"' in commands[1] and "pytest" in commands[1]
    assert re.search(r"\d+ minutes", text[: text.find("##")]), "say how long the suite takes, before the first section"


@pytest.mark.parametrize("line,code", [(line, code) for line, language, code in BLOCKS if language in RUN],
                         ids=lambda value: f"line{value}" if isinstance(value, int) else "")
def test_block_runs_as_written(line, code):
    run_block(code, f"README.md:{line}")
