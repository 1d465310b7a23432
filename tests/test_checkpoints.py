"""Checkpoints: bitwise round trips, atomic writes, and clear refusals of corrupt or foreign files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from functional_nn import initialize_parameters, one_hot, train
from functional_nn.checkpoints import (
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
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
