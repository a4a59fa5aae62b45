"""roomctl bounds its waits with ``asyncio.timeout``, never ``asyncio.wait_for``.

On Python 3.11 ``asyncio.wait_for`` swallows a cancellation that arrives in the same loop iteration as the awaited
result (CPython gh-86296, fixed in 3.12). A task stopped that way carries on: the MQTT publisher, cancelled at the
moment its goodbye's disconnect completed, went on to wait forever, and so did whoever awaited it. ``asyncio.timeout``
(3.11+) keeps the cancellation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import roomctl

PACKAGE = Path(roomctl.__file__).parent


def _is_asyncio(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "asyncio"


def wait_for_calls(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "wait_for" and _is_asyncio(node.value):
            lines.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module == "asyncio":
            lines.extend(node.lineno for alias in node.names if alias.name == "wait_for")
    return lines


def test_the_finder_sees_both_spellings() -> None:
    assert wait_for_calls("import asyncio\nasync def f(x):\n    await asyncio.wait_for(x, 1)\n") == [3]
    assert wait_for_calls("from asyncio import wait_for\n") == [1]
    assert (
        wait_for_calls("import asyncio\nasync def f(x):\n    async with asyncio.timeout(1):\n        await x\n") == []
    )


def test_no_module_of_roomctl_uses_asyncio_wait_for() -> None:
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := wait_for_calls(path.read_text(encoding="utf-8")))
    }
    assert found == {}, f"use asyncio.timeout instead of asyncio.wait_for (it keeps a cancellation): {found}"
