"""User review of the MNIST cache: where the cache goes when ``XDG_CACHE_HOME`` is relative."""

from __future__ import annotations

from pathlib import Path

import pytest

from functional_nn.data.mnist import data_dir


def test_a_relative_xdg_cache_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The XDG Base Directory specification: a relative path in XDG_CACHE_HOME is invalid and
    is ignored. Taking it from the working directory made a cache, and a download, per folder
    a script was started from."""
    monkeypatch.delenv("FUNCTIONAL_NN_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", ".cache")
    monkeypatch.chdir(tmp_path)
    assert data_dir() == tmp_path / "home" / ".cache" / "functional_nn"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # an absolute one is taken
    assert data_dir() == tmp_path / "xdg" / "functional_nn"
