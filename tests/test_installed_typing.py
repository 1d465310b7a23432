"""Type-checking a user's script against the *installed* package, from outside the repository.

mypy runs in a temporary folder, with no configuration, on two scripts that import
``functional_nn`` the way a user's would: it must find the package where the README's
``pip install -e ".[dev]"`` (or a plain ``pip install``) put it, read its ``py.typed``, pass
correct code, infer precise types, and report every misuse. mypy searches the interpreter's
``sys.path`` without the current folder, and ``PYTHONPATH`` is removed, so only what the
installation gives is seen. One exception: when the installed package is an editable
install of *another* checkout (a worktree tested with ``PYTHONPATH`` pointing at itself
while the interpreter's install points at the main checkout), ``PYTHONPATH`` is kept, so
that this checkout's code is what the user's script is checked against.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CORRECT = '''
import numpy as np
from functional_nn import (ActivationFunction, FloatArray, check_activation, forward_propagation,
                           initialize_parameters, predict, train)

def softsign(Z: FloatArray) -> FloatArray:
    A: FloatArray = Z / (1 + np.abs(Z))
    return A

def softsign_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    dZ: FloatArray = dA / (1 + np.abs(Z)) ** 2
    return dZ

SOFTSIGN = ActivationFunction("softsign", softsign, softsign_backward, (-1.0, 1.0))
rng = np.random.default_rng(0)
params = initialize_parameters([2, 3, 2], rng, scheme="xavier", dtype=np.float32)
X = rng.standard_normal((2, 10)).astype(np.float32)
Y = np.eye(2, dtype=np.float32)[:, rng.integers(0, 2, 10)]
check_activation(SOFTSIGN)
result = train(X, Y, params, activations=(SOFTSIGN, "softmax"), loss="categorical_cross_entropy",
               epochs=2, learning_rate=0.1)
AL, caches = forward_propagation(X, result.params, ("relu", "softmax"))
reveal_type(result.params)
reveal_type(result.history)
reveal_type(caches)
reveal_type(predict(X, result.params, ("relu", "softmax")))
'''

# Each misuse line ends with the error code mypy must report on it.
MISUSES = '''
import numpy as np
from functional_nn import (ActivationFunction, FloatArray, compute_cost, forward_propagation,
                           initialize_parameters, train)

rng = np.random.default_rng(0)
params = initialize_parameters([2, 2], rng)
X = rng.standard_normal((2, 4))
Y = np.eye(2)[:, [0, 1, 0, 1]]
forward_propagation(X, params, ("rleu", "softmax"))  # E: arg-type
compute_cost(X, Y, "binary_crossentropy")  # E: arg-type
initialize_parameters([2, 2], rng, scheme="kaiming")  # E: arg-type
train(X, Y, params, activations=("softmax",), loss="categorical_cross_entropy", epochs=1, learning_rate="0.1")  # E: arg-type
forward_propagation(params, X, ("softmax",))  # E: arg-type
initialize_parameters([2, 2], np.random.RandomState(0))  # E: arg-type
initialize_parameters([2, 2], rng, dtype=np.int64)  # E: arg-type

def to_float(Z: FloatArray) -> float:
    return float(Z.sum())

ActivationFunction("total", to_float, lambda dA, Z, A: dA)  # E: arg-type
'''


def _installed() -> tuple[str, Path | None]:
    """How functional-nn is installed (for messages), and the folder of an editable install."""
    try:
        distribution = importlib.metadata.distribution("functional-nn")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail('functional-nn is not installed: run pip install -e ".[dev]" first, as the README says')
    text = distribution.read_text("direct_url.json")
    if text is None:
        return str(distribution.locate_file("")), None
    url = json.loads(text)
    editable = bool(url.get("dir_info", {}).get("editable")) and str(url.get("url", "")).startswith("file://")
    return text, Path(url["url"][len("file://") :]) if editable else None


def misuse_codes(misuses: str, lines: list[str]) -> tuple[dict[int, str], dict[int, set[str]]]:
    """The error code each ``# E: code`` line of ``misuses`` expects, by line number, and the
    codes mypy reported for ``user_misuses.py``, by line number."""
    expected = {
        number: line.split("# E: ")[1].strip()
        for number, line in enumerate(textwrap.dedent(misuses).splitlines(), start=1)
        if "# E: " in line
    }
    reported: dict[int, set[str]] = {}
    for line in lines:
        match = re.match(r"user_misuses\.py:(\d+): error: .*\[([a-z-]+)\]$", line)
        if match:
            reported.setdefault(int(match.group(1)), set()).add(match.group(2))
    return expected, reported


def mypy_as_a_user(
    folder: Path, files: Sequence[str], *, config_file: str = "", error_summary: bool = False
) -> subprocess.CompletedProcess[str]:
    """``mypy --strict`` on ``files`` in ``folder``, as a user's project would run it.

    A fresh interpreter in ``folder``: its ``sys.path`` is what the installation gives
    (site-packages and their .pth entries), not this test process's. ``MYPYPATH`` is removed,
    and ``PYTHONPATH`` too unless the installation is an editable one of another checkout (see
    the module's docstring). ``config_file`` ``""`` reads no configuration, so the
    repository's pyproject.toml is not read.
    """
    _, editable_folder = _installed()
    environment = {key: value for key, value in os.environ.items() if key != "MYPYPATH"}
    if editable_folder is None or editable_folder.resolve() == ROOT:
        environment.pop("PYTHONPATH", None)  # the installation alone
    summary = [] if error_summary else ["--no-error-summary"]
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", config_file, "--cache-dir", str(folder / ".mypy_cache"),
         *summary, *files],
        cwd=folder, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_users_script_outside_the_repository_type_checks(tmp_path: Path) -> None:
    installed, _ = _installed()
    (tmp_path / "user_ok.py").write_text(textwrap.dedent(CORRECT))
    (tmp_path / "user_misuses.py").write_text(textwrap.dedent(MISUSES))
    finished = mypy_as_a_user(tmp_path, ["user_ok.py", "user_misuses.py"])
    stdout, stderr = finished.stdout, finished.stderr
    lines = stdout.splitlines()
    assert not any("import-not-found" in line or "import-untyped" in line for line in lines), (
        f"mypy cannot see the installed functional_nn and its py.typed (installed: {installed}); "
        "an editable install must be a plain path entry (see pyproject.toml's build-system); an install made "
        f'before the switch to hatchling needs redoing: pip install -e ".[dev]"\n{stdout}{stderr}'
    )

    errors_ok = [line for line in lines if line.startswith("user_ok.py") and ": error:" in line]
    assert errors_ok == [], stdout
    revealed = [line.split('Revealed type is "')[1].rstrip('"') for line in lines if "Revealed type is" in line]
    assert len(revealed) == 4, stdout
    params_type, history_type, caches_type, labels_type = revealed
    assert params_type.startswith("builtins.dict[builtins.str, numpy.ndarray[") or params_type.startswith("dict[str, numpy.ndarray[")
    assert "EpochRecord" in history_type and "LayerCache" in caches_type and "numpy.integer" in labels_type
    for revealed_type in revealed:
        # numpy's own generic parameters (any shape, any precision) are the only Any left
        precise = re.sub(r"tuple\[Any, \.\.\.\]|(floating|integer)\[Any\]", "", revealed_type)
        assert "Any" not in precise, revealed_type

    expected, reported = misuse_codes(MISUSES, lines)
    assert set(reported) == set(expected), stdout
    for number, code in expected.items():
        assert code in reported[number], f"line {number}: expected [{code}], got {reported[number]}\n{stdout}"
