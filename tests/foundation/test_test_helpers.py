"""Tests import their helpers from helper modules (``helpers.py``, a conftest, ``tests/builders.py``), never from
another test module: importing one runs its module-level setup and ties two tests' files together."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_test_modules(path: Path) -> list[str]:
    """The test modules (``test_*``) ``path`` imports, by dotted name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names = [module, *(f"{module.rstrip('.')}.{a.name}" for a in node.names)]
        found += [n for n in names if n.startswith(("tests.", ".")) and n.rsplit(".", 1)[-1].startswith("test_")]
    return found


def test_no_test_module_imports_another() -> None:
    offenders = {
        str(path.relative_to(ROOT)): imported
        for folder in ("tests", "bench", "scripts")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (imported := imported_test_modules(path))
    }
    assert offenders == {}


def test_the_check_sees_an_import_of_a_test_module(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from tests.daemon.test_run import x\nimport tests.tui.test_keys\nfrom tests.daemon import helpers\n"
    )
    assert imported_test_modules(probe) == ["tests.daemon.test_run", "tests.tui.test_keys"]
