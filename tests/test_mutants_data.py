"""Behaviour of the data, saving, checkpoint and diagnostics modules that a mutation audit found
unpinned: each test fails on a mutant of the library and passes on the real code."""

from __future__ import annotations

import errno
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from functional_nn.checkpoints import CheckpointError, load_checkpoint, mismatches, save_checkpoint
from functional_nn.data.augmentation import _centred_grid, _gaussian_matrix, elastic_distortion, random_affine, random_shift
from functional_nn.data import load_digits_csv, load_idx_digits
from functional_nn.data.images import load_image_folder
from functional_nn.data.preparation import minibatches, one_hot, scale_pixels, train_dev_split
from functional_nn.data.toy import make_blobs, make_circles, make_moons, make_spirals, make_xor
from functional_nn.activations import resolve_activation
from functional_nn.diagnostics import StepStatistics, layer_statistics, layer_statistics_observer
from functional_nn import serialization
from functional_nn.fold_state import TrainState
from functional_nn.optimizers import OptimizerState
from functional_nn.serialization import _made_here, _naming_target, _vanished, atomic_write, load_parameters, make_folders, save_parameters
from functional_nn.types import Activation, FloatArray, LayerCache

# --- preparation ---------------------------------------------------------------------------


def test_one_hot_refuses_zero_classes_by_name() -> None:
    # without the num_classes check the label range check raised "labels must lie in 0..-1"
    with pytest.raises(ValueError, match=r"^num_classes must be >= 1, got 0$"):
        one_hot(np.array([0]), 0)


def test_minibatches_refuses_a_zero_batch_size_when_called_not_when_iterated() -> None:
    X = np.zeros((1, 3))
    with pytest.raises(ValueError, match=r"^batch_size must be >= 1, got 0$"):
        minibatches(X, X, 0, np.random.default_rng(0))  # not iterated: the check is eager


def test_train_dev_split_refuses_a_matrix_and_float_labels() -> None:
    X = np.arange(6.0).reshape(2, 3)
    with pytest.warns(PendingDeprecationWarning, match="matrix subclass"):
        matrix = np.asmatrix(X)
    with pytest.raises(TypeError, match=r"^X is a numpy\.matrix"):
        train_dev_split(matrix, np.array([0, 1, 0]), 1, np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"^y must hold integer labels, got dtype float64$"):
        train_dev_split(X, np.array([0.0, 1.0, 0.0]), 1, np.random.default_rng(0))


def test_minibatches_refuses_a_one_dimensional_X_by_name() -> None:
    with pytest.raises(ValueError, match=r"^X and Y must be 2-D with the same number of columns, got \(3,\) and \(1, 3\)$"):
        minibatches(np.zeros(3), np.zeros((1, 3)), 1, np.random.default_rng(0))


def test_scale_pixels_takes_wider_integers_within_0_to_255_only() -> None:
    np.testing.assert_array_equal(scale_pixels(np.array([[0, 255]], dtype=np.int16)), [[0.0, 1.0]])
    assert scale_pixels(np.zeros((784, 0), dtype=np.int16)).shape == (784, 0)  # no min() of nothing
    for bad, shown in ((-1, "-1..-1"), (256, "256..256")):
        with pytest.raises(ValueError, match=rf"^pixels must lie in 0\.\.255, got values in {shown}$"):
            scale_pixels(np.array([[bad]], dtype=np.int16))


# --- toy data sets -------------------------------------------------------------------------


def test_spiral_arms_wind_counter_clockwise_by_hand() -> None:
    # t = 0, 1/2, 1 per arm; angle 2 pi (c / 2 + turns t) with turns = 1/4, radius t
    X, y = make_spirals(6, np.random.default_rng(0), noise=0.0, turns=0.25)
    r = math.sqrt(0.125)
    expected = {0: [(0.0, 0.0), (r, r), (0.0, 1.0)], 1: [(0.0, 0.0), (-r, -r), (0.0, -1.0)]}
    for c in (0, 1):
        arm = X[:, y == c]
        arm = arm[:, np.argsort(np.hypot(arm[0], arm[1]))]
        np.testing.assert_allclose(arm.T, expected[c], atol=1e-12)


