"""What a run of scripts/benchmark.py goes through before its figures, pinned (found by mutation testing).

The data it trains on (a cached MNIST read through the real loader for ``--data auto`` and
``mnist``, random MNIST-shaped data otherwise, and the refusal of ``mnist`` with nothing
cached), the kernels each functional_nn contender runs, the contenders set up for each
network and the notes saying who sits out, scikit-learn's copy of our network's settings, and
the settings of the JSON line. PyTorch's copy is not pinned here: PyTorch is in no extra, so
CI could not run such a test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from functional_nn import fused
from functional_nn.data import one_hot
from functional_nn.data.mnist import MNIST_CACHE_NAME, MNISTPixels, load_mnist
from functional_nn.initializers import initialize_parameters

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark  # noqa: E402  (the scripts folder is not a package)
import _threads  # noqa: E402
from conftest import WriteMNISTCache  # noqa: E402
from test_mutants_benchmark import NETWORK, _entry, _report  # noqa: E402
from test_scripts_arguments import _refused  # noqa: E402
from test_scripts_mnist import _small_mnist  # noqa: E402
from test_user_edges import _one_error_line  # noqa: E402


def _pixels() -> MNISTPixels:
    return _small_mnist(np.random.default_rng(0), 12, 4, 4)


@pytest.mark.parametrize("source", ["auto", "mnist"])
def test_a_cached_mnist_is_read_for_auto_and_mnist(source: str, mnist_cache: WriteMNISTCache) -> None:
    folder = mnist_cache(_pixels())
    train = load_mnist(dtype=np.float32)
    data = benchmark.load_data(source, 7, np.random.default_rng(0))
    assert data.source == f"MNIST ({folder / MNIST_CACHE_NAME})"
    np.testing.assert_array_equal(data.X, train.X_train[:, :7])
    assert data.X.dtype == np.float32 and data.X.flags.f_contiguous
    np.testing.assert_array_equal(data.labels, train.y_train[:7])
    np.testing.assert_array_equal(data.Y, one_hot(train.y_train[:7], 10, dtype=np.float32))
    assert data.Y.dtype == np.float32


@pytest.mark.parametrize(("samples", "m"), [(None, 12), (12, 12), (13, 12), (1, 1)])
def test_a_cached_mnist_gives_at_most_its_training_images(samples: int | None, m: int, mnist_cache: WriteMNISTCache) -> None:
    mnist_cache(_pixels())
    data = benchmark.load_data("auto", samples, np.random.default_rng(0))
    assert data.X.shape == (784, m) and data.labels.shape == (m,) and data.Y.shape == (10, m)


@pytest.mark.parametrize(("samples", "m"), [(None, 800), (790, 790)])
def test_more_training_images_than_pixels_are_all_read(samples: int | None, m: int, mnist_cache: WriteMNISTCache) -> None:
    mnist_cache(_small_mnist(np.random.default_rng(0), 800, 4, 4))
    assert benchmark.load_data("mnist", samples, np.random.default_rng(0)).X.shape == (784, m)


def test_random_data_ignores_a_cached_mnist(mnist_cache: WriteMNISTCache) -> None:
    mnist_cache(_pixels())
    assert benchmark.cached_mnist("random") is None
    assert benchmark.load_data("random", 5, np.random.default_rng(0)).source == "random, MNIST-shaped"


def test_random_data_is_the_generators_rows_transposed() -> None:
    data = benchmark.load_data("random", 5, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    X = rng.random((5, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 5)
    assert data.source == "random, MNIST-shaped"
    np.testing.assert_array_equal(data.X, X.T)
    assert data.X.dtype == np.float32 and data.X.flags.f_contiguous
    np.testing.assert_array_equal(data.labels, labels)
    np.testing.assert_array_equal(data.Y, one_hot(labels, 10, dtype=np.float32))
    assert data.Y.dtype == np.float32


def test_random_data_has_fifty_thousand_samples_unless_told() -> None:
    assert benchmark.load_data("random", None, np.random.default_rng(0)).X.shape == (784, 50_000)


def test_auto_with_nothing_cached_trains_on_random_data() -> None:
    assert benchmark.cached_mnist("auto") is None
    assert benchmark.load_data("auto", 3, np.random.default_rng(0)).source == "random, MNIST-shaped"


def test_data_mnist_with_nothing_cached_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FUNCTIONAL_NN_DATA", str(tmp_path))
    assert benchmark.main(["--data", "mnist", "--hidden", "4", "--contenders", "functional_nn", "--threads", "1"]) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"error: no cached MNIST at {tmp_path / MNIST_CACHE_NAME}: run scripts/train_mnist.py once, or use --data random"
    )


def _setup(optimizer: str = "sgd", keep_prob: float = 1.0, hidden: tuple[int, ...] = (6,), m: int = 70) -> benchmark.Setup:
    data = benchmark.load_data("random", m, np.random.default_rng(3))
    sizes = (784, *hidden, 10)
    params = initialize_parameters(sizes, np.random.default_rng(0), dtype=np.float32)
    return benchmark.Setup(data, sizes, params, optimizer, 32, 5, keep_prob)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_numpy_kernels_row_runs_no_compiled_kernel(optimizer: str, kernels_called: list[str]) -> None:
    benchmark.functional_nn_contender(_setup(optimizer), 1, "numpy").epoch()
    assert kernels_called == []
    benchmark.functional_nn_contender(_setup(optimizer), 1).epoch()
    assert bool(kernels_called) == fused.AVAILABLE


# --------------------------------------------------------------------------------------------
# the contenders' copies of our run: our own steps, scikit-learn's settings


def test_no_weights_are_compared_without_a_warm_up() -> None:
    setup = _setup()
    ready = benchmark.make_contenders(setup, ["functional_nn", "numpy_preallocated"], {}, 1, 1, [])
    notes: list[str] = []
    benchmark.compare_weights(setup, ready, 0, notes)
    assert notes == []


def test_the_steps_contender_trains_to_our_weights_bit_for_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """forward, backward and update over minibatches: train_epochs' steps, dropout draws included."""
    updated: list[dict[str, Any]] = []
    real = benchmark.our_optimizer

    def recording_optimizer(name: str, kernel: Any = None) -> Any:
        optimizer = real(name, kernel)

        def update(grads: Any, state: Any, params: Any) -> Any:
            new_params, new_state = optimizer.update(grads, state, params)
            updated.append(new_params)
            return new_params, new_state

        return optimizer._replace(update=update)

    for optimizer, keep_prob in (("sgd", 1.0), ("adam", 0.5)):
        setup = _setup(optimizer, keep_prob, hidden=(6, 5))
        monkeypatch.setattr(benchmark, "our_optimizer", recording_optimizer)
        steps = benchmark.functional_nn_steps_contender(setup)
        monkeypatch.setattr(benchmark, "our_optimizer", real)
        ours = benchmark.functional_nn_contender(setup, 2)
        updated.clear()
        for _ in range(2):
            steps(), ours.epoch()
        assert len(updated) == 6  # 70 samples in batches of 32: three steps an epoch
        for key, value in ours.state().items():
            np.testing.assert_array_equal(updated[-1][key], value)


