"""User review of the MNIST cache: where the cache goes when ``XDG_CACHE_HOME`` is relative,
and a cache folder that another machine writes into at the same time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from functional_nn.data.mnist import data_dir
from functional_nn import serialization
from functional_nn.serialization import atomic_write


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


def test_a_write_in_progress_on_another_machine_sharing_the_folder_is_left_to_it(tmp_path: Path) -> None:
    """Two jobs on two machines filling one (NFS) cache at once: the other machine's temporary
    file, whose process id means nothing here, was removed as a killed writer's, and that
    job's load then failed with a FileNotFoundError naming mnist.npz."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    pid = int(gone.stdout)  # no process here: a killed writer's, if it was this machine's
    here = serialization._HOST  # this machine's: its host name and process-id namespace
    elsewhere = "00000000" if here != "00000000" else "00000001"
    theirs = tmp_path / f".mnist.npz.fnn-{pid}-{elsewhere}-abc123.tmp"
    ours = tmp_path / f".mnist.npz.fnn-{pid}-{here}-def456.tmp"
    older = tmp_path / f".mnist.npz.fnn-{pid}-ghi789.tmp"  # named before the host was: taken for this machine's
    for file in (theirs, ours, older):
        file.write_bytes(b"half a cache")
    with atomic_write(tmp_path / "mnist.npz") as handle:
        assert re.fullmatch(rf"\.mnist\.npz\.fnn-{os.getpid()}-{here}-[0-9a-z_]+\.tmp", Path(handle.name).name)
        handle.write(b"whole")
    assert theirs.exists() and not ours.exists() and not older.exists()
    assert (tmp_path / "mnist.npz").read_bytes() == b"whole"
