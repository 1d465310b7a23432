"""Checkpoints: bitwise round trips, atomic writes, and clear refusals of corrupt or foreign files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn import initialize_parameters, one_hot, train
from functional_nn.checkpoints import (
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
    mismatches,
    restored_generator,
    save_checkpoint,
)
from functional_nn.optimizers import adam
from functional_nn.training import EarlyStopping, TrainState
from functional_nn.types import FloatDType


def trained_state(rng: np.random.Generator, dtype: FloatDType = np.float32) -> TrainState:
    params = initialize_parameters([3, 5, 2], rng, dtype=dtype)
    X = rng.standard_normal((3, 30)).astype(dtype)
    Y = one_hot(rng.integers(0, 2, 30), 2, dtype=dtype)
    return train(
        X, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=3,
        optimizer=adam(1e-2), batch_size=8, rng=rng, dev=(X, Y), early_stopping=EarlyStopping(patience=5),
    )  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_bitwise(tmp_path: Path, rng: np.random.Generator, dtype: FloatDType) -> None:
    state = trained_state(rng, dtype)
    path = save_checkpoint(tmp_path, state, rng=rng, run={"layer_sizes": [3, 5, 2]})
    assert path.name == "checkpoint-000003.npz"
    loaded = load_checkpoint(path)
    assert loaded.run == {"layer_sizes": [3, 5, 2]}
    assert loaded.state.epoch == 3 and loaded.state.history == state.history
    assert loaded.state.optimizer_state.step == state.optimizer_state.step
    assert (loaded.state.best_epoch, loaded.state.best_value, loaded.state.stopped) == (state.best_epoch, state.best_value, state.stopped)
    for key, value in state.params.items():
        assert loaded.state.params[key].dtype == dtype
        assert loaded.state.params[key].tobytes() == value.tobytes()
        assert state.best_params is not None and loaded.state.best_params is not None
        assert loaded.state.best_params[key].tobytes() == state.best_params[key].tobytes()
        for slot in ("m", "v"):
            assert loaded.state.optimizer_state.slots[slot][key].tobytes() == state.optimizer_state.slots[slot][key].tobytes()
    assert loaded.rng_state is not None
    again = restored_generator(np.random.default_rng(), loaded.rng_state)
    np.testing.assert_array_equal(again.random(5), rng.random(5))


def test_keeps_the_last_ones_and_finds_the_latest(tmp_path: Path, rng: np.random.Generator) -> None:
    state = trained_state(rng)
    for epoch in (1, 2, 3, 10):
        save_checkpoint(tmp_path, state._replace(epoch=epoch), rng=None, run={}, keep_last=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-000003.npz", "checkpoint-000010.npz"]
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoint-000010.npz"
    assert latest_checkpoint(tmp_path / "nowhere") is None


def test_epochs_of_seven_digits_sort_after_six(tmp_path: Path, rng: np.random.Generator) -> None:
    # as text, "checkpoint-1000000" sorts before "checkpoint-999999"
    state = trained_state(rng)
    for epoch in (999_998, 999_999, 1_000_000, 1_000_001):
        save_checkpoint(tmp_path, state._replace(epoch=epoch), rng=None, run={}, keep_last=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-1000000.npz", "checkpoint-1000001.npz"]
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoint-1000001.npz"


def test_a_failed_write_leaves_the_previous_checkpoint_and_no_debris(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = trained_state(rng)
    first = save_checkpoint(tmp_path, state, rng=rng, run={})
    before = first.read_bytes()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(tmp_path, state, rng=rng, run={})  # the same epoch: would replace `first`
    assert [p.name for p in tmp_path.iterdir()] == [first.name]
    assert first.read_bytes() == before


def test_truncated_file_is_refused_clearly(tmp_path: Path, rng: np.random.Generator) -> None:
    path = save_checkpoint(tmp_path, trained_state(rng), rng=rng, run={})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path)


def test_foreign_npz_is_refused_clearly(tmp_path: Path) -> None:
    foreign = tmp_path / "checkpoint-000001.npz"
    np.savez(foreign, weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a functional_nn checkpoint: it has no 'meta' entry"):
        load_checkpoint(foreign)
    np.savez(foreign, meta=np.array('{"format": "something/else"}'))
    with pytest.raises(CheckpointError, match="format 'something/else'"):
        load_checkpoint(foreign)
    not_zip = tmp_path / "checkpoint-000002.npz"
    not_zip.write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(not_zip)


def test_a_checkpoint_missing_arrays_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    path = save_checkpoint(tmp_path, trained_state(rng), rng=rng, run={})
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files if key != "slots/v/W2"}
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match=r"lacks \['slots/v/W2'\]"):
        load_checkpoint(path)


def test_generator_kind_must_match(rng: np.random.Generator) -> None:
    state = dict(rng.bit_generator.state)
    with pytest.raises(CheckpointError, match="generator is 'PCG64' but rng uses MT19937"):
        restored_generator(np.random.Generator(np.random.MT19937()), state)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda s: s._replace(params={**s.params, "W2": None}), TypeError, r"state.params\['W2'\] must be a numpy ndarray, got NoneType"),
        (lambda s: s._replace(params={**s.params, "b1": "zeros"}), TypeError, r"state.params\['b1'\] must be a numpy ndarray, got str"),
        (
            lambda s: s._replace(best_params={**s.params, "W1": None}),
            TypeError,
            r"state.best_params\['W1'\] must be a numpy ndarray, got NoneType",
        ),
        (
            lambda s: s._replace(
                optimizer_state=s.optimizer_state._replace(slots={**s.optimizer_state.slots, "m": {**s.optimizer_state.slots["m"], "W1": np.zeros((2, 2), np.float32)}})
            ),
            ValueError,
            r"state.optimizer_state.slots\['m'\]\['W1'\] is float32 \(2, 2\) but params\['W1'\] is float32 \(5, 3\)",
        ),
        (
            lambda s: s._replace(
                optimizer_state=s.optimizer_state._replace(slots={**s.optimizer_state.slots, "v": {**s.optimizer_state.slots["v"], "b2": np.zeros((2, 1))}})
            ),
            ValueError,
            r"state.optimizer_state.slots\['v'\]\['b2'\] is float64 \(2, 1\) but params\['b2'\] is float32 \(2, 1\)",
        ),
        (
            lambda s: s._replace(optimizer_state=s.optimizer_state._replace(slots={"m": {"W1": s.params["W1"]}})),
            ValueError,
            r"state.optimizer_state.slots\['m'\] must have the params' keys \['W1', 'W2', 'b1', 'b2'\], got \['W1'\]",
        ),
    ],
    ids=["None param", "str param", "None best param", "slot shape", "slot dtype", "slot keys"],
)
def test_an_unloadable_state_is_refused_before_anything_is_written_or_deleted(
    tmp_path: Path, rng: np.random.Generator, change: Callable[[TrainState], TrainState], error: type[Exception], message: str
) -> None:
    state = trained_state(rng)
    first = save_checkpoint(tmp_path, state._replace(epoch=1), rng=rng, run={}, keep_last=1)
    before = first.read_bytes()
    with pytest.raises(error, match=message):
        save_checkpoint(tmp_path, change(state)._replace(epoch=2), rng=rng, run={}, keep_last=1)
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # the last usable checkpoint stays
    assert first.read_bytes() == before
    assert load_checkpoint(first).state.epoch == 1


def test_meta_that_is_not_a_json_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint-000001.npz"
    np.savez(path, meta=np.array("[1, 2]"))
    with pytest.raises(CheckpointError, match="its 'meta' entry must be a JSON object, got list"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("slots/m/W1", np.zeros((2, 2), np.float32), r"its optimizer slots\['m'\]\['W1'\] is float32 \(2, 2\) but params\['W1'\] is float32 \(5, 3\)"),
        ("slots/v/b1", np.zeros((5, 1), np.float64), r"its optimizer slots\['v'\]\['b1'\] is float64 \(5, 1\) but params\['b1'\] is float32 \(5, 1\)"),
        ("best_params/W2", np.zeros((5, 2), np.float32), r"its best_params\['W2'\] is float32 \(5, 2\) but params\['W2'\] is float32 \(2, 5\)"),
    ],
)
def test_slots_or_best_params_unlike_the_params_are_refused(
    tmp_path: Path, rng: np.random.Generator, key: str, value: np.ndarray[Any, Any], message: str
) -> None:
    path = save_checkpoint(tmp_path, trained_state(rng), rng=rng, run={})
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    np.savez(path, **{**arrays, key: value})
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_early_stoppings_count_and_the_records_fields_survive_the_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    # a run two epochs past its best resumes two epochs past it, not patience epochs more
    state = trained_state(rng)._replace(epochs_since_best=2, best_epoch=1)
    loaded = load_checkpoint(save_checkpoint(tmp_path, state, rng=rng, run={})).state
    assert (loaded.epochs_since_best, loaded.best_epoch, loaded.stopped) == (2, 1, False)
    # the history is stored as positional lists: their order is the file format, by field name
    with np.load(tmp_path / "checkpoint-000003.npz") as saved:
        history = json.loads(str(saved["meta"]))["history"]
    first = state.history[0]
    assert history[0] == [first.epoch, first.cost, first.accuracy, first.dev_cost, first.dev_accuracy]
    assert loaded.history == state.history


def test_mismatches_name_settings_either_side_lacks() -> None:
    assert mismatches({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ["b: checkpoint 2, now 3"]
    assert mismatches({}, {"a": 1}) == ["a: checkpoint None, now 1"]  # a setting only this run has
    assert mismatches({"a": 1}, {}) == ["a: checkpoint 1, now None"]
