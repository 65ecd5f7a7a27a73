"""MkDocs hooks for this site (``hooks:`` in mkdocs.yml).

Docstrings cross-reference with Sphinx roles (``:func:`scatterjax.reconstruct```, readable in
``help()``), which mkdocstrings leaves as literal text: render each as plain code, with Sphinx's
``~`` meaning "show only the last component".
"""

import re

_ROLE = re.compile(r":(?:meth|class|func|mod|attr|data|obj|exc):<code>(~?)([^<]*)</code>")


def _code(match: re.Match) -> str:
    short, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if short else target}</code>"


def on_page_content(html: str, **kwargs) -> str:
    return _ROLE.sub(_code, html)
