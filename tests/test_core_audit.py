"""From an audit of files, checkpoints, metrics and the estimators: a device or FIFO is not
replaced by a model file, paths are refused by name (an empty one is not the current folder,
``m.npz/`` not the file ``m.npz``), metadata and run descriptions that JSON cannot keep are
refused naming the entry, a log loss of no rows and float32 targets beyond float32's range
are refused in our words."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest

from functional_nn.checkpoints import latest_checkpoint, load_checkpoint, mismatches, save_checkpoint
from functional_nn.fold_state import TrainState
from functional_nn.initializers import initialize_parameters
from functional_nn.metrics import log_loss
from functional_nn.optimizers import sgd
from functional_nn.serialization import load_parameters, save_parameters
from functional_nn.types import FloatArray

METADATA = {"activations": ["relu", "sigmoid"]}


def small_params(rng: np.random.Generator) -> dict[str, FloatArray]:
    return initialize_parameters([2, 3, 1], rng)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_refused_not_replaced_by_a_regular_file(tmp_path: Path, rng: np.random.Generator) -> None:
    # the rename used to put a regular file in its place: as root, save_parameters("/dev/null", ...)
    # replaced the device itself
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match=r"cannot write .*pipe: it is not a regular file \(a device, FIFO or socket\)"):
        save_parameters(fifo, small_params(rng), metadata=METADATA)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]  # no temporary left either


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("m.npz/", ValueError, r"^path must name a file, got 'm.npz/', which ends in a separator \(a folder\)$"),
        ("", ValueError, r"^path is an empty path: name a file$"),
        ("m\0.npz", ValueError, r"^path holds a NUL byte, which no path can: 'm\\x00.npz'$"),
        (3, TypeError, r"^path must be a str or an os.PathLike such as pathlib.Path\('params.npz'\), got int 3$"),
    ],
)
def test_save_parameters_refuses_a_path_by_name(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch, path: object, error: type[Exception], message: str
) -> None:
    # "m.npz/" used to be written as the file m.npz, "" gave "cannot write .: it is a directory"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=message):
        save_parameters(path, small_params(rng), metadata=METADATA)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("", ValueError, r"^path is an empty path: name a file$"),
        ("m\0.npz", ValueError, r"^path holds a NUL byte"),
        (3, TypeError, r"^path must be a str or an os.PathLike"),
    ],
)
def test_load_parameters_refuses_a_path_by_name(path: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        load_parameters(path)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("entry", "error", "message"),
    [
        (float("nan"), ValueError, r"^metadata\['dev_cost'\] cannot be saved: it holds NaN or an infinity, which JSON cannot hold$"),
        ([1.0, np.float32(np.inf)], ValueError, r"^metadata\['dev_cost'\] cannot be saved: it holds NaN or an infinity"),
        ({(1, 2): 3}, TypeError, r"^metadata\['dev_cost'\] cannot be saved: it holds the key \(1, 2\) \(tuple\), but JSON keys are str, so it would not load back as saved$"),
    ],
)
def test_metadata_json_cannot_keep_is_refused_naming_the_entry(
    tmp_path: Path, rng: np.random.Generator, entry: object, error: type[Exception], message: str
) -> None:
    # json's "Out of range float values are not JSON compliant" named neither metadata nor the entry
    with pytest.raises(error, match=message):
        save_parameters(tmp_path / "m.npz", small_params(rng), metadata={**METADATA, "dev_cost": entry})
    assert list(tmp_path.iterdir()) == []


def small_state(rng: np.random.Generator) -> TrainState:
    params = small_params(rng)
    return TrainState(1, params, sgd(0.1).init(params), ())


def test_an_empty_checkpoint_directory_is_refused_not_taken_for_the_current_one(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^directory is an empty path: name a folder \(or '.' for the current one\)$"):
        save_checkpoint("", small_state(rng), rng=None, run={})
    assert list(tmp_path.iterdir()) == []  # it used to write checkpoint-000001.npz here
    save_checkpoint(".", small_state(rng), rng=None, run={})  # the current folder, said so
    with pytest.raises(ValueError, match=r"^directory is an empty path"):
        latest_checkpoint("")  # it used to find ./checkpoint-000001.npz
    with pytest.raises(TypeError, match=r"^directory must be a str or an os.PathLike such as pathlib.Path\('runs/checkpoints'\), got int 3$"):
        save_checkpoint(3, small_state(rng), rng=None, run={})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^path holds a NUL byte, which no path can: 'c\\x00'$"):
        load_checkpoint("c\0")  # it used to say the checkpoint was truncated or corrupt


def test_a_run_description_with_keys_json_would_change_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    # {1: 2} came back as {"1": 2}, and comparing the two on resume failed inside sorted()
    with pytest.raises(TypeError, match=r"^run must hold JSON values with str keys only: it would load back as \{'1': 2\}$"):
        save_checkpoint(tmp_path, small_state(rng), rng=None, run={1: 2})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"str keys only: it would load back as \{'a': \[\{'true': None\}\]\}$"):
        save_checkpoint(tmp_path, small_state(rng), rng=None, run={"a": [{True: None}]})
    assert list(tmp_path.iterdir()) == []
    saved = load_checkpoint(save_checkpoint(tmp_path, small_state(rng), rng=None, run={"a": (1, [2.5, float("nan")])}))
    assert mismatches(saved.run, {"a": (1, [2.5, float("nan")])}) == []  # tuples and NaN still round-trip


def test_log_loss_of_no_rows_is_refused() -> None:
    # it used to fail inside NumPy: "zero-size array to reduction operation minimum which has no identity"
    with pytest.raises(ValueError, match=r"^probabilities has no rows: shape \(0, 2\); expected \(1, m\) for a sigmoid output or \(k, m\), k >= 2$"):
        log_loss(np.zeros((0, 2)), np.zeros(2, dtype=np.int64))


def test_regressor_targets_beyond_float32_are_refused_naming_y() -> None:
    pytest.importorskip("sklearn")
    from functional_nn.sklearn import MLPRegressor

    X = np.arange(8.0).reshape(4, 2)
    y = np.array([1.0, -1e39, 2.0, 3.0])  # finite in float64, -inf in float32
    # it used to warn "overflow encountered in cast" and then say Y held infinite values, which y did not
    with pytest.raises(ValueError, match=r"^y holds values up to 1e\+39 in magnitude, beyond the range of the network's dtype float32 \(largest 3\.403e\+38\): rescale y, or fit with dtype='float64'$"):
        MLPRegressor((3,), epochs=1, dtype="float32", random_state=0).fit(X, y)
    fitted = MLPRegressor((3,), epochs=1, dtype="float64", random_state=0).fit(X, y)
    assert fitted.params_["W1"].dtype == np.float64


@pytest.mark.skipif(bool(np.isinf(np.longdouble(10) ** 400)), reason="this platform's long double is a double: no y can exceed float64")
def test_regressor_targets_beyond_float64_are_refused_by_their_size_without_suggesting_float64() -> None:
    from functional_nn.sklearn import MLPRegressor

    y = np.array([np.longdouble(10) ** 400, 1, 2, 3])  # finite in long double, inf in float64
    # it used to say "up to inf" and suggest dtype='float64' to a float64 network
    message = "y holds values up to 1e+400 in magnitude, beyond the range of the network's dtype float64 (largest 1.798e+308): rescale y"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        MLPRegressor((3,), epochs=1, dtype="float64", random_state=0).fit(np.arange(8.0).reshape(4, 2), y)


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        # np.unique flattened it into the classes [0, 1, 2, 3]
        ([[0, 1], [2, 3]], r"^classes must be 1-D, every label that will ever be seen, got shape \(2, 2\): \[\[0, 1\], \[2, 3\]\]$"),
        # NaN became a class of its own, an output unit that no y can ever hold
        ([np.nan, 0, 1, 2, 3], r"^classes holds NaN, which no label of y can be: \[nan, 0.0, 1.0, 2.0, 3.0\]$"),
        ([0, 0.5, 1, 2, 3], r"^classes must be labels such as y holds: Unknown label type: continuous"),  # a class 0.5
    ],
)
def test_partial_fit_refuses_classes_scikit_learn_refuses(classes: object, message: str) -> None:
    pytest.importorskip("sklearn")
    from functional_nn.sklearn import MLPClassifier

    X, y = np.arange(16.0).reshape(8, 2), np.array([0, 1, 2, 3] * 2)
    classifier = MLPClassifier((3,), epochs=1, random_state=0)
    with pytest.raises(ValueError, match=message):
        classifier.partial_fit(X, y, classes=classes)
    assert not hasattr(classifier, "classes_")
    classifier.partial_fit(X, y, classes=np.array([3, 2, 1, 0, 0]))  # any order, repeats: the same four classes
    assert classifier.classes_.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"^classes must be 1-D"):
        classifier.partial_fit(X, y, classes=[[0, 1], [2, 3]])  # nor is it compared flattened on a later call


def test_a_loop_of_symbolic_links_is_refused_not_replaced(tmp_path: Path, rng: np.random.Generator) -> None:
    # realpath leaves a loop unresolved, and the rename replaced the first link with the file,
    # where open(path, "w") fails with "too many levels of symbolic links"
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    with pytest.raises(OSError, match=f"^cannot write {re.escape(str(tmp_path / 'loop1'))}: its symbolic links make a loop$"):
        save_parameters(tmp_path / "loop1", small_params(rng), metadata=METADATA)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop1", "loop2"] and (tmp_path / "loop1").is_symlink()