class _RecordingNeuralNetwork:
    """``sklearn.neural_network`` whose ``MLPClassifier`` records the classifiers it makes (call-through)."""

    def __init__(self) -> None:
        from sklearn import neural_network

        self.made: list[Any] = []
        self.real = neural_network.MLPClassifier

    def MLPClassifier(self, **kwargs: Any) -> Any:  # noqa: N802  (the name the script calls)
        self.made.append(self.real(**kwargs))
        return self.made[-1]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_scikit_learns_classifier_has_our_layers_batch_and_optimizer(optimizer: str) -> None:
    neural_network = _RecordingNeuralNetwork()
    setup = _setup(optimizer, hidden=(6, 5))
    epoch = benchmark.sklearn_contender(neural_network, setup)
    (classifier,) = neural_network.made
    params = classifier.get_params()
    expected = {
        "hidden_layer_sizes": (6, 5), "activation": "relu", "solver": optimizer, "alpha": 0.0, "batch_size": 32,
        "learning_rate": "constant", "learning_rate_init": {"sgd": 0.1, "adam": 1e-3}[optimizer], "momentum": 0.0,
        "nesterovs_momentum": False, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "shuffle": True, "random_state": 5,
    }  # fmt: skip
    assert {key: params[key] for key in expected} == expected
    epoch()
    assert [W.shape for W in classifier.coefs_] == [(784, 6), (6, 5), (5, 10)] and classifier.coefs_[0].dtype == np.float32
    assert list(classifier.classes_) == list(range(10))


# --------------------------------------------------------------------------------------------
# the options


def test_the_defaults_of_every_option() -> None:
    args = benchmark.parse_arguments([])
    assert vars(args) == {
        "threads": _threads.usable_cores(), "samples": None, "repeats": 5, "warmup": 1,
        "hidden": ["256", "512,512", "512,256:0.8"], "networks": [((256,), 1.0), ((512, 512), 1.0), ((512, 256), 0.8)],
        "batch_size": 128, "optimizers": ["sgd", "adam"], "contenders": list(benchmark.CONTENDERS), "data": "auto",
        "ceiling_seconds": 0.3, "settle_seconds": 0.2, "seed": 0, "clock": "wall",
    }  # fmt: skip


