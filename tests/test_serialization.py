"""Keeping a model: atomic .npz files with JSON metadata, read back bit for bit and checked."""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn import __version__
from functional_nn.initializers import initialize_parameters
from functional_nn.serialization import FORMAT, atomic_write, load_parameters, save_parameters
from functional_nn.types import FloatArray


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_bitwise(tmp_path: Path, rng: np.random.Generator, dtype: type[np.float32] | type[np.float64]) -> None:
    params = initialize_parameters([5, 4, 3], rng, dtype=dtype, scheme="uniform")
    for value in params.values():
        value.flags.writeable = False
    path = save_parameters(
        tmp_path / "model.npz", params, metadata={"activations": ["relu", "softmax"], "loss": "categorical_cross_entropy", "test_accuracy": 0.98}
    )
    assert path == tmp_path / "model.npz"
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it, not the temporary's 0600
    loaded, metadata, _ = load_parameters(path)
    assert list(loaded) == ["W1", "b1", "W2", "b2"]
    for key, value in params.items():
        assert loaded[key].dtype == dtype and loaded[key].shape == value.shape
        assert loaded[key].tobytes() == value.tobytes()
    assert metadata == {
        "format": FORMAT,
        "layer_sizes": [5, 4, 3],
        "activations": ["relu", "softmax"],
        "dtype": np.dtype(dtype).name,
        "library_version": __version__,
        "loss": "categorical_cross_entropy",
        "test_accuracy": 0.98,
    }


def test_the_file_holds_no_pickle(tmp_path: Path, rng: np.random.Generator) -> None:
    path = save_parameters(tmp_path / "m.npz", initialize_parameters([2, 1], rng), metadata={"activations": ["sigmoid"]})
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["W1.npy", "__metadata__.npy", "b1.npy"]
    with np.load(path, allow_pickle=False) as npz:
        assert str(npz["__metadata__"]).startswith("{")


def test_a_truncated_file_is_reported(tmp_path: Path, rng: np.random.Generator) -> None:
    path = save_parameters(tmp_path / "m.npz", initialize_parameters([3, 2], rng), metadata={"activations": ["softmax"]})
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 10):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="truncated or damaged"):
            load_parameters(path)


def test_a_foreign_npz_is_reported(tmp_path: Path) -> None:
    np.savez(tmp_path / "foreign.npz", weights=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not one written by save_parameters"):
        load_parameters(tmp_path / "foreign.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        load_parameters(tmp_path / "single.npy")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="cannot be read"):
        load_parameters(tmp_path / "text.npz")
    np.savez(tmp_path / "objects.npz", W1=np.array([None, 1], dtype=object))
    with pytest.raises(ValueError, match="cannot be read"):
        load_parameters(tmp_path / "objects.npz")


def _tamper(path: Path, **arrays: Any) -> None:
    with np.load(path, allow_pickle=False) as npz:
        contents = {key: npz[key] for key in npz.files}
    np.savez(path, **{**contents, **arrays})


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"__metadata__": np.array('{"format": "other/1"}')}, "format 'functional_nn.parameters/1'"),
        ({"__metadata__": np.array("{not json")}, "not valid JSON"),
        ({"b2": np.zeros((3, 1))}, r"\['b2'\] must have shape \(2, 1\)"),
        ({"W3": np.zeros((2, 2))}, "missing \\['b3'\\]"),
        ({"W1": np.zeros((4, 3), dtype=np.float32), "b1": np.zeros((4, 1), dtype=np.float32), "W2": np.zeros((2, 4), dtype=np.float32), "b2": np.zeros((2, 1), dtype=np.float32)}, "metadata dtype is 'float64' but its arrays say 'float32'"),
    ],
)
def test_contents_must_match_the_metadata(tmp_path: Path, rng: np.random.Generator, arrays: dict[str, Any], message: str) -> None:
    path = save_parameters(tmp_path / "m.npz", initialize_parameters([3, 4, 2], rng), metadata={"activations": ["tanh", "softmax"]})
    _tamper(path, **arrays)
    with pytest.raises(ValueError, match=message):
        load_parameters(path)


def test_save_checks_its_arguments(tmp_path: Path, rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 2, 1], rng)
    with pytest.raises(ValueError, match="must hold 'activations'"):
        save_parameters(tmp_path / "m.npz", params, metadata={})
    with pytest.raises(ValueError, match="one activation per layer"):
        save_parameters(tmp_path / "m.npz", params, metadata={"activations": ["relu"]})
    with pytest.raises(ValueError, match="layer_sizes"):
        save_parameters(tmp_path / "m.npz", params, metadata={"activations": ["relu", "sigmoid"], "layer_sizes": [3, 9, 1]})
    with pytest.raises(TypeError, match="JSON values"):
        save_parameters(tmp_path / "m.npz", params, metadata={"activations": ["relu", "sigmoid"], "when": object()})
    with pytest.raises(ValueError, match="missing"):
        save_parameters(tmp_path / "m.npz", {"W1": params["W1"]}, metadata={"activations": ["relu"]})
    assert list(tmp_path.iterdir()) == []