def test_toy_defaults_are_the_documented_ones() -> None:
    def same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> None:
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])

    rng = np.random.default_rng
    same(make_circles(20, rng(1)), make_circles(20, rng(1), noise=0.05, factor=0.5))
    same(make_xor(20, rng(1)), make_xor(20, rng(1), noise=0.1))
    same(make_spirals(20, rng(1)), make_spirals(20, rng(1), noise=0.1, n_classes=2, turns=1.0))
    same(make_moons(20, rng(1)), make_moons(20, rng(1), noise=0.1))


def test_xor_makes_a_single_sample() -> None:
    X, y = make_xor(1, np.random.default_rng(0), noise=0.0)
    assert X.shape == (2, 1)
    assert y.tolist() == [int(X[0, 0] * X[1, 0] < 0)]


def test_circles_and_spirals_refuse_a_zero_factor_and_zero_turns() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"^factor must be"):
        make_circles(10, rng, factor=0.0)
    with pytest.raises(ValueError, match=r"^turns must be"):
        make_spirals(10, rng, turns=0.0)


def test_spirals_take_the_largest_turns_documented() -> None:
    largest_turns = float(np.finfo(np.float64).max) / (2 * math.pi) - 1
    X, _ = make_spirals(4, np.random.default_rng(0), noise=0.0, turns=largest_turns)
    assert np.isfinite(X).all()


def test_blob_centres_and_boxes_at_the_edges_of_the_dtype() -> None:
    f32 = float(np.finfo(np.float32).max)
    X, _ = make_blobs(3, np.random.default_rng(0), centers=[[f32]], noise=0.0, dtype=np.float32)  # one 1-D centre
    assert X.tolist() == [[f32] * 3]
    X, _ = make_blobs(3, np.random.default_rng(0), centers=[[3.0]], noise=0.0)
    assert X.tolist() == [[3.0] * 3]
    X, _ = make_blobs(2, np.random.default_rng(0), centers=1, n_features=1, center_box=(0.0, f32), noise=0.0, dtype=np.float32)
    assert np.isfinite(X).all() and (X >= 0).all()
    with pytest.raises(ValueError, match=r"^center_box must lie within the range of float32"):
        make_blobs(2, np.random.default_rng(0), center_box=(-1e39, 0.0), dtype=np.float32)
    with pytest.raises(ValueError, match=r"^center_box must be finite \(low, high\) with low < high, got \(1\.0, 1\.0\)$"):
        make_blobs(2, np.random.default_rng(0), center_box=(1.0, 1.0))
    for box in ([-1.0, 1.0], (-1.0, 0.0, 1.0)):
        with pytest.raises(TypeError, match=r"^center_box must be a tuple \(low, high\)"):
            make_blobs(2, np.random.default_rng(0), center_box=box)  # type: ignore[arg-type]


def test_overflowing_noise_counts_only_the_infinite_values() -> None:
    # the moons draw nothing before the noise: it is the generator's first standard_normal draw
    z = np.random.default_rng(0).standard_normal((2, 10))
    infinite = int(np.count_nonzero(np.abs(1e39 * z) > float(np.finfo(np.float32).max)))
    assert 0 < infinite < 20
    with pytest.raises(ValueError, match=rf"X would hold {infinite} infinite value\(s\)"):
        make_moons(10, np.random.default_rng(0), noise=1e39, dtype=np.float32)


# --- diagnostics ---------------------------------------------------------------------------


def test_statistics_observer_refuses_a_negative_margin_when_made() -> None:
    with pytest.raises(ValueError, match=r"^margin must be a finite number >= 0, got -1"):
        layer_statistics_observer(print, margin=-1.0)  # not at the first step it observes


def _cache(A: FloatArray, name: Activation, W: FloatArray) -> LayerCache:
    return LayerCache(np.zeros((W.shape[1], A.shape[1])), W, A.copy(), A, resolve_activation("activation", name))


