"""scripts/step_breakdown.py: the fold's step run by hand, piece by piece, on tiny sizes.

Times are never asserted. What is: that the hand-run step ends where ``train_epochs`` ends,
bit for bit (and that the check notices when it does not), that the pieces add up to the
step, and that each product's GFLOP/s is its FLOPs over its time.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark  # noqa: E402  (the scripts folder is not a package)
from conftest import blas_threads  # noqa: E402
import step_breakdown  # noqa: E402
from functional_nn.initializers import initialize_parameters  # noqa: E402
from functional_nn.optimizers import adam  # noqa: E402

TINY = ["--data", "random", "--samples", "300", "--epochs", "2", "--batch-size", "64", "--product-seconds", "0.005"]


def run_script(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, Any], str]:
    status = step_breakdown.main([*TINY, *arguments])
    out = capsys.readouterr().out
    return status, json.loads(out.strip().splitlines()[-1]), out


def test_every_piece_of_the_step_is_timed_and_the_step_is_the_folds(capsys: pytest.CaptureFixture[str]) -> None:
    status, report, out = run_script(capsys, "--hidden", "16,8", "--keep-prob", "0.5", "--augment", "shift", "--max-norm", "2")
    assert status == 0
    assert report["same_as_train_epochs"] is True
    assert "train_epochs ends with the same parameters, bit for bit: yes" in out
    assert len(report["epochs"]) == 2
    for step in report["epochs"]:
        assert set(step) == {*step_breakdown.PIECES, "step"}
        assert all(value > 0 for value in step.values())
        # the laps follow each other: the pieces are the whole step, the batches' gathering included
        assert math.isclose(sum(step[piece] for piece in step_breakdown.PIECES), step["step"], rel_tol=1e-9)


def test_pieces_a_run_does_not_have_are_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    status, report, out = run_script(capsys, "--hidden", "8", "--keep-prob", "1", "--optimizer", "sgd")
    assert status == 0 and report["same_as_train_epochs"] is True
    assert set(report["medians"]) == {"gather", "forward", "cost", "labels", "backward", "update", "step"}
    assert "augment" not in out.splitlines()[1] and "no max-norm" in out.splitlines()[0]


def test_each_products_rate_is_its_flops_over_its_time(capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = run_script(capsys, "--hidden", "16")
    names = benchmark.step_products((784, 16, 10), 64).products
    assert [p["name"] for p in report["products"]] == list(names) == ["W1 A0", "dZ1 A0^T", "W2 A1", "dZ2 A1^T", "W2^T dZ2"]
    multiply_adds = [784 * 16, 784 * 16, 16 * 10, 16 * 10, 16 * 10]
    for product, count in zip(report["products"], multiply_adds, strict=True):
        flops = product["gflops"] * 1e9 * product["microseconds"] * 1e-6
        assert math.isclose(flops, 2 * count * 64, rel_tol=1e-9)
    assert math.isclose(report["products_microseconds"], sum(p["microseconds"] for p in report["products"]))


def test_the_bitwise_check_notices_a_single_changed_bit() -> None:
    pixels = step_breakdown.load_pixels("random", 200, np.random.default_rng(1))
    run = step_breakdown.Run(
        pixels.X, pixels.labels, np.eye(10, dtype=np.float32)[pixels.labels].T.copy(),
        initialize_parameters((784, 8, 10), np.random.default_rng(2), dtype=np.float32), (0.5,), None,
        adam(1e-3), None, 50, 3,
    )  # fmt: skip
    _, params = step_breakdown.timed_epochs(run, 1)
    assert step_breakdown.same_as_train_epochs(run, 1, params)
    changed = dict(params)
    changed["b2"] = params["b2"].copy()
    changed["b2"].view(np.uint32)[0] ^= 1  # one ulp
    assert not step_breakdown.same_as_train_epochs(run, 1, changed)


def test_the_pixels_are_uint8_laid_out_as_train_mnist_hands_them_over() -> None:
    pixels = step_breakdown.load_pixels("random", 100, np.random.default_rng(0))
    assert pixels.X.shape == (784, 100) and pixels.X.dtype == np.uint8
    assert pixels.X.T.flags.c_contiguous  # what the fused gather reads
    assert pixels.labels.shape == (100,) and set(np.unique(pixels.labels)) <= set(range(10))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--hidden", "16,0"], "error: argument --hidden: expected comma-separated integers >= 1 such as 512,256, got '16,0'"),
        (["--hidden", "16,x"], "error: argument --hidden: expected comma-separated integers >= 1 such as 512,256, got '16,x'"),
        (["--hidden", "512,,10"], "error: argument --hidden: expected comma-separated integers >= 1 such as 512,256, got '512,,10'"),
        (["--keep-prob", "1.5"], "--keep-prob must be in (0, 1]"),
        (["--epochs", "0"], "--epochs must be >= 1"),
        (["--augment", "swirl"], "invalid choice: 'swirl'"),
    ],
)
def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str], arguments: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        step_breakdown.main([*TINY, *arguments])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_batch_larger_than_the_images_times_the_products_of_the_batch_the_steps_take(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    timed_at: list[int] = []
    real = benchmark.matmul_operands

    def recorded(sizes: tuple[int, ...], batch_size: int, rng: np.random.Generator) -> list[tuple[Any, Any]]:
        timed_at.append(batch_size)
        return real(sizes, batch_size, rng)

    monkeypatch.setattr(benchmark, "matmul_operands", recorded)
    status, report, out = run_script(capsys, "--samples", "40", "--batch-size", "100000", "--hidden", "4", "--epochs", "1")
    assert status == 0
    assert timed_at == [40]  # every step takes the 40 images: so do the products timed beside it
    assert report["batch_size"] == 40 and report["samples"] == 40
    assert "; batch 40 (every image: --batch-size 100000 is more), 40 random" in out


def test_asking_for_mnist_without_a_cache_says_how_to_get_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FUNCTIONAL_NN_DATA", str(tmp_path))  # an empty data folder: nothing cached
    assert step_breakdown.main(["--data", "mnist", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no cached MNIST at") and "run scripts/train_mnist.py once" in err


def test_threads_pins_the_blas_when_main_is_called_from_python(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # run as a script, the environment pins it before NumPy loads; from Python, NumPy is loaded already
    seen: list[int] = []
    real = {name: getattr(step_breakdown, name) for name in ("timed_epochs", "timed_products")}

    def watched(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen.append(blas_threads())
            return real[name](*args, **kwargs)

        return call

    for name in real:
        monkeypatch.setattr(step_breakdown, name, watched(name))
    before = blas_threads()
    status, report, _ = run_script(capsys, "--hidden", "8", "--threads", "1")
    assert status == 0 and report["threads"] == 1
    assert seen == [1, 1] and blas_threads() == before  # pinned for the measurement, then as it was
