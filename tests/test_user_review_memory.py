"""A user with a large data set on a small machine: checking and fingerprinting the data must
not allocate memory on the order of the data set's size (the README's "data set plus 150 MB").

Peaks are measured with tracemalloc, to which NumPy reports its allocations."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from functional_nn import initialize_parameters, one_hot, predict_proba, train
from functional_nn.checkpoints import data_digest

from conftest import peak_bytes


def _c_ordered_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A C-ordered float32 ``X`` (200, 20000) of 16 MB, as ``rng.standard_normal((n, m))`` or an
    ``np.memmap`` of shape ``(n, m)`` lays it out, and its one-hot ``Y``."""
    X = rng.standard_normal((200, 20_000), dtype=np.float32)
    Y = one_hot(rng.integers(0, 2, size=(X.shape[1],)), 2, dtype=np.float32)
    return X, Y


def test_the_data_digest_of_a_c_ordered_x_copies_no_whole_data_set(rng: np.random.Generator) -> None:
    X, Y = _c_ordered_data(rng)
    expected = hashlib.blake2b(digest_size=16)
    for array in (X, Y):  # the digest checkpoints already written hold: column-major bytes
        expected.update(repr((array.shape, array.dtype.str)).encode())
        expected.update(np.ascontiguousarray(array.T).data)
    assert data_digest(X, Y) == expected.hexdigest()
    assert peak_bytes(lambda: data_digest(X, Y)) < X.nbytes // 2


def test_train_with_checkpoints_on_a_c_ordered_memmap_copies_no_whole_data_set(rng: np.random.Generator, tmp_path: Path) -> None:
    X, Y = _c_ordered_data(rng)
    mapped = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=X.shape)
    mapped[:] = X
    params = initialize_parameters((200, 4, 2), rng, dtype=np.float32)
    runs = iter(range(2))

    def start() -> object:  # epochs=0: the data checked and fingerprinted, no training
        return train(
            mapped, Y, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=0,
            learning_rate=0.1, batch_size=64, rng=rng, checkpoint_dir=tmp_path / f"run{next(runs)}",
        )  # fmt: skip

    assert peak_bytes(start) < mapped.nbytes // 4


@pytest.mark.parametrize("order", ["C", "F"])
def test_predicting_on_a_large_x_allocates_no_mask_of_its_size(rng: np.random.Generator, order: str) -> None:
    X, _ = _c_ordered_data(rng)
    X = np.asarray(X, order=order)  # type: ignore[call-overload]
    params = initialize_parameters((200, 4, 2), rng, dtype=np.float32)
    # the output (2, m) and one chunk's layers are small; a boolean mask of X is a quarter of it
    assert peak_bytes(lambda: predict_proba(X, params, ("relu", "softmax"))) < X.nbytes // 8


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_a_large_x_checked_in_blocks_still_finds_one_infinity_at_its_end(rng: np.random.Generator, layout: str) -> None:
    whole = rng.standard_normal((200, 4_000))
    X = whole[:, ::2] if layout == "strided" else np.asarray(whole, order=layout)  # type: ignore[call-overload]
    X[-1, -1] = np.inf
    params = initialize_parameters((200, 4, 2), rng)
    with pytest.raises(ValueError, match=r"^X contains 1 NaN or infinite value\(s\)$"):
        predict_proba(X, params, ("relu", "softmax"))
