"""The README's test command covers typing: mypy --strict over the library, scripts and tests."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_strict_is_clean() -> None:
    stdout, stderr, status = api.run(
        ["--strict", "--config-file", str(ROOT / "pyproject.toml"), str(ROOT / "functional_nn"), str(ROOT / "scripts"), str(ROOT / "tests")]
    )
    assert status == 0, stdout + stderr
