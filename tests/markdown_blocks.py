"""Find and run the fenced code blocks of Markdown files (README.md, docs/**/*.md).

Blocks tagged ``python`` run; blocks tagged ``bash``, ``console``, ``shell`` or ``text`` are shell
commands or output and are skipped; any other tag, or none, is an error (say what a block is).
"""

from __future__ import annotations

import re
from pathlib import Path

import jax

RUN = {"python", "py"}
SKIP = {"bash", "console", "shell", "sh", "text"}
_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def code_blocks(path: Path) -> list[tuple[int, str, str]]:
    """``(line, language, code)`` of every fenced block in ``path``, in order (``line`` 1-based)."""
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(text)]


def run_block(code: str, name: str) -> dict:
    """Run ``code`` as a fresh ``__main__`` module; leave no global JAX setting or figure behind."""
    x64 = jax.config.jax_enable_x64
    namespace = {"__name__": "__main__"}
    try:
        exec(compile(code, name, "exec"), namespace)
    finally:
        jax.config.update("jax_enable_x64", x64)
        import sys

        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    return namespace
