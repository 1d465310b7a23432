"""The first tutorial's numbers: one neuron gives 2.3, one layer of three gives [4.8, 1.21, 2.385]."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import neuron_basics  # noqa: E402  (the scripts folder is not a package)


def test_one_neuron() -> None:
    output = neuron_basics.layer_output([1, 2, 3], [[0.2, 0.8, -0.5]], [2])
    np.testing.assert_allclose(output, [2.3], rtol=1e-15)


def test_one_layer_of_three() -> None:
    output = neuron_basics.layer_output(
        [1, 2, 3, 2.5],
        [[0.2, 0.8, -0.5, 1.0], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]],
        [2, 3, 0.5],
    )
    np.testing.assert_allclose(output, [4.8, 1.21, 2.385], rtol=1e-14)


def test_whole_numbers_everywhere_are_taken_as_float64() -> None:
    # 1*1 + 2*2 + 0 = 5: inputs, weights and biases given as ints, as a beginner types them
    output = neuron_basics.layer_output([1, 2], [[1, 2], [3, -1]], [0, 1])
    assert output.dtype == np.float64
    np.testing.assert_array_equal(output, [5.0, 2.0])


def test_script_prints_the_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert neuron_basics.main([]) == 0
    out = capsys.readouterr().out
    assert "-> 2.3" in out and "[4.8, 1.21, 2.385]" in out


def test_help_describes_the_script_and_unknown_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        neuron_basics.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ") and "The arithmetic of one neuron and one layer" in out and "one neuron:" not in out
    with pytest.raises(SystemExit) as exit_info:
        neuron_basics.main(["--bogus"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip().endswith("error: unrecognized arguments: --bogus")
