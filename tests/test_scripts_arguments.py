"""The scripts' command lines: every program answers --help, lists are read by one type that
refuses an empty item, counts are >= 1, and MNIST that cannot be fetched is one error, not a
traceback, in every script that loads it."""

from __future__ import annotations

import csv
import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from functional_nn.data.mnist import MNIST, DatasetUnavailableError, MNISTPixels, load_mnist, load_mnist_pixels
from functional_nn.initializers import initialize_parameters
from functional_nn.serialization import save_parameters

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import _cli  # noqa: E402  (the scripts folder is not a package)
import augmentation_report  # noqa: E402
import bench_activations  # noqa: E402
import benchmark_rounds  # noqa: E402
import cats_vs_dogs  # noqa: E402
import compare_optimizers  # noqa: E402
import inspect_network  # noqa: E402
import sweep  # noqa: E402
import train_mnist  # noqa: E402
import vanishing_gradients  # noqa: E402
from test_scripts_mnist import _kaggle_csv  # noqa: E402

SIZES_ERROR = "expected comma-separated integers >= 1 such as 512,256, got"


def _refused(capsys: pytest.CaptureFixture[str], run: Callable[[], object]) -> str:
    """argparse's refusal: status 2, its usage line, then the ``error:`` line, returned."""
    with pytest.raises(SystemExit) as exit_info:
        run()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    return err.strip().splitlines()[-1]


# --------------------------------------------------------------------------------------------
# programs and helper modules


def test_every_program_answers_help_and_helper_modules_are_marked_private(capsys: pytest.CaptureFixture[str]) -> None:
    """A file in scripts/ is a program with ``main`` and ``--help``, or a helper named ``_x.py``."""
    names = sorted(path.stem for path in SCRIPTS.glob("*.py"))
    assert {"_cli", "_threads", "_cluster_training"} <= set(names) and "cluster_training" not in names
    for name in (name for name in names if not name.startswith("_")):
        module = importlib.import_module(name)
        assert callable(getattr(module, "main", None)), f"scripts/{name}.py has no main: name it _{name}.py if it is a helper"
        with pytest.raises(SystemExit) as exit_info:
            module.main(["--help"])
        out = capsys.readouterr().out
        assert exit_info.value.code == 0 and out.startswith("usage: "), name


# --------------------------------------------------------------------------------------------
# MNIST that cannot be fetched


def _offline(directory: Path) -> Path:
    raise DatasetUnavailableError("no network")


