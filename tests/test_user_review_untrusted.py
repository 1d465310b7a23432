"""A user's review of loading files one did not write: a parameters file or a checkpoint from
elsewhere is refused in one clear error naming it, before a lying header allocates its claim,
an entry the loader does not use is decompressed, or a nonsense field is taken for a setting."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from functional_nn import initialize_parameters, load_parameters, save_parameters
from functional_nn.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from functional_nn.fold_state import EpochRecord, TrainState
from functional_nn.optimizers import adam


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


def _lying_npy(shape: tuple[int, ...]) -> bytes:
    """An ``.npy`` entry whose header claims ``shape`` of float64 but which holds 24 bytes."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + bytes(24)


def _rewritten(source: Path, target: Path, replaced: dict[str, bytes], added: dict[str, bytes]) -> Path:
    """``source``'s entries, some ``replaced`` (by member name), then the ``added`` ones."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            copy.writestr(info.filename, replaced.get(info.filename, original.read(info)))
        for name, data in added.items():
            copy.writestr(name, data)
    return target


@pytest.fixture
def params_file(rng: np.random.Generator, tmp_path: Path) -> Path:
    params = initialize_parameters([2, 3, 1], rng)
    return save_parameters(tmp_path / "params.npz", params, metadata={"activations": ["relu", "sigmoid"]})


@pytest.fixture
def checkpoint_file(rng: np.random.Generator, tmp_path: Path) -> Path:
    params = initialize_parameters([2, 3, 1], rng)
    state = TrainState(
        epoch=1, params=params, optimizer_state=adam(1e-3).init(params), history=(EpochRecord(1, 0.5, 0.9, None, None),)
    )
    return save_checkpoint(tmp_path / "checkpoints", state, rng=np.random.default_rng(1), run={"seed": 0})


def _with_meta(checkpoint: Path, target: Path, **changes: object) -> Path:
    meta = json.loads(str(np.load(checkpoint)["meta"]))
    return _rewritten(checkpoint, target, {"meta.npy": _npy(np.array(json.dumps({**meta, **changes})))}, {})


def test_a_header_claiming_a_terabyte_array_is_refused_as_damage_not_a_memory_error(params_file: Path, tmp_path: Path) -> None:
    hostile = _rewritten(params_file, tmp_path / "hostile.npz", {"W1.npy": _lying_npy((10**6, 10**6))}, {})
    claim = re.escape("its entry 'W1' claims a float64 array of shape (1000000, 1000000) (8,000,000,000,000 bytes) but holds 24 bytes")
    with pytest.raises(ValueError, match=f"^{re.escape(str(hostile))} cannot be read as a parameter file \\({claim}\\)"):
        load_parameters(hostile)


def _with_damaged_tail(path: Path, name: str) -> Path:
    """``path`` with a stored entry ``name`` added whose header is sound but whose data fails
    its CRC: only reading its data to the end, as decompressing a zip bomb does, shows it."""
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(name, _npy(np.frombuffer(b"DATA" * 16_384 + b"TAILMARK", dtype="<f8")))  # past a first read
    data = path.read_bytes()
    assert data.count(b"TAILMARK") == 1
    path.write_bytes(data.replace(b"TAILMARK", b"TAILMARX"))
    return path


def test_an_entry_a_parameters_file_should_not_hold_is_refused_before_its_data_is_read(params_file: Path, tmp_path: Path) -> None:
    hostile = _with_damaged_tail(_rewritten(params_file, tmp_path / "hostile.npz", {}, {}), "junk.npy")
    with pytest.raises(ValueError, match=r"^the arrays of .*hostile\.npz has an unexpected key 'junk'"):
        load_parameters(hostile)


def test_an_entry_a_checkpoint_does_not_use_is_not_read(checkpoint_file: Path, tmp_path: Path) -> None:
    hostile = _with_damaged_tail(_rewritten(checkpoint_file, tmp_path / "checkpoint-000001.npz", {}, {}), "junk.npy")
    assert load_checkpoint(hostile).state.epoch == 1


def test_a_foreign_entry_claiming_a_terabyte_is_refused_as_damage_not_a_memory_error(params_file: Path, tmp_path: Path) -> None:
    hostile = _rewritten(params_file, tmp_path / "hostile.npz", {}, {"junk.npy": _lying_npy((10**12,))})
    with pytest.raises(ValueError, match=r"cannot be read as a parameter file \(its entry 'junk' claims a float64 array of shape \(1000000000000,\)"):
        load_parameters(hostile)


def test_a_lying_header_in_a_checkpoint_is_a_checkpoint_error(checkpoint_file: Path, tmp_path: Path) -> None:
    hostile = _rewritten(checkpoint_file, tmp_path / "checkpoint-000001.npz", {"params/W1.npy": _lying_npy((10**12,))}, {})
    with pytest.raises(CheckpointError, match=r"is not a readable checkpoint .*its entry 'params/W1' claims a float64 array"):
        load_checkpoint(hostile)


def test_an_entry_named_twice_is_refused_rather_than_one_of_them_taken(params_file: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        hostile = _rewritten(params_file, tmp_path / "hostile.npz", {}, {"W1.npy": _npy(np.zeros((3, 2)))})
    with pytest.raises(ValueError, match=r"cannot be read as a parameter file \(it holds the entry 'W1' more than once\)"):
        load_parameters(hostile)


def test_metadata_nested_too_deep_is_a_value_error_naming_the_file(params_file: Path, tmp_path: Path) -> None:
    metadata = str(np.load(params_file)["__metadata__"])
    deep = metadata[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    hostile = _rewritten(params_file, tmp_path / "hostile.npz", {"__metadata__.npy": _npy(np.array(deep))}, {})
    with pytest.raises(ValueError, match=r"hostile\.npz: its metadata is not valid JSON \(it nests deeper than Python can read\)"):
        load_parameters(hostile)


def test_a_checkpoint_meta_nested_too_deep_is_a_checkpoint_error(checkpoint_file: Path, tmp_path: Path) -> None:
    meta = str(np.load(checkpoint_file)["meta"])
    deep = meta[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    hostile = _rewritten(checkpoint_file, tmp_path / "checkpoint-000001.npz", {"meta.npy": _npy(np.array(deep))}, {})
    with pytest.raises(CheckpointError, match=r"its 'meta' entry nests deeper than Python can read"):
        load_checkpoint(hostile)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stopped": "no"}, r"TypeError: state\.stopped must be a bool, got str 'no'"),  # bool("no") is True: a stopped run
        ({"epoch": -5}, r"ValueError: state\.epoch must be >= 0, got -5"),
        ({"epoch": 2.7}, r"TypeError: state\.epoch must be an integer, got float 2\.7"),  # int() made it epoch 2
        ({"optimizer_step": -3}, r"ValueError: state\.optimizer_state\.step must be >= 0, got -3"),
        ({"best_value": "x"}, r"TypeError: state\.best_value must be a float or None, got str 'x'"),
    ],
)
def test_a_checkpoint_is_checked_on_loading_as_on_saving(
    checkpoint_file: Path, tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    hostile = _with_meta(checkpoint_file, tmp_path / "checkpoint-000001.npz", **changes)
    with pytest.raises(CheckpointError, match=r"checkpoint-000001\.npz is not a valid functional_nn checkpoint: " + message):
        load_checkpoint(hostile)