def test_update_ratio_of_zero_weights_left_at_zero_is_zero() -> None:
    W = np.zeros((1, 2))
    (stats,) = layer_statistics((_cache(np.array([[0.5, 0.7]]), "sigmoid", W),), {"dW1": np.zeros((1, 2))}, {"W1": W})
    assert stats.update_ratio == 0.0  # not inf, nor a made-up 1


def test_a_zero_margin_counts_only_outputs_at_the_bounds() -> None:
    A = np.array([[0.0, 0.995, 1.0, 0.5]])  # sigmoid: only the exact bounds 0 and 1 with margin 0
    caches = (_cache(A, "sigmoid", np.ones((1, 2))),)
    (stats,) = layer_statistics(caches, {"dW1": np.zeros((1, 2))}, {"W1": np.ones((1, 2))}, margin=0.0)
    assert stats.saturated_fraction == 0.5
    log: list[StepStatistics] = []
    layer_statistics_observer(log.append, margin=0.0)  # accepted, as by layer_statistics


# --- augmentation --------------------------------------------------------------------------


def test_elastic_sigma_at_the_bound_is_accepted() -> None:
    X = np.ones((9, 1))
    out = elastic_distortion(X, np.random.default_rng(0), image_shape=(3, 3), alpha=0.0, sigma=1e5)
    np.testing.assert_array_equal(out, X)


def test_affine_ranges_refuse_a_zero_scale_and_bool_bounds() -> None:
    X = np.zeros((4, 1))
    with pytest.raises(ValueError, match=r"^scale must be a pair of numbers > 0 such as \(0\.9, 1\.1\), got \(0\.0, 1\.0\)$"):
        random_affine(X, np.random.default_rng(0), image_shape=(2, 2), scale=(0.0, 1.0))
    with pytest.raises(TypeError, match=r"^rotation\[0\] must be a number, got bool True$"):
        random_affine(X, np.random.default_rng(0), image_shape=(2, 2), rotation=(True, 5.0))


def test_elastic_alpha_is_bounded_by_the_largest_float_over_the_pixel_count() -> None:
    X = np.zeros((4, 1), dtype=np.float32)  # 2x2: alpha <= 3.4e38 / 4
    with pytest.raises(ValueError, match=r"^alpha=1e\+38 is too large for float32 images of 2x2"):
        elastic_distortion(X, np.random.default_rng(0), image_shape=(2, 2), alpha=1e38)


def test_image_shape_takes_positive_integers_only_and_rows_of_one_pixel() -> None:
    X = np.arange(4.0).reshape(4, 1)
    np.testing.assert_array_equal(random_shift(X, np.random.default_rng(0), image_shape=(1, 4), max_shift=0), X)
    for shape in ((2.0, 2), (-2, -2), (0, 4)):
        with pytest.raises(TypeError, match=r"^image_shape must be \(h, w\), two positive integers"):
            random_shift(X, np.random.default_rng(0), image_shape=shape, max_shift=0)  # type: ignore[arg-type]


def test_the_cached_grid_and_gaussian_matrix_are_read_only() -> None:
    # shared between calls through lru_cache: a write by one caller would change every later call
    assert not _centred_grid(3, 4, np.dtype(np.float32)).flags.writeable
    assert not _gaussian_matrix(5, 1.0, np.dtype(np.float64)).flags.writeable


def test_elastic_sigma_just_above_the_bound_is_refused() -> None:
    X = np.zeros((9, 1))
    with pytest.raises(ValueError, match=r"^sigma=100001 is too large: at most 1e\+05 pixels"):
        elastic_distortion(X, np.random.default_rng(0), image_shape=(3, 3), sigma=100_001.0)


