"""API consistency review: siblings that treat the same input alike.

``load_checkpoint`` given a parameter file should name the mix-up as ``load_parameters``
does the other way round, and list what the file holds; the estimators should take the
``numpy.dtype`` objects that every other ``dtype=`` of the library takes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone

from functional_nn import initialize_parameters, load_parameters, save_parameters, train
from functional_nn.checkpoints import CheckpointError, latest_checkpoint, load_checkpoint
from functional_nn.sklearn import MLPClassifier, MLPRegressor


def test_load_checkpoint_of_a_parameter_file_points_at_load_parameters(tmp_path: Path, rng: np.random.Generator) -> None:
    params = initialize_parameters([2, 3, 1], rng)
    path = save_parameters(tmp_path / "params.npz", params, metadata={"activations": ["relu", "sigmoid"]})
    with pytest.raises(CheckpointError, match=r"is a parameter file written by save_parameters, not a training checkpoint: read it with functional_nn\.load_parameters"):
        load_checkpoint(path)

    # the mirror, as it already is: load_parameters on a checkpoint names load_checkpoint
    X = rng.standard_normal((2, 6))
    Y = (X[:1] > 0).astype(np.float64)
    train(X, Y, params, activations=("relu", "sigmoid"), loss="binary_cross_entropy", epochs=1, learning_rate=0.1, checkpoint_dir=tmp_path / "runs")
    checkpoint = latest_checkpoint(tmp_path / "runs")
    assert checkpoint is not None
    with pytest.raises(ValueError, match="is a training checkpoint, not a parameter file"):
        load_parameters(checkpoint)


def test_load_checkpoint_of_a_foreign_npz_lists_what_it_holds(tmp_path: Path) -> None:
    foreign = tmp_path / "checkpoint-000001.npz"
    np.savez(foreign, weights=np.zeros(3), bias=np.zeros(1))
    with pytest.raises(CheckpointError, match=re.escape("it has no 'meta' entry (it holds ['bias', 'weights'])")):
        load_checkpoint(foreign)


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("name", ["float32", "float64"])
def test_estimators_take_a_numpy_dtype_as_initialize_parameters_does(
    estimator: type[MLPClassifier] | type[MLPRegressor], name: str, rng: np.random.Generator
) -> None:
    dtype = np.dtype(name)
    assert initialize_parameters([2, 3], rng, dtype=dtype)["W1"].dtype == dtype
    X = rng.standard_normal((12, 2)).astype(dtype)
    y = (X[:, 0] > 0).astype(np.int64)
    model = estimator((3,), epochs=1, batch_size=None, random_state=0, dtype=X.dtype)
    fitted = clone(model).fit(X, y)
    assert fitted.params_["W1"].dtype == dtype
    assert fitted.predict(X).shape == (12,)


@pytest.mark.parametrize("dtype", [np.dtype(np.float16), np.dtype(">f4")])
def test_estimators_still_refuse_other_numpy_dtypes(dtype: np.dtype[Any], rng: np.random.Generator) -> None:
    X = rng.standard_normal((12, 2))
    y = (X[:, 0] > 0).astype(np.int64)
    with pytest.raises(TypeError, match=re.escape("dtype must be 'float64' or 'float32' (or numpy.float64, numpy.float32), got dtype(")):
        MLPClassifier((3,), epochs=1, random_state=0, dtype=dtype).fit(X, y)


def test_augmentations_take_a_grayscale_folders_image_shape(tmp_path: Path) -> None:
    from PIL import Image

    from functional_nn.data import load_image_folder
    from functional_nn.data.augmentation import elastic_distortion, random_affine, random_shift

    for name, value in (("a", 51), ("b", 204)):
        (tmp_path / name).mkdir()
        pixels = np.arange(12, dtype=np.uint8).reshape(4, 3) * 10 + value // 10
        Image.fromarray(pixels, mode="L").save(tmp_path / name / "x.png")
    folder = load_image_folder(tmp_path, size=(4, 3))
    assert folder.image_shape == (4, 3, 1)
    for augment in (random_shift, random_affine, elastic_distortion):
        as_folder_says = augment(folder.X, np.random.default_rng(5), image_shape=folder.image_shape)
        as_h_w = augment(folder.X, np.random.default_rng(5), image_shape=(4, 3))
        np.testing.assert_array_equal(as_folder_says, as_h_w, strict=True)
    with pytest.raises(TypeError, match=re.escape("or a grayscale folder's (h, w, 1); got (4, 1, 3)")):
        random_shift(np.zeros((12, 2)), np.random.default_rng(0), image_shape=(4, 1, 3))  # colour: not augmented