def test_numpy_scalars_in_metadata_become_json_numbers(tmp_path: Path, rng: np.random.Generator) -> None:
    path = save_parameters(
        tmp_path / "m.npz", initialize_parameters([2, 1], rng), metadata={"activations": ["sigmoid"], "accuracy": np.float32(0.5)}
    )
    assert load_parameters(path).metadata["accuracy"] == 0.5


def test_an_older_files_metadata_saves_again_as_this_version(tmp_path: Path, rng: np.random.Generator) -> None:
    # load_parameters' metadata, saved again as it is: the file says which version wrote it
    path = save_parameters(
        tmp_path / "m.npz", initialize_parameters([2, 1], rng), metadata={"activations": ["sigmoid"], "library_version": "0.0.9"}
    )
    assert load_parameters(path).metadata["library_version"] == __version__


def test_a_failed_write_leaves_no_partial_file_and_keeps_the_old_one(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = initialize_parameters([3, 2], rng)
    path = save_parameters(tmp_path / "m.npz", params, metadata={"activations": ["softmax"]})
    before = path.read_bytes()

    def failing_savez(file: Any, **arrays: FloatArray) -> None:
        file.write(b"PK\x03\x04 half of a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        save_parameters(path, params, metadata={"activations": ["softmax"]})
    with pytest.raises(OSError, match="disk full"):
        save_parameters(tmp_path / "new.npz", params, metadata={"activations": ["softmax"]})
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    assert path.read_bytes() == before


def test_atomic_write_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    with atomic_write(target) as handle:
        handle.write(b"one")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"two")
        raise RuntimeError("stop")
    assert target.read_bytes() == b"one" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_a_damaged_compressed_file_is_reported_with_its_name(tmp_path: Path, rng: np.random.Generator) -> None:
    params = initialize_parameters([30, 20, 3], rng)
    path = save_parameters(tmp_path / "model.npz", params, metadata={"activations": ["relu", "softmax"]})
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    np.savez_compressed(path, **arrays)  # a user may compress it: it stays loadable
    assert load_parameters(path).params["W1"].tobytes() == params["W1"].tobytes()
    whole = path.read_bytes()
    for offset in range(whole.index(b"W1.npy"), len(whole)):  # the first flip inside W1 that zlib itself refuses
        path.write_bytes(whole[:offset] + bytes([whole[offset] ^ 0xFF]) + whole[offset + 1 :])
        try:
            with np.load(path) as archive:
                archive["W1"]
        except zlib.error:
            break
        except Exception:
            continue
    else:
        raise AssertionError("no single byte of W1 makes zlib fail")
    with pytest.raises(
        ValueError,
        match=rf"{path} cannot be read as a parameter file \(a compressed entry is damaged \(Error -3 while decompressing data.*\)\); "
        "it may be truncated or damaged: save it again",
    ):
        load_parameters(path)


def test_writing_into_a_missing_directory_names_it_and_not_a_temporary_file(tmp_path: Path, rng: np.random.Generator) -> None:
    params = initialize_parameters([3, 2], rng)
    target = tmp_path / "missing" / "model.npz"
    with pytest.raises(FileNotFoundError, match=rf"^cannot write {target}: the directory {tmp_path / 'missing'} does not exist$"):
        save_parameters(target, params, metadata={"activations": ["linear"]})
    (tmp_path / "file").write_text("")
    with pytest.raises(FileNotFoundError, match=rf"^cannot write {tmp_path / 'file' / 'x.npz'}: the directory {tmp_path / 'file'} is not a directory$"):
        with atomic_write(tmp_path / "file" / "x.npz") as handle:
            handle.write(b"never")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_loading_a_folder_says_to_give_the_file_in_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as raised:
        load_parameters(tmp_path)
    assert str(raised.value) == f"{tmp_path} is a folder: give the path of a parameter file, such as {tmp_path / 'params.npz'}"


def test_a_read_only_file_is_refused_even_where_the_process_may_write_it(tmp_path: Path, rng: np.random.Generator) -> None:
    # root may write any file (os.access says so): the file's own mode still says read-only
    path = save_parameters(tmp_path / "m.npz", initialize_parameters([2, 1], rng), metadata={"activations": ["sigmoid"]})
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        with pytest.raises(PermissionError, match=r"m\.npz: the file is read-only"):
            save_parameters(path, initialize_parameters([2, 1], rng), metadata={"activations": ["sigmoid"]})
        assert path.read_bytes() == before
    finally:
        path.chmod(0o644)