def test_augmentation_defaults_are_the_documented_ones() -> None:
    X = np.random.default_rng(0).random((64, 3))
    shape = (8, 8)
    rng = np.random.default_rng
    np.testing.assert_array_equal(random_shift(X, rng(1), image_shape=shape), random_shift(X, rng(1), image_shape=shape, max_shift=2))
    np.testing.assert_array_equal(
        random_affine(X, rng(1), image_shape=shape),
        random_affine(X, rng(1), image_shape=shape, rotation=10.0, scale=(0.9, 1.1), shear=10.0, translation=2.0),
    )
    np.testing.assert_array_equal(
        elastic_distortion(X, rng(1), image_shape=shape), elastic_distortion(X, rng(1), image_shape=shape, alpha=34.0, sigma=4.0)
    )


def test_the_smallest_scale_allowed_is_accepted_and_keeps_only_the_centre() -> None:
    # scale must be >= 2 (1 + tan 0) (h + w) / largest: at exactly that scale every pixel but the
    # centre reads far outside the image
    smallest = 2 * (1 + 0.0) * (3 + 3) / float(np.finfo(np.float64).max)
    X = np.arange(1.0, 10.0).reshape(9, 1)
    out = random_affine(X, np.random.default_rng(0), image_shape=(3, 3), rotation=0, scale=(smallest, smallest), shear=0, translation=0)
    np.testing.assert_array_equal(out[:, 0], [0, 0, 0, 0, 5.0, 0, 0, 0, 0])
    # at that scale any translation overflows: the translation is named, not the scale
    with pytest.raises(ValueError, match=r"^translation 1 is too large"):
        random_affine(X, np.random.default_rng(0), image_shape=(3, 3), rotation=0, scale=(smallest, 1.0), shear=0, translation=1)


def test_a_translation_too_large_names_the_largest_allowed_by_hand() -> None:
    # float32 2x2 images at scale s with s * largest / 2 = 104: translation within +-(104 - 2 - 2) / 2 = 50
    largest = float(np.finfo(np.float32).max)
    s = 208 / largest
    with pytest.raises(ValueError, match=r"translation must lie within \+-50 pixels$"):
        random_affine(np.zeros((4, 1), np.float32), np.random.default_rng(0), image_shape=(2, 2), scale=(s, 1.0), shear=0, translation=60.0)


def test_the_gaussian_radius_rounds_four_sigma_to_the_nearest_whole() -> None:
    # sigma = 0.4: 4 sigma = 1.6 rounds to a radius of 2, so five taps as scipy's gaussian_filter
    taps = np.exp(-0.5 * (np.arange(-2, 3) / 0.4) ** 2)
    taps /= taps.sum()
    G = _gaussian_matrix(5, 0.4, np.dtype(np.float64))
    np.testing.assert_allclose(G[2], taps, rtol=1e-15)
    assert G[0, 2] > 0 and G[0, 3] == 0


