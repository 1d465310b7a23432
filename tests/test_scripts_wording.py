"""The scripts' printed words: singular counts, complete sentences, plain refusals, and no
``nan`` where a number was never measured."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from functional_nn.data import load_digits_csv
from functional_nn.data.mnist import MNIST
from functional_nn.initializers import initialize_parameters
from functional_nn.serialization import save_parameters
from functional_nn.training import TrainingDivergedError
from functional_nn.types import FloatArray, IntArray
from test_images import write_stripes_folder
from test_scripts_mnist import _kaggle_csv, _run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import _cli  # noqa: E402  (the scripts folder is not a package)
import bench_activations  # noqa: E402
import binary_classification  # noqa: E402
import cats_vs_dogs  # noqa: E402
import compare_optimizers  # noqa: E402
import inspect_network  # noqa: E402
import sweep  # noqa: E402
import train_mnist  # noqa: E402
import vanishing_gradients  # noqa: E402


@pytest.mark.parametrize(("batch", "unit"), [(["--batch-size", "16"], "epoch"), (["--preset", "tutorial"], "iteration")])
def test_train_mnist_says_1_epoch_not_1_epochs(
    batch: list[str], unit: str, tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 40)
    out = tmp_path / "run"
    argv = ["--csv", str(csv), "--epochs", "1", "--hidden", "8", "--dev-size", "10", "--out", str(out), "--checkpoint", *batch]
    lines, _ = _run(capsys, argv)
    assert f", 1 {unit}, " in lines[0] and f"1 {unit}s" not in lines[0]
    # resumed when finished: nothing to run, said in the singular too
    assert train_mnist.main(["--resume", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"finished its 1 {unit} (" in said and f"1 {unit}s" not in said


@pytest.mark.parametrize(("kind", "said"), [("missing", "no such folder"), ("file", "not a folder")])
def test_train_mnist_resume_from_no_folder_says_so(kind: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "runs" / "mnist-1"
    if kind == "file":
        target.parent.mkdir()
        target.write_text("not a run\n")
    with pytest.raises(SystemExit) as stopped:
        train_mnist.main(["--resume", str(target)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage:")
    assert err.rstrip().endswith(f"error: --resume {target}: {said}")
    assert "command.json" not in err and "--checkpoint" not in err.split("error:")[1]


class _RecordedTqdm:
    """Stands in for ``tqdm.tqdm``: keeps the keywords each bar was made with."""

    made: list[dict[str, object]] = []

    def __init__(self, **keywords: object) -> None:
        _RecordedTqdm.made.append(keywords)

    def set_postfix(self, **_: object) -> None:
        pass

    def update(self, _: int) -> None:
        pass

    def close(self) -> None:
        pass


def test_sweep_counts_runs_in_runs_and_says_1_epoch(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = types.ModuleType("tqdm")
    fake.tqdm = _RecordedTqdm  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", fake)
    monkeypatch.setattr(_RecordedTqdm, "made", [])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    argv = ["--sequential", "--csv", str(_kaggle_csv(tmp_path / "train.csv", rng, 40)), "--dev-size", "10", "--epochs", "1",
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert sweep.main(argv) == 0
    out = capsys.readouterr().out
    assert "12 runs of 1 epoch on 30 samples" in out
    runs = [bar for bar in _RecordedTqdm.made if bar.get("total") == 12]
    assert len(runs) == 1 and runs[0]["unit"] == "run"


def test_cats_vs_dogs_precision_line_is_a_whole_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_stripes_folder(tmp_path / "pictures", 20, np.random.default_rng(1), size=8)
    argv = [str(root), "--size", "8", "--hidden", "4", "--epochs", "1", "--batch-size", "16", "--out", str(tmp_path / "out")]
    assert cats_vs_dogs.main(argv) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("precision")]
    assert line.endswith("of the pictures predicted vertical, the fraction that are vertical")


def test_inspect_network_names_the_csv_without_the(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    csv = _kaggle_csv(tmp_path / "train.csv", rng, 20)
    assert load_digits_csv(csv).y is not None
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    params = initialize_parameters([784, 6, 10], rng, dtype=np.float32)
    save_parameters(run_dir / "params.npz", params, metadata={"activations": ["relu", "softmax"]})
    assert inspect_network.main([str(run_dir), "--csv", str(csv), "--tiles", "4"]) == 0
    out = capsys.readouterr().out
    assert f"network on {csv}: accuracy" in out and "on the " not in out
    assert json.loads(out.strip().splitlines()[-1])["data"] == str(csv)


def test_bench_activations_shows_no_nan_for_a_backward_it_has_not_got(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_activations.main(["--shape", "3", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out
    rows = {line[:32].strip(): line[32:].split() for line in out.splitlines()[2:] if line[:32].strip()}
    assert rows["gelu, tanh approximation"][-1] == "-" and rows["gelu via frompyfunc(math.erf)"][-1] == "-"
    assert all(row[-1] != "-" for name, row in rows.items() if not name.startswith("gelu,") and not name.startswith("gelu via"))
    assert "-: forward only" in out


@pytest.mark.parametrize(("n", "said"), [(0, "0 epochs"), (1, "1 epoch"), (2, "2 epochs"), (30, "30 epochs")])
def test_counted_is_singular_for_one_only(n: int, said: str) -> None:
    assert _cli.counted(n, "epoch") == said


def test_compare_optimizers_labels_one_epoch_in_the_singular() -> None:
    args = compare_optimizers.parse_args(["--epochs", "1", "--reg-epochs", "2"])  # --reg-epochs is 0 or at least 2
    args.optimizers = compare_optimizers.optimizer_names(args.optimizers)  # as _main completes them
    args.rates = compare_optimizers.learning_rates(args.lr, args.optimizers, preset=args.preset, reg_epochs=args.reg_epochs)
    assert [label for label, _ in compare_optimizers.compare_specs(args, 10)] == [
        "optimizers, 1 epoch", "dropout and a schedule, 2 epochs"
    ]
    args = compare_optimizers.parse_args(["--epochs", "2", "--hidden", "8"])
    assert [label for label, _ in compare_optimizers.best_specs(args, 10)] == ["8 ReLU, 2 epochs"]


def test_vanishing_gradients_says_1_epoch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--data", "spirals", "--samples", "40", "--epochs", "1", "--out", str(tmp_path / "out")]
    assert vanishing_gradients.main(argv) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.endswith(", 1 epoch"), header


def test_vanishing_gradients_names_the_folder_of_every_file_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "v1"
    argv = ["--data", "spirals", "--samples", "40", "--epochs", "1", "--width", "4", "--layers", "2", "--out", str(out)]
    assert vanishing_gradients.main(argv) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    written = f"{out / 'vanishing_gradients.png'}, {out / 'activation_histograms.png'} and {out / 'vanishing_gradients.json'}"
    assert last.startswith(f"wrote {written} in "), last


# a run that diverged: the advice names the options of the script that can have caused it

def _diverging_main(message: str, *options: str) -> Callable[[Sequence[str] | None], int]:
    def main(argv: Sequence[str] | None) -> int:
        if options:
            with _cli.naming_options(*options):
                raise TrainingDivergedError(message)
        raise TrainingDivergedError(message)

    return main


@pytest.mark.parametrize(
    ("message", "options", "said"),
    [
        ("diverged; try a smaller learning rate (or check the data)", ("--lr",), "diverged; try a smaller --lr (or check the data)"),
        ("diverged; try a smaller learning rate", ("--learning-rate", "--lambd"), "diverged; try a smaller --learning-rate or --lambd"),
        ("diverged; try a smaller learning rate", ("--a", "--b", "--c"), "diverged; try a smaller --a, --b or --c"),
        ("diverged at round 3", ("--lr",), "diverged at round 3; try a smaller --lr"),  # no advice to replace: added
        # a script that names none of its options keeps the library's advice, which names no option
        ("diverged; try a smaller learning rate", (), "diverged; try a smaller learning rate"),
    ],
)
def test_naming_options_puts_the_scripts_options_in_the_advice(
    message: str, options: tuple[str, ...], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli.run_main(_diverging_main(message, *options), []) == 1
    assert capsys.readouterr().err == f"error: {said}\n"


def _mnist_stand_in() -> MNIST:
    rng = np.random.default_rng(0)

    def split(m: int) -> tuple[FloatArray, IntArray]:
        return rng.random((784, m)).astype(np.float32), rng.integers(0, 10, m)

    return MNIST(*split(40), *split(20), *split(20))


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--epochs", "1", "--reg-epochs", "0", "--optimizers", "sgd", "--lr", "sgd=1e300"], "--lr sgd=VALUE"),
        (["--epochs", "1", "--reg-epochs", "2", "--optimizers", "adam", "--peak-lr", "1e300"], "--peak-lr"),
        (["--preset", "best", "--epochs", "2", "--best-lr", "1e300"], "--best-lr"),
    ],
)
def test_compare_optimizers_advice_names_the_rate_option_of_the_run_that_diverged(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # it has no --learning-rate: its rates are --lr NAME=VALUE, --peak-lr and --best-lr
    assert compare_optimizers.main([*argv, "--hidden", "8", "--batch-size", "16"], data=_mnist_stand_in()) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("error: training diverged") and f"try a smaller {option}" in line and "--learning-rate" not in line, line


@pytest.mark.parametrize(
    ("flags", "advice"),
    [(["--lambd", "1e300"], "try a smaller --learning-rate or --lambd"), (["--learning-rate", "1e300"], "try a smaller --learning-rate (")],
)
def test_cats_vs_dogs_advice_names_lambd_when_it_can_be_the_cause(
    flags: list[str], advice: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_stripes_folder(tmp_path / "pictures", 20, np.random.default_rng(1), size=8)
    argv = [str(root), "--size", "8", "--hidden", "4", "--epochs", "2", "--batch-size", "16", *flags, "--out", str(tmp_path / "out")]
    assert cats_vs_dogs.main(argv) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert advice in line and (flags[0] == "--lambd" or "--lambd" not in line), line  # --lambd 0 cannot be the cause


@pytest.mark.parametrize(
    ("script", "argv"),
    [
        (binary_classification, ["--epochs", "20", "--learning-rate", "1e300"]),
        (vanishing_gradients, ["--data", "spirals", "--samples", "40", "--epochs", "1", "--width", "4", "--layers", "2", "--learning-rate", "1e300"]),
    ],
)
def test_the_learning_rate_scripts_advise_their_learning_rate(
    script: types.ModuleType, argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert script.main([*argv, "--out", str(tmp_path / "out")]) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("error: training diverged") and "try a smaller --learning-rate" in line, line
