"""The scripts as a shell runs them: a reader that leaves early (``| head -1``), stdout on a full
disk, and a terminal whose encoding cannot hold what they print (``PYTHONIOENCODING=ascii``).
Each runs a real script in a child process, whose stdout is what the shell gave it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from functional_nn.initializers import initialize_parameters
from functional_nn.propagation import predict_proba
from functional_nn.serialization import save_parameters
from test_scripts_mnist import _draw_one

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _cli  # noqa: E402  (the scripts folder is not a package)
import predict_digit  # noqa: E402


def _environment(**changes: str | None) -> dict[str, str]:
    """This process's environment with the library of this checkout first, and ``changes`` (``None`` removes)."""
    env = {**os.environ, "PYTHONPATH": str(SCRIPTS.parent)}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@pytest.mark.parametrize("unbuffered", [None, "1"], ids=["buffered", "PYTHONUNBUFFERED"])
def test_a_reader_that_left_ends_the_script_silently_as_sigpipe_does(unbuffered: str | None, tmp_path: Path) -> None:
    # `python scripts/neuron_basics.py | head -0`: printed "Exception ignored in: <_io.TextIOWrapper
    # name='<stdout>'> / BrokenPipeError" with status 120, or (unbuffered) "error: [Errno 32] Broken pipe", status 2
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the script writes
    try:
        child = subprocess.run(
            [sys.executable, str(SCRIPTS / "neuron_basics.py")], stdout=write_end, stderr=subprocess.PIPE,
            env=_environment(PYTHONUNBUFFERED=unbuffered), cwd=tmp_path, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert child.stderr.decode() == ""
    assert child.returncode == 128 + signal.SIGPIPE


def test_stdout_on_a_full_disk_is_one_error_line_naming_stdout(tmp_path: Path) -> None:
    # `python scripts/neuron_basics.py > /dev/full`: "Exception ignored in: ..." and status 120
    with open("/dev/full", "wb") as full:
        child = subprocess.run(
            [sys.executable, str(SCRIPTS / "neuron_basics.py")], stdout=full, stderr=subprocess.PIPE,
            env=_environment(PYTHONUNBUFFERED=None), cwd=tmp_path, timeout=60, check=False,
        )  # fmt: skip
    assert child.stderr.decode() == "error: <stdout>: No space left on device\n"
    assert child.returncode == 2


def test_an_ascii_terminal_gets_a_non_ascii_file_name_escaped_not_a_failed_run(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    # `PYTHONIOENCODING=ascii python scripts/predict_digit.py params.npz dígit.png`: "error: 'ascii' codec
    # can't encode character '\xed' ...", status 2, and no prediction
    params = initialize_parameters([784, 6, 10], rng, dtype=np.float32)
    path = save_parameters(tmp_path / "params.npz", params, metadata={"activations": ["relu", "softmax"]})
    picture = _draw_one(tmp_path / "dígit.png")
    child = subprocess.run(
        [sys.executable, str(SCRIPTS / "predict_digit.py"), str(path), str(picture), "--top", "1"],
        capture_output=True, env=_environment(PYTHONIOENCODING="ascii"), cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert child.stderr.decode() == ""
    assert child.returncode == 0
    probabilities = predict_proba(predict_digit.digit_pixels(picture), params, ("relu", "softmax"))[:, 0]
    best = int(np.argmax(probabilities))
    escaped = str(picture).replace("í", "\\xed")
    assert child.stdout.decode("ascii") == f"{escaped}: {best} ({float(probabilities[best]):.3f})\n"


def test_a_path_given_as_option_equals_tilde_is_in_the_home_folder(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # bash leaves ~ after "=" (and in quotes) as typed: `binary_classification.py --out=~/pictures` made a
    # folder named "~" in the current one and said "wrote ... to ~/pictures"; predict_digit.py "~/params.npz"
    # said "error: ~/params.npz: No such file or directory"
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    assert _cli.path("~/pictures") == home / "pictures"
    params = initialize_parameters([784, 6, 10], rng, dtype=np.float32)
    save_parameters(home / "params.npz", params, metadata={"activations": ["relu", "softmax"]})
    picture = _draw_one(home / "one.png")
    assert predict_digit.main(["~/params.npz", "~/one.png", "--top", "1"]) == 0
    probabilities = predict_proba(predict_digit.digit_pixels(picture), params, ("relu", "softmax"))[:, 0]
    best = int(np.argmax(probabilities))
    assert capsys.readouterr().out == f"{picture}: {best} ({float(probabilities[best]):.3f})\n"
    assert list(elsewhere.iterdir()) == []


def test_a_path_starting_with_an_unknown_users_home_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        predict_digit.main(["~no-such-user-functional-nn/params.npz", "one.png"])
    assert exit_info.value.code == 2
    assert "argument params: '~no-such-user-functional-nn/params.npz' starts with '~no-such-user-functional-nn', which names no home directory here" in capsys.readouterr().err