def test_every_option_is_read_as_its_type() -> None:
    argv = [
        "--threads", "1", "--epoch-size", "30", "--repeats", "2", "--warmup", "0", "--hidden", "8", "4,4:0.5",
        "--batch-size", "16", "--optimizers", "adam", "sgd", "--contenders", "torch", "sklearn", "--data", "random",
        "--ceiling-seconds", "0.5", "--settle-seconds", "0", "--seed", "7", "--clock", "cpu",
    ]  # fmt: skip
    assert vars(benchmark.parse_arguments(argv)) == {
        "threads": 1, "samples": 30, "repeats": 2, "warmup": 0,
        "hidden": ["8", "4,4:0.5"], "networks": [((8,), 1.0), ((4, 4), 0.5)],
        "batch_size": 16, "optimizers": ["adam", "sgd"], "contenders": ["torch", "sklearn"], "data": "random",
        "ceiling_seconds": 0.5, "settle_seconds": 0.0, "seed": 7, "clock": "cpu",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--optimizers", "rmsprop"], "argument --optimizers: invalid choice: 'rmsprop' (choose from 'sgd', 'adam')"),
        (["--contenders", "jax"], "argument --contenders: invalid choice: 'jax' (choose from 'functional_nn', "
         "'functional_nn_numpy', 'functional_nn_steps', 'numpy_preallocated', 'torch', 'torch_fused', 'sklearn')"),
        (["--data", "csv"], "argument --data: invalid choice: 'csv' (choose from 'auto', 'mnist', 'random')"),
        (["--clock", "gpu"], "argument --clock: invalid choice: 'gpu' (choose from 'cpu', 'wall')"),
        (["--thread", "1"], "unrecognized arguments: --thread 1"),  # no abbreviations: _threads reads the full name
        (["--ceiling-seconds", "0"], "argument --ceiling-seconds: must be a finite number > 0, got 0"),
        (["--seed", "x"], "argument --seed: expected an integer >= 0, got 'x'"),
    ],
)
def test_options_outside_their_choices_are_refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _refused(capsys, lambda: benchmark.parse_arguments(argv)).endswith(f"error: {message}")