def test_a_nan_pixel_is_not_refused_but_moves_with_its_image() -> None:
    X = np.array([[np.nan, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])  # two 2x2 images
    out = random_shift(X, np.random.default_rng(0), image_shape=(2, 2), max_shift=0)
    np.testing.assert_array_equal(out, X)  # NaN included: X is not checked for finite pixels


# --- serialization -------------------------------------------------------------------------


def test_a_refusal_is_never_taken_for_a_vanished_folder(tmp_path: Path) -> None:
    # only ENOENT, or EEXIST with nothing in the way, is retried: EACCES on an existing folder is not
    assert not _vanished(PermissionError(errno.EACCES, "Permission denied", str(tmp_path)))
    assert not _vanished(OSError(errno.EROFS, "Read-only file system"))
    assert _vanished(FileExistsError(errno.EEXIST, "File exists", str(tmp_path)))


def test_custom_activations_are_checked_as_records_before_the_file_is_read(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"^custom_activations\['mish'\] must be one of .* or an ActivationFunction record, got int 3$"):
        load_parameters(tmp_path / "absent.npz", custom_activations={"mish": 3})  # type: ignore[dict-item]


def test_a_write_leaves_other_temporaries_and_live_writers_alone(tmp_path: Path) -> None:
    target = tmp_path / "p.bin"
    unnamed = tmp_path / ".p.bin.fnn-notapid.tmp"  # matches the glob, not our naming: not ours
    huge = tmp_path / ".p.bin.fnn-99999999999999999999-abc.tmp"  # os.kill overflows: left alone
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as writer:
        try:
            live = tmp_path / f".p.bin.fnn-{writer.pid}-def.tmp"
            for file in (unnamed, huge, live):
                file.write_bytes(b"half")
            with atomic_write(target) as handle:
                handle.write(b"whole")
            assert unnamed.exists() and huge.exists() and live.exists()
            assert writer.poll() is None  # probed with signal 0, never sent a real signal
        finally:
            writer.kill()
    assert target.read_bytes() == b"whole"


def test_made_here_is_false_for_a_folder_made_meanwhile_and_raises_for_a_file(tmp_path: Path) -> None:
    assert not _made_here(tmp_path)
    file = tmp_path / "f"
    file.write_bytes(b"")
    with pytest.raises(FileExistsError):
        _made_here(file)


def test_make_folders_removes_the_folders_it_made_when_a_deeper_one_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made_here = serialization._made_here

    def failing(folder: Path) -> bool:
        if folder.name == "c":
            raise OSError(errno.EROFS, "Read-only file system", str(folder))
        return made_here(folder)

    monkeypatch.setattr(serialization, "_made_here", failing)
    with pytest.raises(OSError, match="Read-only"):
        make_folders(tmp_path / "a" / "b" / "c")
    assert list(tmp_path.iterdir()) == []  # a and b, made by this call, are gone again


def test_a_foreign_format_is_named_in_the_refusal(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, W1=np.ones((1, 1)), b1=np.zeros((1, 1)), __metadata__=np.array(json.dumps({"format": "other/2"})))
    with pytest.raises(ValueError, match=r"with format 'functional_nn\.parameters/1', got format 'other/2'$"):
        load_parameters(path)


def test_an_error_said_of_the_target_keeps_its_own_words() -> None:
    error = _naming_target(OSError(errno.ENOSPC, "quota of the team folder exceeded", "/tmp/.x.fnn-1-a.tmp"), "out.npz")
    assert str(error) == "[Errno 28] quota of the team folder exceeded: 'out.npz'"

    class QuotaError(OSError):  # a caller's class whose constructor takes one message
        def __init__(self, message: str) -> None:
            super().__init__(errno.ENOSPC, message)

    fallback = _naming_target(QuotaError("team quota exceeded"), "out.npz")
    assert type(fallback) is OSError and str(fallback) == "[Errno 28] team quota exceeded: 'out.npz'"


def test_metadata_that_is_not_a_single_string_reads_as_no_format(tmp_path: Path) -> None:
    path = tmp_path / "listed.npz"
    text = json.dumps({"format": "functional_nn.parameters/1"})
    np.savez(path, W1=np.ones((1, 1)), b1=np.zeros((1, 1)), __metadata__=np.array([text]))  # 1-D, not 0-d
    with pytest.raises(ValueError, match=r"got format None$"):
        load_parameters(path)


def _rewritten_metadata(path: Path, **changes: object) -> None:
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    metadata = json.loads(str(arrays["__metadata__"]))
    arrays["__metadata__"] = np.array(json.dumps({**metadata, **changes}))
    np.savez(path, **arrays)


@pytest.mark.parametrize("names", ["relu", ["relu", "relu"]], ids=["a string", "one too many"])
def test_saved_activations_must_be_a_list_of_one_name_per_layer(tmp_path: Path, names: object) -> None:
    path = save_parameters(tmp_path / "p.npz", {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))}, metadata={"activations": ["relu"]})
    _rewritten_metadata(path, activations=names)
    with pytest.raises(ValueError, match=r"metadata activations must be a list of 1 names, got "):
        load_parameters(path)


def test_a_file_without_write_bits_is_read_only_whatever_its_execute_bits(tmp_path: Path) -> None:
    target = tmp_path / "p.bin"
    target.write_bytes(b"old")
    target.chmod(0o445)  # r--r--r-x: no write bit, an execute bit for others
    with pytest.raises(PermissionError, match="read-only"):
        with atomic_write(target) as handle:
            handle.write(b"new")
    assert target.read_bytes() == b"old"


