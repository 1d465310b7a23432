"""``scripts/sweep.py`` run for real, and ``scripts/neuron_basics.py`` run as a program.

What the sweep's table, best parameters, summary and lines hold, checked against each setting
of the grid its docstring describes (built here, not taken from the script) trained alone by
``distributed.run_settings`` on data this file prepares from the pixels itself (scaled to
[0, 1], one-hot labels, the subset asked for, MNIST's dev set); an earlier sweep's outputs;
an MNIST file that is not MNIST, and the help's words; the default output folder; the
picture's lines; a running scheduler (one worker of threads started here, its tasks read
back from the scheduler), and one whose worker cannot import the library; ``--workers 1``'s
local process; and both files run as programs (the sweep sets one BLAS thread only then).

Nothing is stood in for: every sweep trains its 12 runs for real on a few dozen random digits
cached as MNIST, so each test takes about a second. The picture's test wraps ``save_figure``
only to keep the figure it is handed; the real save still writes the file. Left to other
files: the tie-break (``test_scripts_exact_values.py``), the cluster's results equal to the
sequential ones (``test_distributed.py``), the refusals (``test_scripts_*``). Not pinned: the
progress bar (drawn only on a terminal), the kernels' warm-up and where a local cluster's data
is written (they change the time a sweep takes, not what it writes).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import runpy
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from functional_nn import distributed as dist
from functional_nn import TrainResult, one_hot, plots, scale_pixels
from functional_nn.data.mnist import MNIST_SHA256, MNISTPixels
from functional_nn.optimizers import adam
from functional_nn.serialization import load_parameters
from functional_nn.types import Activation
from conftest import WriteMNISTCache
from test_distributed import _scheduler_address
from test_scripts_mnist import _small_mnist

if TYPE_CHECKING:
    from distributed import Client

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import sweep  # noqa: E402  (the scripts folder is not a package)

COLUMNS = ["learning_rate", "hidden", "keep_prob", "epochs", "seed", "train_cost", "train_accuracy", "dev_cost", "dev_accuracy"]


@pytest.fixture
def small(mnist_cache: WriteMNISTCache) -> MNISTPixels:
    """40 training, 10 dev and 10 test random digits cached as MNIST, read by the real loader."""
    pixels = _small_mnist(np.random.default_rng(3), 40, 10, 10)
    mnist_cache(pixels)
    return pixels


GRID = [(rate, width, keep) for rate in (3e-4, 1e-3, 3e-3) for width in (64, 256) for keep in (1.0, 0.8)]


def _documented_grid(epochs: int, batch_size: int, seed: int) -> list[dist.RunSettings]:
    """The 12 runs as the script's docstring describes them, built here: 784-h-10 ReLU and
    softmax with cross-entropy, Adam at each rate, dropout only where it keeps fewer than all."""
    relu_softmax: tuple[Activation, ...] = ("relu", "softmax")
    return [
        dist.RunSettings((784, width, 10), relu_softmax, "categorical_cross_entropy", adam(rate), epochs, seed=seed,
                         batch_size=batch_size, keep_probs=None if keep == 1.0 else keep)
        for rate, width, keep in GRID
    ]  # fmt: skip


def test_the_grid_is_the_documented_one() -> None:
    made, documented = sweep.grid(3, 7, 4), _documented_grid(3, 7, 4)
    same = adam(1.0)  # an Optimizer holds functions, so two adam(r) differ: compared by name and hyperparameters below
    assert [s._replace(optimizer=same) for s in made] == [s._replace(optimizer=same) for s in documented]
    assert [(s.optimizer.name, s.optimizer.hyperparameters) for s in made] == [(s.optimizer.name, s.optimizer.hyperparameters) for s in documented]


def _alone(pixels: MNISTPixels, subset: int, epochs: int, batch_size: int, seed: int) -> list[TrainResult]:
    """Each setting of the documented grid trained by itself on the first ``subset`` digits, scaled here."""
    X = scale_pixels(pixels.X_train[:, :subset], dtype=np.float32)
    Y = one_hot(pixels.y_train[:subset], 10, dtype=np.float32)
    dev = (scale_pixels(pixels.X_dev, dtype=np.float32), one_hot(pixels.y_dev, 10, dtype=np.float32))
    data = dist.SweepData(X, Y, dev)
    return [dist.run_settings(setting, data) for setting in _documented_grid(epochs, batch_size, seed)]


def _dev_accuracy(result: TrainResult) -> float:
    accuracy = result.history[-1].dev_accuracy
    assert accuracy is not None  # every run had a dev set
    return accuracy


def _table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def _printed(capsys: pytest.CaptureFixture[str]) -> tuple[list[str], dict[str, Any]]:
    """The lines the sweep printed, and its last one read as the JSON summary."""
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert isinstance(summary, dict)
    return lines, summary


# --------------------------------------------------------------------------------------------
# the command line, and an earlier sweep's outputs


def test_the_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert vars(sweep.parse_args([])) == {
        "workers": None, "scheduler": None, "sequential": False, "epochs": 2, "batch_size": 128, "seed": 0, "subset": None,
        "csv": None, "dev_size": None, "data_dir": None, "dashboard": False, "out": None, "overwrite": False, "idx": None,
    }  # fmt: skip


@pytest.mark.parametrize("name", ["sweep.csv", "sweep.png", "best_params.npz"])
def test_each_output_of_an_earlier_sweep_is_kept_unless_overwrite_is_given(
    name: str, tmp_path: Path, small: MNISTPixels, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("earlier")
    assert sweep.main(["--sequential", "--subset", "10", "--epochs", "1", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"error: --out {out} already holds {name} from an earlier run: choose another --out, or pass --overwrite to replace them\n"
    )
    assert [p.name for p in out.iterdir()] == [name] and (out / name).read_text() == "earlier"
    assert sweep.main(["--sequential", "--subset", "10", "--epochs", "1", "--out", str(out), "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["best_params.npz", "sweep.csv", "sweep.png"]
    assert (out / name).read_bytes() != b"earlier"


def test_an_mnist_file_that_is_not_mnist_is_one_error_line_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("FUNCTIONAL_NN_DATA", str(data))
    placed = data / "mnist.pkl.gz"
    placed.write_bytes(b"not mnist")
    digest = hashlib.sha256(b"not mnist").hexdigest()
    out = tmp_path / "out"
    assert sweep.main(["--sequential", "--epochs", "1", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # not even the line announcing the runs
    assert captured.err == (
        f"error: {placed} has sha256 {digest} (9 bytes), expected {MNIST_SHA256}: "
        "it is not the MNIST file this library knows, so it was not unpickled and nothing was cached\n"
    )
    assert not out.exists()
    assert [p.name for p in data.iterdir()] == ["mnist.pkl.gz"]


def test_the_help_names_the_schedulers_address_and_says_what_each_switch_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as stopped:
        sweep.parse_args(["--help"])
    assert stopped.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines to the terminal's width
    assert "[--workers WORKERS | --scheduler ADDRESS | --sequential]" in text
    assert "--scheduler ADDRESS a running Dask scheduler, e.g. tcp://HOST:8786" in text
    assert "--sequential run every setting in this process, one after another" in text
    assert "--dashboard serve the local cluster's dashboard on port 8787" in text
    assert "--overwrite replace the outputs of an earlier sweep in --out" in text


# --------------------------------------------------------------------------------------------
# in this process


@pytest.mark.parametrize("subset", [25, 40])  # 40: every training digit there is, taken
def test_each_row_is_its_setting_trained_alone_and_the_best_run_is_kept(
    subset: int, tmp_path: Path, small: MNISTPixels, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    started = time.perf_counter()
    argv = ["--sequential", "--subset", str(subset), "--epochs", "2", "--batch-size", "7", "--seed", "4", "--out", str(out)]
    assert sweep.main(argv) == 0
    results = _alone(small, subset, epochs=2, batch_size=7, seed=4)
    expected = [
        {"learning_rate": rate, "hidden": width, "keep_prob": keep, "epochs": 2, "seed": 4,
         "train_cost": r.history[-1].cost, "train_accuracy": r.history[-1].accuracy,
         "dev_cost": r.history[-1].dev_cost, "dev_accuracy": r.history[-1].dev_accuracy}
        for (rate, width, keep), r in zip(GRID, results, strict=True)
    ]  # fmt: skip
    # every figure bitwise the run's own: a float written by csv reads back as the same float
    assert [{c: float(row[c]) for c in COLUMNS} for row in _table(out / "sweep.csv")] == expected
    accuracies = [_dev_accuracy(r) for r in results]
    best = accuracies.index(max(accuracies))  # the first of those tied for the best
    params, metadata, _ = load_parameters(out / "best_params.npz")
    assert params.keys() == results[best].params.keys()
    for name, value in results[best].params.items():
        np.testing.assert_array_equal(params[name], value, strict=True)
    assert metadata["activations"] == ["relu", "softmax"] and metadata["loss"] == "categorical_cross_entropy"
    assert metadata["config"] == expected[best] and metadata["dev_accuracy"] == accuracies[best]
    lines, summary = _printed(capsys)
    assert f"12 runs of 2 epochs on {subset} samples, in this process" in lines
    assert lines[-3:-1] == [f"best: {json.dumps(expected[best])}", f"wrote sweep.csv, sweep.png, best_params.npz to {out}"]
    seconds = time.perf_counter() - started
    assert summary.keys() == {"runs", "best", "best_dev_accuracy", "workers", "sweep_seconds", "seconds", "out"}
    assert (summary["runs"], summary["best"], summary["best_dev_accuracy"], summary["workers"], summary["out"]) == (
        12, best, accuracies[best], 0, str(out)
    )  # fmt: skip
    # seconds to 0.01 s; 12 trainings take more than the 5 ms that would round to 0
    assert all(isinstance(summary[k], float) and summary[k] == round(summary[k], 2) for k in ("sweep_seconds", "seconds"))
    assert 0 < summary["sweep_seconds"] <= summary["seconds"] <= round(seconds, 2) + 0.01
    assert sorted(p.name for p in out.iterdir()) == ["best_params.npz", "sweep.csv", "sweep.png"]
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_the_sweep_writes_its_table_and_parameters_and_says_so(
    tmp_path: Path, small: MNISTPixels, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError, as without the extra
    out = tmp_path / "out"
    assert sweep.main(["--sequential", "--subset", "10", "--epochs", "1", "--out", str(out)]) == 0
    lines, _ = _printed(capsys)
    assert lines[-2] == f"wrote sweep.csv, best_params.npz to {out}"
    assert sorted(p.name for p in out.iterdir()) == ["best_params.npz", "sweep.csv"]


def test_without_out_the_sweep_writes_into_runs_sweep_and_the_time_it_started(
    tmp_path: Path, small: MNISTPixels, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    before = datetime.now().replace(microsecond=0)
    assert sweep.main(["--sequential", "--subset", "10", "--epochs", "1"]) == 0
    after = datetime.now()
    out = Path(_printed(capsys)[1]["out"])
    assert out.parent == Path("runs") and out.name.startswith("sweep-")
    assert before <= datetime.strptime(out.name, "sweep-%Y%m%d-%H%M%S") <= after
    assert sorted(p.name for p in (tmp_path / out).iterdir()) == ["best_params.npz", "sweep.csv", "sweep.png"]


def test_a_sweep_started_in_the_same_second_as_another_writes_a_folder_of_its_own(
    tmp_path: Path, small: MNISTPixels, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    now = datetime.now()
    taken = [Path("runs") / f"sweep-{now + timedelta(seconds=s):%Y%m%d-%H%M%S}" for s in range(-1, 60)]
    for folder in taken:  # each claimed by a sweep that has not written yet
        folder.mkdir(parents=True)
    assert sweep.main(["--sequential", "--subset", "10", "--epochs", "1"]) == 0
    out = Path(_printed(capsys)[1]["out"])
    assert out.name.endswith("-2") and out.with_name(out.name[:-2]) in taken
    assert sorted(p.name for p in out.iterdir()) == ["best_params.npz", "sweep.csv", "sweep.png"]
    assert all(not any(folder.iterdir()) for folder in taken)

def test_the_picture_draws_dev_accuracy_against_a_log_learning_rate_a_line_per_width_and_dropout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[Any] = []  # Any: matplotlib's Figure
    save_figure = plots.save_figure

    def save_and_keep(figure: Any, path: Path) -> Path:  # the real save, which also hands the figure to this test
        drawn.append(figure)
        return save_figure(figure, path)

    monkeypatch.setattr(plots, "save_figure", save_and_keep)
    rows = [{"learning_rate": rate, "hidden": width, "keep_prob": keep, "epochs": 1, "dev_accuracy": i / 100} for i, (rate, width, keep) in enumerate(GRID)]
    assert sweep.plot_sweep(tmp_path / "sweep.png", rows) == tmp_path / "sweep.png"
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (figure,) = drawn
    (axis,) = figure.axes
    assert figure.get_size_inches().tolist() == [6.4, 4.2]
    assert (axis.get_xscale(), axis.get_xlabel(), axis.get_ylabel()) == ("log", "Adam learning rate", "dev accuracy")
    assert axis.get_title() == "12 runs, 1 epoch each"
    assert [text.get_text() for text in axis.get_legend().get_texts()] == [
        "784-64-10", "784-64-10, dropout keep 0.8", "784-256-10", "784-256-10, dropout keep 0.8"
    ]  # fmt: skip
    assert [line.get_marker() for line in axis.get_lines()] == ["o"] * 4
    # line k holds rows k, k + 4 and k + 8: one per learning rate, of one width and dropout
    assert [(line.get_xdata().tolist(), line.get_ydata().tolist()) for line in axis.get_lines()] == [
        ([3e-4, 1e-3, 3e-3], [k / 100, (k + 4) / 100, (k + 8) / 100]) for k in range(4)
    ]


# --------------------------------------------------------------------------------------------
# on a cluster of one thread worker, reached by its address


@pytest.fixture(scope="module")
def one_worker() -> Iterator[Client]:
    with dist.cluster_client(n_workers=1, processes=False) as client:
        yield client


def test_a_running_scheduler_is_swept_on_and_counted_in_the_line_and_summary(
    tmp_path: Path, small: MNISTPixels, one_worker: Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    address = _scheduler_address(one_worker)
    out = tmp_path / "out"
    assert sweep.main(["--scheduler", address, "--subset", "20", "--epochs", "1", "--out", str(out)]) == 0
    lines, summary = _printed(capsys)
    assert "12 runs of 1 epoch on 20 samples, on 1 worker" in lines
    assert summary["workers"] == 1 and summary["runs"] == 12
    rows = _table(out / "sweep.csv")
    assert [(float(r["learning_rate"]), int(r["hidden"]), float(r["keep_prob"])) for r in rows] == GRID
    # each run a task on the cluster, handed its data by the driver: a remote cluster's workers may not see this disk
    prefixes = one_worker.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))  # type: ignore[no-untyped-call]
    assert "run_task" in prefixes and "run_stored" not in prefixes  # the tasks of distributed.sweep without data_dir, and with
    shared = tmp_path / "shared"  # a folder every worker can read: the data is written there, and each run loads it
    assert sweep.main(["--scheduler", address, "--subset", "20", "--epochs", "1", "--data-dir", str(shared), "--out", str(tmp_path / "again")]) == 0
    assert "run_stored" in one_worker.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))  # type: ignore[no-untyped-call]
    assert list((shared / "sweep-data").iterdir()) == []  # the sweep's own folder, removed when it ended
    assert (tmp_path / "again" / "sweep.csv").read_text() == (out / "sweep.csv").read_text()


def test_a_cluster_whose_worker_cannot_import_the_library_is_one_error_line_and_writes_nothing(
    tmp_path: Path, small: MNISTPixels, one_worker: Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    out = tmp_path / "out"
    with monkeypatch.context() as lacking:
        # the worker shares this process: `import functional_nn` now fails there, as on a machine
        # without the library (the sweep itself imports nothing new before it checks the workers)
        lacking.setitem(sys.modules, "functional_nn", None)
        status = sweep.main(["--scheduler", _scheduler_address(one_worker), "--subset", "20", "--epochs", "1", "--out", str(out)])
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # the check comes before the line announcing the runs
    (line,) = captured.err.splitlines()
    pattern = (
        r"error: cannot import functional_nn on worker tcp://127\.0\.0\.1:\d+ \(host .+, Python .+\): "
        r"install the library there \(.+\) or put it on the workers' path"
    )
    assert re.fullmatch(pattern, line), line
    assert not out.exists()


def test_workers_start_that_many_local_worker_processes(
    tmp_path: Path, small: MNISTPixels, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert sweep.main(["--workers", "1", "--subset", "20", "--epochs", "1", "--out", str(tmp_path / "out")]) == 0
    lines, summary = _printed(capsys)
    assert "12 runs of 1 epoch on 20 samples, on 1 worker" in lines and summary["workers"] == 1


# --------------------------------------------------------------------------------------------
# the files run as programs


def _run_as_program(name: str, argv: list[str], monkeypatch: pytest.MonkeyPatch, run_name: str = "__main__") -> int | str | None:
    """``python scripts/<name>.py argv`` in this process: the status it exits with, ``None`` if it did not exit."""
    monkeypatch.setattr(sys, "argv", [f"{name}.py", *argv])
    try:
        runpy.run_path(str(SCRIPTS / f"{name}.py"), run_name=run_name)
    except SystemExit as stopped:
        return stopped.code
    return None


@pytest.mark.parametrize("before", [None, "3"])
def test_the_sweep_run_as_a_program_sets_one_blas_thread_unless_told_and_exits_with_mains_status(
    before: str | None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", before or "placeholder")  # restored after the test, whatever the script set
    if before is None:
        monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    assert _run_as_program("sweep", ["--epochs", "0"], monkeypatch) == 2
    assert capsys.readouterr().err.strip().endswith("error: --epochs must be >= 1, got 0")
    assert os.environ["OPENBLAS_NUM_THREADS"] == (before or "1")


def test_the_sweep_imported_under_another_name_leaves_the_blas_threads_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "placeholder")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    assert _run_as_program("sweep", ["--epochs", "0"], monkeypatch, run_name="sweep_imported") is None
    assert "OPENBLAS_NUM_THREADS" not in os.environ


def test_neuron_basics_run_as_a_program_prints_the_tutorials_two_results(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run_as_program("neuron_basics", [], monkeypatch) == 0
    assert capsys.readouterr().out == (
        "one neuron:  inputs [1, 2, 3], weights [0.2, 0.8, -0.5], bias 2 -> 2.3\n"
        "one layer:   inputs [1, 2, 3, 2.5], three neurons -> [4.8, 1.21, 2.385]\n"
    )
    assert _run_as_program("neuron_basics", [], monkeypatch, run_name="neuron_basics_imported") is None
    assert capsys.readouterr().out == ""