def test_help_opens_with_the_first_paragraph_of_the_docstring(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        benchmark.parse_arguments(["--help"])
    words = " ".join(capsys.readouterr().out.split())
    assert " How fast functional_nn trains an MLP, against PyTorch, scikit-learn and the machine's matmul. options:" in words


# --------------------------------------------------------------------------------------------
# the contenders set up for a network


def test_only_the_contenders_asked_for_and_installed_are_set_up() -> None:
    setup = _setup()
    ours = ["functional_nn", *(["functional_nn_numpy"] if fused.AVAILABLE else []), "functional_nn_steps", "numpy_preallocated"]
    notes: list[str] = []
    ready = benchmark.make_contenders(setup, list(benchmark.CONTENDERS), {"torch": None, "sklearn": None}, 1, 1, notes)
    assert list(ready.epochs) == ours and ready.torches == {} and notes == []
    assert ready.ours is not None and ready.preallocated is not None
    ready = benchmark.make_contenders(setup, ["functional_nn_steps"], {"torch": None, "sklearn": None}, 1, 1, notes)
    assert list(ready.epochs) == ["functional_nn_steps"] and ready.ours is None and ready.preallocated is None


def test_scikit_learn_sits_out_a_network_that_drops_with_one_note() -> None:
    from sklearn import neural_network

    notes: list[str] = []
    for _ in range(2):
        ready = benchmark.make_contenders(_setup(keep_prob=0.5), ["sklearn"], {"sklearn": neural_network}, 1, 1, notes)
        assert ready.epochs == {}
    assert notes == ["784-6-10 dropout keep 0.5: scikit-learn's MLPClassifier has no dropout, so it sits out"]
    ready = benchmark.make_contenders(_setup(), ["sklearn"], {"sklearn": neural_network}, 1, 1, notes)
    assert list(ready.epochs) == ["sklearn"] and len(notes) == 1


# --------------------------------------------------------------------------------------------
# a run's notes and machine description


TINY_RUN = [
    "--data", "random", "--samples", "40", "--batch-size", "20", "--repeats", "1", "--warmup", "0", "--hidden", "4",
    "--optimizers", "sgd", "--ceiling-seconds", "0.001", "--settle-seconds", "0", "--threads", "1",
]  # fmt: skip


def _summary(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The JSON line, without the note a busy machine adds (the other jobs' doing, not the run's)."""
    summary: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    summary["notes"] = [note for note in summary["notes"] if not note.startswith("the machine was busy")]
    return summary


def test_each_missing_package_is_one_note_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("threadpoolctl", "torch", "sklearn", "sklearn.neural_network"):
        monkeypatch.setitem(sys.modules, name, None)
    assert benchmark.main([*TINY_RUN, "--contenders", "functional_nn", "torch", "torch_fused", "sklearn"]) == 0
    summary = _summary(capsys)
    assert summary["notes"] == [
        "PyTorch is not installed: skipped (its CPU-only build, as PyTorch's installation guide shows; the bench extra leaves it out)",
        "scikit-learn MLPClassifier is not installed: skipped (pip install scikit-learn, or the bench extra)",
        "threadpoolctl is not installed: BLAS threads pinned only by environment variables, "
        "which work only when this file is run as a script",
    ]
    assert not {"threadpools", "torch", "torch_threads", "sklearn"} & set(summary["machine"])
    figures = summary["results"]["784-4-10"]["sgd"]
    assert figures["torch_ratio"] is None and figures["torch_fused_ratio"] is None and figures["sklearn_ratio"] is None


def test_contenders_not_asked_for_are_not_imported_nor_described(capsys: pytest.CaptureFixture[str]) -> None:
    assert benchmark.main([*TINY_RUN, "--contenders", "functional_nn"]) == 0
    summary = _summary(capsys)
    assert summary["notes"] == [] and not {"torch", "torch_threads", "sklearn"} & set(summary["machine"])
    # threadpoolctl (the bench extra) pins every BLAS pool to --threads for the run
    assert summary["machine"]["threadpools"] and all(": 1 threads" in pool for pool in summary["machine"]["threadpools"])


def test_adam_over_sgd_closes_the_table_before_the_notes(capsys: pytest.CaptureFixture[str]) -> None:
    lines, _ = _report(capsys)
    assert lines[-4:-1] == ["", f"{NETWORK}: Adam at 60% of SGD's samples/s (80% by round)", "note: a note"]


def test_adam_over_sgd_keeps_three_decimals(capsys: pytest.CaptureFixture[str]) -> None:
    args = benchmark.parse_arguments(["--threads", "1", "--repeats", "1", "--warmup", "0", "--batch-size", "100"])
    seconds = {"sgd": {"functional_nn": [0.2], "ceiling": [0.05]}, "adam": {"functional_nn": [0.7], "ceiling": [0.05]}}
    report = {"data": "random", "m": 600, "batch_size": 100, "networks": {NETWORK: {name: _entry(seconds[name]) for name in seconds}}}
    machine = benchmark.machine_description({}, 1)
    machine["load_before"] = machine["load_after"] = "load average 0.00 0.00 0.00"
    benchmark.print_report(args, report, machine, [])
    lines = capsys.readouterr().out.rstrip("\n").splitlines()
    adam = json.loads(lines[-1])["results"][NETWORK]["adam"]
    # 857 samples/s over 3000, and 0.2 s over 0.7 s: 0.2857 both
    assert adam["adam_over_sgd"] == 0.286 and adam["adam_over_sgd_by_round"] == 0.286
    assert f"{NETWORK}: Adam at 29% of SGD's samples/s (29% by round)" in lines


def test_a_rounds_figures_are_its_samples_over_the_seconds_the_clock_gave() -> None:
    """A clock that moves one second a reading: every epoch takes 1 s, the ceiling 1/3 s a step."""
    readings = iter(range(1, 1000))

    def one_second_a_reading() -> float:
        return float(next(readings))

    setups = [_setup(optimizer) for optimizer in ("sgd", "adam")]
    result = benchmark.run_network(
        setups, ["functional_nn"], {}, warmup=0, repeats=2, threads=1, ceiling_seconds=0.001, notes=[],
        clock=one_second_a_reading, settle_seconds=0,
    )  # fmt: skip
    for optimizer in ("sgd", "adam"):
        assert result[optimizer]["figures"] == {"functional_nn": (70.0, 70.0, 70.0)}  # 70 samples in 1 s
        assert result[optimizer]["seconds"]["functional_nn"] == [1.0, 1.0]
        assert result[optimizer]["seconds"]["ceiling"] == pytest.approx([70 / 32 / 3] * 2)  # a step's 1/3 s, 70/32 steps
        assert result[optimizer]["ceiling_rate"] == pytest.approx((96.0, 96.0, 96.0))  # 32 samples in 1/3 s
        assert result[optimizer]["ceiling"] == benchmark.step_products((784, 6, 10), 32)
