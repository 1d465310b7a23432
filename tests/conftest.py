"""Shared fixtures: a fresh seeded generator per test, a data folder that holds nothing real
and no way to the package index, a small MNIST cache the real loader reads, and one
hypothesis profile that draws the same examples on every run."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

from functional_nn.data.mnist import MNIST_CACHE_NAME, MNIST_SHA256, MNISTPixels

# Derandomized: every run draws the same examples, so a property that fails once fails again
# (and one that passes does not pass by the luck of the draw); no example database either, which
# would replay examples saved by earlier runs. Tests that set their own max_examples keep it;
# everything else comes from here.
settings.register_profile("functional_nn", derandomize=True, database=None, deadline=None)
settings.load_profile("functional_nn")

def peak_bytes(action: Callable[[], object], *, warm: bool = True) -> int:
    """The most memory allocated at once while ``action`` runs, above what was allocated before,
    by tracemalloc (to which NumPy reports its allocations); ``warm``: ``action`` runs once
    first, so that lazy imports and caches are not counted as the data's cost."""
    if warm:
        action()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        action()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


WriteMNISTCache = Callable[[MNISTPixels], Path]
"""``write(pixels)``: an MNIST cache of these pixels in a folder of its own, where
``FUNCTIONAL_NN_DATA`` now points; returns the folder."""


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def no_real_data_nor_network(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with ``FUNCTIONAL_NN_DATA`` at an empty folder of its own (outside
    its ``tmp_path``, whose contents some tests list) and ``PIP_NO_INDEX=1``: a regression
    that reaches for MNIST finds no cache and cannot download one, in this process or in the
    subprocesses it starts, which inherit the environment. A test that sets its own
    ``FUNCTIONAL_NN_DATA`` (``monkeypatch.setenv``, or ``mnist_cache``) replaces this one."""
    monkeypatch.setenv("FUNCTIONAL_NN_DATA", str(tmp_path_factory.mktemp("no-data")))
    monkeypatch.setenv("PIP_NO_INDEX", "1")


@pytest.fixture
def mnist_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> WriteMNISTCache:
    """Write ``pixels`` as the ``mnist.npz`` that ``functional_nn.data.mnist`` caches, and
    point ``FUNCTIONAL_NN_DATA`` at it, so that ``load_mnist`` / ``load_mnist_pixels`` (and
    the scripts that call them) read these pixels through their real code.

    The format is the one ``_read_cache`` checks: ``source_sha256`` (the hash of the MNIST
    file the cache was built from), then ``X_train``, ``X_dev``, ``X_test`` as ``uint8``
    rows ``(m, 784)`` and ``y_*`` as ``uint8`` ``(m,)``; the loader hands back ``X.T``.
    """

    def write(pixels: MNISTPixels) -> Path:
        folder = tmp_path_factory.mktemp("mnist-cache")
        arrays: dict[str, Any] = {"source_sha256": np.array(MNIST_SHA256)}  # Any: numpy's stub, one array type for **kwargs
        for name, X, y in (("train", pixels.X_train, pixels.y_train), ("dev", pixels.X_dev, pixels.y_dev), ("test", pixels.X_test, pixels.y_test)):
            assert X.dtype == np.uint8 and X.ndim == 2 and X.shape[0] == 784 and y.shape == (X.shape[1],)
            arrays[f"X_{name}"] = np.ascontiguousarray(X.T)
            arrays[f"y_{name}"] = np.asarray(y).astype(np.uint8)
        np.savez_compressed(folder / MNIST_CACHE_NAME, **arrays)
        monkeypatch.setenv("FUNCTIONAL_NN_DATA", str(folder))
        return folder

    return write


@pytest.fixture
def kernels_called(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the compiled kernels fetched (``functional_nn.fused.kernel``) while the test
    runs, in order: a comparison with the NumPy reference means something only if they ran."""
    from functional_nn import fused

    called: list[str] = []
    compiled = fused.kernel

    def recording(name: str) -> Callable[..., None]:
        called.append(name)
        return compiled(name)

    monkeypatch.setattr(fused, "kernel", recording)
    return called


def blas_threads() -> int:
    """The threads the loaded BLAS uses now (threadpoolctl, from the bench extra, which [dev] includes)."""
    from threadpoolctl import threadpool_info

    return int(min(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"))
