"""The README's test command covers typing: mypy --strict over the library, scripts and tests;
and the public names ``functional_nn`` exports."""

from __future__ import annotations

import ast
from pathlib import Path

from mypy import api

import functional_nn

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_strict_is_clean() -> None:
    stdout, stderr, status = api.run(
        ["--strict", "--config-file", str(ROOT / "pyproject.toml"), str(ROOT / "functional_nn"), str(ROOT / "scripts"), str(ROOT / "tests")]
    )
    assert status == 0, stdout + stderr


def test_all_exports_every_import_sorted_after_the_block_kept_first() -> None:
    """``__all__`` lists what ``__init__`` imports, the augmentation and averaging names (#13)
    first, kept together, then the rest sorted; every name in it exists."""
    tree = ast.parse((ROOT / "functional_nn" / "__init__.py").read_text())
    imported = {
        node.module: [alias.asname or alias.name for alias in node.names]
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    first = [*imported.pop("functional_nn.data.augmentation"), *imported.pop("functional_nn.averaging")]
    names = functional_nn.__all__
    assert names[: len(first)] == first
    rest = names[len(first) :]
    assert rest == sorted(rest)
    assert sorted(names) == sorted([*first, *(name for group in imported.values() for name in group), "__version__"])
    assert [name for name in names if not hasattr(functional_nn, name)] == []
