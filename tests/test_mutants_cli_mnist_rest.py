"""The scripts' output-folder checks, ``run_main``'s folder registry and the MNIST unpickler's
refusal, where a third mutation pass (over the mutants of ``scripts/_cli.py`` and of the
unpickler's constants that the first two passes did not run) found them unpinned.

Pinned here: ``check_output_dir``'s refusal of a file given as the folder, word for word; every
output found named, comma-separated, when a run would replace them or cannot; a folder that
takes no file named as the place written into, or the nearest parent a missing folder would be
created in; a missing folder checked at once (a child process with a time limit, so that a
check that never ends fails here rather than hanging); a ``run_main`` inside another one leaving
the outer run its own folders to remove; the unpickler's whole refusal of a forbidden global.
Nothing here reaches the network; files are made under ``tmp_path``.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from functional_nn.data import mnist

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _cli  # noqa: E402  (the scripts folder is not a package)

# --------------------------------------------------------------------------------------------
# check_output_dir: a file as the folder, several outputs found


def test_an_output_folder_that_is_a_file_is_refused_in_these_words(tmp_path: Path) -> None:
    # mutants: the check dropped (then _check_creatable refuses it as "cannot be created"), its text changed
    out = tmp_path / "runs"
    out.write_text("a file")
    with pytest.raises(_cli.UsageError) as caught:
        _cli.check_output_dir(out, ["report.json"], overwrite=True, flag="--plots")
    assert str(caught.value) == f"--plots {out} is a file, not a folder: choose a folder for the outputs"
    assert out.read_text() == "a file"


def test_every_output_an_earlier_run_left_is_named_comma_separated(tmp_path: Path) -> None:
    for name in ("curve.png", "params.npz", "log.csv"):
        (tmp_path / name).write_bytes(b"")
    outputs = ["params.npz", "missing.json", "curve.png"]
    with pytest.raises(_cli.UsageError) as caught:
        _cli.check_output_dir(tmp_path, outputs, overwrite=False)
    assert str(caught.value) == (
        f"--out {tmp_path} already holds params.npz, curve.png from an earlier run: choose another --out, "
        "or pass --overwrite to replace them"
    )
    for name in ("curve.png", "params.npz"):
        (tmp_path / name).chmod(0o444)  # no write bit: read-only even for root
    with pytest.raises(_cli.UsageError) as caught:
        _cli.check_output_dir(tmp_path, outputs, overwrite=True)
    assert str(caught.value) == f"--out {tmp_path} holds read-only params.npz, curve.png: make it writable, or choose another --out"


# --------------------------------------------------------------------------------------------
# _check_creatable: where the trial file goes, and what a failure says


def test_a_folder_that_takes_no_file_is_named_as_the_place_written_into(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[object] = []

    def refusing(**kwargs: object) -> object:
        tried.append(kwargs.get("dir"))
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refusing)
    with pytest.raises(_cli.UsageError) as caught:
        _cli.check_output_dir(tmp_path, ["x.png"], overwrite=False, flag="--out")
    assert str(caught.value) == f"--out {tmp_path}: cannot write into {tmp_path} (Permission denied)"
    assert tried == [tmp_path]


def test_a_missing_output_folder_is_checked_at_its_nearest_parent_at_once(tmp_path: Path) -> None:
    # in a child with a time limit: a mutant that never climbs to the parent loops forever
    code = (
        f"import sys, tempfile; sys.path.insert(0, {str(SCRIPTS)!r}); from pathlib import Path; import _cli\n"
        "out = Path(sys.argv[1])\n"
        "_cli.check_output_dir(out, ['x.png'], overwrite=False)\n"
        "print(out.exists(), out.parent.exists())\n"
        "def refusing(**kwargs):\n"
        "    print('tried in', kwargs['dir'])\n"
        "    raise PermissionError(13, 'Permission denied')\n"
        "tempfile.TemporaryFile = refusing\n"
        "try:\n    _cli.check_output_dir(out, ['x.png'], overwrite=False)\n"
        "except _cli.UsageError as error:\n    print(error)\n"
    )
    out = tmp_path / "a" / "b"
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=20, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"False False\ntried in {tmp_path}\n--out {out}: cannot create {out} in {tmp_path} (Permission denied)\n"
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# run_main: the folders of each call, however they nest


def test_a_run_main_inside_another_leaves_the_outer_run_its_own_folders(tmp_path: Path) -> None:
    # mutant: run_main not resetting its registry, so that the outer run's folders went to the inner one's list
    def inner(argv: Sequence[str] | None) -> int:
        return 0

    def outer(argv: Sequence[str] | None) -> int:
        assert _cli.run_main(inner, []) == 0
        _cli.make_output_dir(tmp_path / "runs" / "x")
        assert (tmp_path / "runs" / "x").is_dir()
        return 1

    assert _cli.run_main(outer, []) == 1
    assert list(tmp_path.iterdir()) == []  # the failed outer run removed both folders it made


# --------------------------------------------------------------------------------------------
# unpickle_arrays: a forbidden global's refusal, whole


def test_a_forbidden_global_is_refused_naming_it_and_the_four_allowed_ones() -> None:
    with pytest.raises(pickle.UnpicklingError) as caught:
        mnist.unpickle_arrays(b"cbuiltins\neval\n(S'1'\ntR.")
    assert str(caught.value) == (
        "refusing to load the global builtins.eval: the MNIST pickle may only rebuild numpy arrays (allowed: "
        "numpy.core.multiarray._reconstruct, numpy._core.multiarray._reconstruct, numpy.ndarray, numpy.dtype)"
    )
