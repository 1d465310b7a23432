"""A script's one ``error:`` line keeps the notes the library adds to an error: which of a
sweep's settings failed (and, on a cluster, the round and shard of a task), which Python
prints under a traceback and ``str(error)`` leaves out."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from functional_nn import one_hot, sgd
from functional_nn.distributed import RunSettings, sweep

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import _cli  # noqa: E402  (the scripts folder is not a package)


def _diverging_sweep() -> None:
    """Two settings on a toy set; the second's learning rate sends its weights past float64."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40))
    Y = one_hot((X[0] > 0).astype(int), 2)
    fine = RunSettings((3, 4, 2), ("relu", "softmax"), "categorical_cross_entropy", sgd(0.1), epochs=2)
    sweep([fine, fine._replace(optimizer=sgd(1e30))], X, Y)


@pytest.mark.parametrize("named", [False, True], ids=["as raised", "through naming_options"])
def test_a_failed_sweep_setting_is_named_on_the_error_line(named: bool, capsys: pytest.CaptureFixture[str]) -> None:
    def main(argv: Sequence[str] | None) -> int:
        if named:
            with _cli.naming_options("--learning-rate"):
                _diverging_sweep()
        else:
            _diverging_sweep()
        return 0

    assert _cli.run_main(main, []) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: training diverged")
    assert err.endswith("\nin settings[1] (sweep)\n")
    assert ("--learning-rate" in err) is named


def test_an_error_without_notes_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    def main(argv: Sequence[str] | None) -> int:
        raise ValueError("n_samples must be >= 2, got 1")

    assert _cli.run_main(main, []) == 2
    assert capsys.readouterr().err == "error: n_samples must be >= 2, got 1\n"