def test_a_non_str_key_in_a_list_is_found_before_the_items_after_it(tmp_path: Path) -> None:
    params: dict[str, FloatArray] = {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))}
    with pytest.raises(TypeError, match=r"^metadata\['extra'\] cannot be saved: it holds the key 1 \(int\)"):
        save_parameters(tmp_path / "p.npz", params, metadata={"activations": ["relu"], "extra": [{1: "x"}, "y"]})


def test_saved_metadata_loads_back_with_its_keys_sorted(tmp_path: Path) -> None:
    params: dict[str, FloatArray] = {"W1": np.ones((1, 2)), "b1": np.zeros((1, 1))}
    path = save_parameters(tmp_path / "p.npz", params, metadata={"zeta": 1, "activations": ["relu"], "alpha": 2})
    keys = list(load_parameters(path).metadata)
    assert keys == sorted(keys) and {"alpha", "zeta", "format", "library_version"} <= set(keys)


# --- checkpoints ---------------------------------------------------------------------------


def _state(epoch: int, best_params: dict[str, FloatArray] | None = None) -> TrainState:
    params: dict[str, FloatArray] = {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))}
    return TrainState(epoch, params, OptimizerState(step=epoch, slots={}), (), best_params=best_params)


def test_save_checkpoint_keeps_the_last_two_by_default(tmp_path: Path) -> None:
    for epoch in (1, 2, 3, 4):
        save_checkpoint(tmp_path, _state(epoch), rng=None, run={})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-000003.npz", "checkpoint-000004.npz"]


def test_save_checkpoint_refuses_to_keep_none(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^keep_last must be >= 1, got 0$"):
        save_checkpoint(tmp_path, _state(1), rng=None, run={}, keep_last=0)
    assert list(tmp_path.iterdir()) == []


def test_a_best_epoch_of_zero_round_trips(tmp_path: Path) -> None:
    state = _state(1)._replace(best_epoch=0, best_value=0.5)
    assert load_checkpoint(save_checkpoint(tmp_path, state, rng=None, run={})).state.best_epoch == 0


def test_best_params_are_checked_before_anything_is_written(tmp_path: Path) -> None:
    other_shape: dict[str, FloatArray] = {"W1": np.ones((3, 3)), "b1": np.zeros((3, 1))}  # valid alone, not like params
    with pytest.raises(ValueError, match=r"state\.best_params"):
        save_checkpoint(tmp_path, _state(1, other_shape), rng=None, run={})
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_with_non_finite_params_is_refused_on_load(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path, _state(1), rng=None, run={})
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["params/W1"] = np.full((2, 3), np.inf)
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match=r"is not a valid functional_nn checkpoint: ValueError: .*params"):
        load_checkpoint(path)


def test_load_checkpoint_refuses_a_path_ending_in_a_separator_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^path must name a file, got '.*/', which ends in a separator"):
        load_checkpoint(f"{tmp_path}/")  # not read as the folder, a damaged checkpoint


def test_a_setting_that_was_a_mapping_and_is_now_a_number_is_a_mismatch() -> None:
    assert mismatches({"a": {"x": 1}}, {"a": 3}) == ["a: checkpoint {'x': 1}, now 3"]
    assert mismatches({"a": 3}, {"a": {"x": 1}}) == ["a: checkpoint 3, now {'x': 1}"]


# --- digit files ---------------------------------------------------------------------------


_DIGITS_HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))
_GOOD_ROW, _BAD_ROW = ",".join(["3"] + ["0"] * 784), ",".join(["12"] + ["0"] * 784)  # label 12: the slow path names it


@pytest.mark.parametrize(
    ("rows", "line"),
    [([_GOOD_ROW, _BAD_ROW], 3), ([_BAD_ROW], 2), (["", _BAD_ROW], 3)],
    ids=["after a good row", "the only row", "after a blank line"],
)
def test_a_csv_without_a_final_newline_names_its_bad_last_line(tmp_path: Path, rows: list[str], line: int) -> None:
    path = tmp_path / "digits.csv"
    path.write_text(_DIGITS_HEADER + "\n" + "\n".join(rows))  # no newline after the last row
    with pytest.raises(ValueError, match=rf"line {line}, column 1 \('label'\): labels must lie in 0\.\.9, got 12$"):
        load_digits_csv(path)