@pytest.mark.parametrize("script", ["compare_optimizers", "vanishing_gradients", "inspect_network", "augmentation_report", "train_mnist"])
def test_mnist_that_cannot_be_fetched_is_an_error_not_a_traceback(
    script: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"  # empty: the library's own load, with a fetch that fails as pip would offline

    def offline_mnist(**kwargs: object) -> MNIST:
        return load_mnist(directory=data, fetch=_offline, **kwargs)  # type: ignore[arg-type]

    def offline_pixels(**kwargs: object) -> MNISTPixels:
        return load_mnist_pixels(directory=data, fetch=_offline, **kwargs)  # type: ignore[arg-type]

    run = tmp_path / "run"
    if script == "train_mnist":
        monkeypatch.setattr(train_mnist, "load_mnist_pixels", offline_pixels)
        status = train_mnist.main(["--epochs", "1", "--out", str(run)])
    elif script == "inspect_network":
        monkeypatch.setattr(inspect_network, "load_mnist_pixels", offline_pixels)
        params = initialize_parameters([784, 4, 10], np.random.default_rng(0), dtype=np.float32)
        run.mkdir()
        save_parameters(run / "params.npz", params, metadata={"activations": ["relu", "softmax"]})
        status = inspect_network.main([str(run), "--out", str(tmp_path / "pictures")])
    else:
        module = {"compare_optimizers": compare_optimizers, "vanishing_gradients": vanishing_gradients,
                  "augmentation_report": augmentation_report}[script]  # fmt: skip
        if script == "augmentation_report":  # it scales only the digits it uses
            monkeypatch.setattr(module, "load_mnist_pixels", offline_pixels)
        else:
            monkeypatch.setattr(module, "load_mnist", offline_mnist)
        argv = {
            "compare_optimizers": ["--epochs", "1", "--reg-epochs", "0"],
            "vanishing_gradients": ["--quick", "--out", str(tmp_path / "pictures")],
            "augmentation_report": ["--out", str(tmp_path / "pictures" / "grid.png")],
        }[script]
        status = module.main(argv)
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert err.startswith("error: could not fetch MNIST: no network\nEither put mnist.pkl.gz")
    assert f"into {data} (or set FUNCTIONAL_NN_DATA" in err
    assert not (tmp_path / "pictures").exists() and (script == "inspect_network" or not run.exists())


def test_run_main_reports_a_dataset_that_cannot_be_fetched(capsys: pytest.CaptureFixture[str]) -> None:
    def main(argv: object) -> int:
        raise DatasetUnavailableError("could not fetch MNIST: offline")

    assert _cli.run_main(main, []) == 2
    assert capsys.readouterr().err == "error: could not fetch MNIST: offline\n"


# --------------------------------------------------------------------------------------------
# lists: one type, and an empty item is a mistake


def test_the_list_types_refuse_empty_items_and_read_the_rest() -> None:
    assert _cli.positive_ints("512,256") == (512, 256) and _cli.positive_ints(" 64 , 8 ") == (64, 8)
    for text in ("512,,10", "512,", ",", "", "abc", "8,0", "8,-1"):
        with pytest.raises(Exception, match=f"^{SIZES_ERROR} {text!r}$"):
            _cli.positive_ints(text)
    assert _cli.comma_separated("sgd, adam", example="sgd,adam") == ["sgd", "adam"]
    with pytest.raises(Exception, match=r"^expected a comma-separated list such as sgd,adam, with no empty item, got 'sgd,,adam'$"):
        _cli.comma_separated("sgd,,adam", example="sgd,adam")


@pytest.mark.parametrize("script", ["train_mnist", "augmentation_report", "cats_vs_dogs", "compare_optimizers"])
@pytest.mark.parametrize("hidden", ["512,,10", "512,", ","])
def test_hidden_sizes_with_an_empty_item_are_refused(script: str, hidden: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def parse() -> object:
        if script == "cats_vs_dogs":
            return cats_vs_dogs.parse_args([str(tmp_path), "--hidden", hidden])
        parse_args: Callable[[list[str]], object] = getattr(globals()[script], "parse_args")
        return parse_args(["--hidden", hidden])

    line = _refused(capsys, parse)
    assert line.endswith(f"error: argument --hidden: {SIZES_ERROR} {hidden!r}")


def test_the_hidden_sizes_still_read_as_before() -> None:
    assert train_mnist.parse_args(["--hidden", "256,128"])[1].hidden == (256, 128)
    assert compare_optimizers.parse_args(["--hidden", "8"]).hidden == (8,)
    assert compare_optimizers.parse_args([]).hidden == (256, 128)


@pytest.mark.parametrize("optimizers", [",", "sgd,,adam", "adam,"])
def test_compare_optimizers_refuses_an_empty_optimizer_before_the_data(
    optimizers: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compare_optimizers, "load_mnist", lambda **kwargs: pytest.fail("the data must not be loaded"))
    assert compare_optimizers.main(["--optimizers", optimizers]) == 2  # it trained nothing and exited 0
    assert capsys.readouterr().err == (
        f"error: --optimizers: expected a comma-separated list such as sgd,adam, with no empty item, got {optimizers!r}\n"
    )


def test_benchmark_rounds_reads_its_shard_sizes_with_the_list_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert benchmark_rounds.parse_args([]).shard_sizes == (64, 512, 4096)
    assert benchmark_rounds.parse_args(["--shard-sizes", "8,16"]).shard_sizes == (8, 16)
    for text in ("64,,512", "abc", "64,0"):
        line = _refused(capsys, lambda: benchmark_rounds.parse_args(["--shard-sizes", text]))
        assert line.endswith(f"error: argument --shard-sizes: {SIZES_ERROR} {text!r}")


# --------------------------------------------------------------------------------------------
# counts and seeds


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repeats", "0"], "argument --repeats: must be >= 1, got 0"),
        (["--shape", "-1", "5"], "argument --shape: must be >= 1, got -1"),
        (["--shape", "0", "5"], "argument --shape: must be >= 1, got 0"),
        (["--shape", "4", "x"], "argument --shape: expected an integer >= 1, got 'x'"),
    ],
)
def test_bench_activations_refuses_empty_shapes_and_no_repeats(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _refused(capsys, lambda: bench_activations.main(argv)).endswith(f"error: {message}")


def test_bench_activations_runs_on_a_tiny_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_activations.main(["--shape", "3", "2", "--repeats", "1"]) == 0
    assert capsys.readouterr().out.startswith("Z (3, 2) float64, median of 1 calls")


# --------------------------------------------------------------------------------------------
# sweep.py


def test_sweep_names_the_seed_it_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert _refused(capsys, lambda: sweep.parse_args(["--seed", "-1"])).endswith("error: argument --seed: must be >= 0, got -1")


def test_sweep_bounds_the_mnist_dev_size_as_train_mnist_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = _refused(capsys, lambda: sweep.parse_args(["--dev-size", "60000"]))
    assert line.endswith("error: --dev-size 60000 leaves nothing to train on: MNIST has 60,000 training images")
    assert sweep.parse_args(["--dev-size", "59999"]).dev_size == 59999  # as train_mnist.py: one image to train on
    assert sweep.parse_args(["--dev-size", "60000", "--csv", str(tmp_path / "train.csv")]).dev_size == 60000  # the file's rows decide
    with pytest.raises(SystemExit):
        sweep.parse_args(["--help"])
    assert "for MNIST the last N of its 60,000 training images" in " ".join(capsys.readouterr().out.split())


def test_sweep_never_replaces_a_read_only_table(tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.csv").write_text("earlier")
    (out / "sweep.csv").chmod(0o444)
    argv = ["--sequential", "--csv", str(_kaggle_csv(tmp_path / "train.csv", rng, 40)), "--dev-size", "10", "--epochs", "1",
            "--out", str(out), "--overwrite"]  # fmt: skip
    assert sweep.main(argv) == 2
    assert capsys.readouterr().err == f"error: --out {out} holds read-only sweep.csv: make it writable, or choose another --out\n"
    assert (out / "sweep.csv").read_text() == "earlier"
    (out / "sweep.csv").chmod(0o644)
    assert sweep.main(argv) == 0  # replaced, atomically: every row, and no temporary file beside it
    with open(out / "sweep.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12 and rows[0]["hidden"] == "64" and 0 <= float(rows[0]["dev_accuracy"]) <= 1
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["runs"] == 12


def test_compare_sklearn_digits_without_scikit_learn_is_one_error_line_and_status_2() -> None:
    # scikit-learn blocked in the child, as if it were not installed
    blocked = "import runpy, sys; sys.modules['sklearn'] = None; sys.argv = ['compare_sklearn_digits.py']; " \
        f"runpy.run_path({str(SCRIPTS / 'compare_sklearn_digits.py')!r}, run_name='__main__')"
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", 'error: this comparison needs scikit-learn: pip install -e ".[sklearn]"\n'
    )
