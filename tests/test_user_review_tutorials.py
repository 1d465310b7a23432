"""A teacher's review of the tutorials: the MNIST tutorial's run (``train_mnist.py``)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import train_mnist  # noqa: E402  (the scripts folder is not a package)
from test_scripts_mnist import _kaggle_csv  # noqa: E402


def test_default_run_folder_taken_by_a_run_started_in_the_same_second_is_not_shared(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two runs started in the same second, without ``--out`` (a loop over seeds with ``&``),
    must not write into one ``runs/mnist-<date>-<time>``: each run's folder is its own, as the
    README promises. The folders another run has claimed for the next seconds are left as
    they are, and this run names the folder it wrote."""
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 30)
    monkeypatch.chdir(tmp_path)
    now = datetime.now()
    taken = {Path("runs") / f"mnist-{now + timedelta(seconds=s):%Y%m%d-%H%M%S}" for s in range(-1, 60)}
    for folder in taken:  # each claimed by a run that has not written yet
        folder.mkdir(parents=True)
    argv = ["--preset", "tutorial", "--csv", str(csv), "--dev-size", "5", "--epochs", "2", "--threads", "1"]
    assert train_mnist.main(argv) == 0
    out = Path(str(json.loads(capsys.readouterr().out.strip().splitlines()[-1])["out"]))
    assert out not in taken and (out / "params.npz").is_file()
    assert [sorted(p.name for p in folder.iterdir()) for folder in sorted(taken)] == [[]] * len(taken)