def test_unicode_padded_cells_take_the_slow_path_and_give_every_row(tmp_path: Path) -> None:
    header = _DIGITS_HEADER
    rows = [",".join(["3", "\u00a07"] + ["0"] * 783), ",".join(["9", "255"] + ["1"] * 783)]  # a no-break space
    path = tmp_path / "digits.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    X, y = load_digits_csv(path)
    assert y is not None and y.tolist() == [3, 9]
    assert X.shape == (784, 2) and X[0].tolist() == [7, 255] and X[1:, 1].tolist() == [1] * 783


@pytest.mark.parametrize(("header", "shown"), [("a,b,c", "3 columns 'a,b,c'"), ("a,b,c,d", "4 columns 'a,b,c,...'")])
def test_a_wrong_header_is_shown_by_its_first_three_columns(tmp_path: Path, header: str, shown: str) -> None:
    path = tmp_path / "digits.csv"
    path.write_text(f"{header}\n1,2,3\n")
    with pytest.raises(ValueError, match=rf"got {shown}$"):
        load_digits_csv(path)


def test_a_tab_separated_header_is_shown_cut_short_and_named(tmp_path: Path) -> None:
    """Read as one column, its 6 KB header would fill the screen; the separator is the mistake."""
    path = tmp_path / "digits.tsv"
    path.write_text("\t".join(["label", *(f"pixel{i}" for i in range(784))]) + "\n" + "\t".join(["1"] + ["0"] * 784) + "\n")
    shown = "\t".join(["label", *(f"pixel{i}" for i in range(20))])[:60]
    with pytest.raises(ValueError, match=re.escape(f"got 1 column '{shown}...'; its cells are separated by tabs, not commas") + "$"):
        load_digits_csv(path)


# --- image folders -------------------------------------------------------------------------


def test_image_folder_defaults_are_64_by_64_grayscale_float32(tmp_path: Path) -> None:
    Image = pytest.importorskip("PIL.Image")
    for name, gray in (("cats", 51), ("dogs", 204)):
        (tmp_path / name).mkdir()
        Image.new("L", (5, 3), color=gray).save(tmp_path / name / "a.png")
    folder = load_image_folder(tmp_path)
    assert folder.image_shape == (64, 64, 1)
    assert folder.X.shape == (64 * 64, 2) and folder.X.dtype == np.float32
    np.testing.assert_array_equal(folder.X[:, 0], np.float32(51) / np.float32(255))  # a uniform picture stays uniform
    np.testing.assert_array_equal(folder.X[:, 1], np.float32(204) / np.float32(255))


def _idx(path: Path, code: int, values: npt.NDArray[Any]) -> Path:
    header = bytes([0, 0, code, values.ndim]) + np.array(values.shape, dtype=">u4").tobytes()
    path.write_bytes(header + values.tobytes())
    return path


@pytest.mark.parametrize(("code", "images"), [(0x09, np.zeros((1, 28, 28), np.int8)), (0x08, np.zeros((1, 27, 28), np.uint8))], ids=["int8", "27x28"])
def test_idx_digits_must_be_uint8_images_of_28_by_28(tmp_path: Path, code: int, images: npt.NDArray[Any]) -> None:
    labels = _idx(tmp_path / "labels", 0x08, np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match=r"must hold uint8 images of shape \(m, 28, 28\), got "):
        load_idx_digits(_idx(tmp_path / "images", code, images), labels)


def test_classes_given_as_one_string_are_refused_not_read_letter_by_letter(tmp_path: Path) -> None:
    pytest.importorskip("PIL.Image")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    with pytest.raises(TypeError, match=r"^classes must be a sequence of sub-folder names such as \('cats', 'dogs'\), got 'ab'$"):
        load_image_folder(tmp_path, classes="ab")
