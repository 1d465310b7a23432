"""Issue 15, tried as a new user would: nothing lost, nothing silent.

One test (or one parametrized case) per edge: output folders checked before any work and
never left empty, pictures as people have them, a user's mistakes in the scripts' own voice,
files written as ``cp`` users expect, and values the library used to take without a word.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from functional_nn import compute_cost, forward_propagation, initialize_parameters, one_hot, train
from functional_nn.checkpoints import CheckpointError, load_checkpoint
from functional_nn.data import scale_pixels
from functional_nn.data.digit_files import load_idx
from functional_nn.data.mnist import MNISTPixels
from functional_nn.plots import new_figure, save_figure
from functional_nn.propagation import backward_propagation, predict_proba
from functional_nn.serialization import atomic_write, load_parameters, save_parameters
from functional_nn.training import DIVERGENCE_FACTOR, TrainingDivergedError, weight_bound
from test_images import write_stripes_folder
from conftest import WriteMNISTCache
from test_scripts_mnist import _draw_one, _kaggle_csv, _small_mnist

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark  # noqa: E402  (the scripts folder is not a package)
import binary_classification  # noqa: E402
import cats_vs_dogs  # noqa: E402
import compare_optimizers  # noqa: E402
import predict_digit  # noqa: E402
import train_mnist  # noqa: E402

UNWRITABLE = Path("/proc/functional-nn-run")  # /proc refuses new files even to root


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _small_csv(tmp_path: Path, rng: np.random.Generator) -> Path:
    return _kaggle_csv(tmp_path / "train.csv", rng, 40)


def _quick(csv: Path, out: Path, *extra: str) -> list[str]:
    return ["--csv", str(csv), "--epochs", "1", "--hidden", "8", "--dev-size", "10", "--out", str(out), *extra]


def _one_error_line(err: str) -> str:
    """The stderr of a script that refused: exactly one line, ``error: ...``, no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


# --------------------------------------------------------------------------------------------
# a run is never lost to its output folder


@pytest.mark.parametrize("case", ["a file", "under a file", "unwritable"])
def test_train_mnist_checks_the_output_folder_before_loading_data(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("not a folder")
    out = {"a file": tmp_path / "file", "under a file": tmp_path / "file" / "run", "unwritable": UNWRITABLE}[case]
    # the CSV does not exist: had the data been loaded first, the error would name it
    status = train_mnist.main(["--csv", str(tmp_path / "missing.csv"), "--out", str(out)])
    line = _one_error_line(capsys.readouterr().err)
    assert status == 2 and f"--out {out}" in line and "missing.csv" not in line
    assert {"a file": "is a file, not a folder", "under a file": "is a file, not a folder", "unwritable": "cannot"}[case] in line


@pytest.mark.parametrize("script", ["cats_vs_dogs", "binary_classification"])
def test_other_scripts_check_the_output_folder_before_working(
    script: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("not a folder")
    if script == "cats_vs_dogs":  # the picture folder does not exist either: the out check comes first
        status = cats_vs_dogs.main([str(tmp_path / "no-pictures"), "--out", str(tmp_path / "file")])
    else:
        status = binary_classification.main(["--epochs", "100000000", "--out", str(tmp_path / "file")])
    assert status == 2 and "--out" in _one_error_line(capsys.readouterr().err)
    assert (tmp_path / "file").read_text() == "not a folder"


def _bad_label_pixels() -> MNISTPixels:
    """MNIST pixels whose cache reads well but holds the label 12."""
    rng = np.random.default_rng(0)
    splits = [(rng.integers(0, 256, (784, m)).astype(np.uint8), np.arange(m) % 10) for m in (30, 10, 10)]
    splits[0][1][3] = 12
    return MNISTPixels(*splits[0], *splits[1], *splits[2])


@pytest.mark.parametrize("case", ["huge --hidden", "bad cached label", "bad CSV label", "diverged"])
def test_a_start_that_fails_leaves_no_folder(
    case: str, tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], mnist_cache: WriteMNISTCache
) -> None:
    out = tmp_path / "runs" / "run"
    csv = _small_csv(tmp_path, rng)
    if case == "huge --hidden":
        argv = [*_quick(csv, out), "--hidden", str(10**12)]  # the last --hidden counts
    elif case == "bad cached label":
        mnist_cache(_bad_label_pixels())
        argv = ["--epochs", "1", "--hidden", "8", "--out", str(out)]
    elif case == "bad CSV label":
        lines = csv.read_text().splitlines()
        csv.write_text("\n".join([lines[0], "10" + lines[1][1:], *lines[2:]]) + "\n")
        argv = _quick(csv, out)
    else:  # SGD at rate 1e9 throws float32 weights past 1/eps in the first step
        argv = _quick(csv, out, "--optimizer", "sgd", "--learning-rate", "1e9")
    status = train_mnist.main(argv)
    line = _one_error_line(capsys.readouterr().err)
    assert status == (1 if case == "diverged" else 2)
    assert not out.exists() and not out.parent.exists()  # neither the run folder nor its new parent
    expected = {"huge --hidden": "not enough memory", "bad cached label": "has train labels outside 0..9 (y_train[3] = 12): delete", "bad CSV label": "labels must lie in 0..9",
                "diverged": "--learning-rate"}[case]  # fmt: skip
    assert expected in line


def test_reusing_a_run_folder_refuses_without_overwrite(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv, out = _small_csv(tmp_path, rng), tmp_path / "run"
    assert train_mnist.main(_quick(csv, out)) == 0
    before = (out / "params.npz").read_bytes()
    capsys.readouterr()
    assert train_mnist.main(_quick(csv, out, "--seed", "1")) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "already holds params.npz" in line and "--overwrite" in line
    assert (out / "params.npz").read_bytes() == before
    assert train_mnist.main(_quick(csv, out, "--seed", "1", "--overwrite")) == 0
    assert (out / "params.npz").read_bytes() != before


def test_a_checkpointed_folder_points_to_resume_in_flags(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv, out = _small_csv(tmp_path, rng), tmp_path / "run"
    assert train_mnist.main(_quick(csv, out, "--checkpoint")) == 0
    capsys.readouterr()
    assert train_mnist.main(_quick(csv, out, "--checkpoint", "--overwrite")) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"--resume {out}" in line and "resume=True" not in line


@pytest.mark.parametrize("script", ["cats_vs_dogs", "binary_classification"])
def test_other_scripts_refuse_an_earlier_runs_outputs(script: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    name = "metrics.json" if script == "cats_vs_dogs" else "decision_boundary.png"
    (out / name).write_text("earlier")
    if script == "cats_vs_dogs":
        status = cats_vs_dogs.main([str(write_stripes_folder(tmp_path / "pictures", 4, np.random.default_rng(0))), "--out", str(out)])
    else:
        status = binary_classification.main(["--out", str(out)])
    assert status == 2 and f"already holds {name}" in _one_error_line(capsys.readouterr().err)
    assert (out / name).read_text() == "earlier"


# --------------------------------------------------------------------------------------------
# pictures a user really has


def _stroke_mask(size: tuple[int, int] = (90, 140)) -> Image.Image:
    """The stroke of ``_draw_one`` as a mask: 255 on the stroke, 0 elsewhere."""
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle((20, 30, 32, 110), fill=255)
    return mask


@pytest.mark.parametrize("ink", ["black", "white"])
def test_a_digit_on_a_transparent_background(ink: str, tmp_path: Path) -> None:
    value = 0 if ink == "black" else 255
    picture = Image.new("RGBA", (90, 140), (value, value, value, 0))
    picture.putalpha(_stroke_mask())
    picture.save(tmp_path / "transparent.png")
    reference = predict_digit.digit_pixels(_draw_one(tmp_path / "one.png"))
    np.testing.assert_array_equal(predict_digit.digit_pixels(tmp_path / "transparent.png"), reference)


def test_a_16_bit_picture_is_scaled_by_its_range(tmp_path: Path) -> None:
    page = np.full((140, 90), 65535, dtype=np.uint16)
    page[30:111, 20:33] = 0  # the stroke of _draw_one: dark on light
    Image.fromarray(page).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as opened:
        assert opened.mode.startswith("I")  # 16 bits a channel, which convert("L") used to clip
    reference = predict_digit.digit_pixels(_draw_one(tmp_path / "one.png"))
    np.testing.assert_array_equal(predict_digit.digit_pixels(tmp_path / "deep.png"), reference)


def _tiny_network(tmp_path: Path, output: str, n_out: int) -> Path:
    params = initialize_parameters([784, 6, n_out], np.random.default_rng(0), dtype=np.float32)
    return save_parameters(tmp_path / f"{output}.npz", params, metadata={"activations": ["relu", output]})


def test_each_picture_fails_on_its_own_and_the_others_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    network = _tiny_network(tmp_path, "softmax", 10)
    good = _draw_one(tmp_path / "good.png", size=(40, 60))  # 2,400 pixels: under the limit below
    Image.new("L", (100, 100), 255).save(tmp_path / "bomb.png")  # 10,000 pixels: more than twice the limit
    Image.new("L", (60, 60), 255).save(tmp_path / "big.png")  # 3,600: above the limit, under twice it
    (tmp_path / "notes.txt").write_text("not a picture")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)  # Pillow's own setting, lowered to keep the files small
    names = ["bomb.png", "big.png", "missing.png", "notes.txt", "good.png"]
    assert predict_digit.main([str(network), *[str(tmp_path / name) for name in names]]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{good}: ") and len(captured.out.strip().splitlines()) == 1
    errors = captured.err.strip().splitlines()
    assert [line.split(": ")[0] for line in errors] == [str(tmp_path / name) for name in names[:-1]]
    assert "too large" in errors[0] and "too large" in errors[1] and "Traceback" not in captured.err


@pytest.mark.parametrize("size", [(1, 1), (30, 30)])
def test_a_picture_without_a_digit_says_so(size: tuple[int, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Image.new("L", size, 255).save(tmp_path / "empty.png")
    assert predict_digit.main([str(_tiny_network(tmp_path, "softmax", 10)), str(tmp_path / "empty.png")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert ("too small to hold a digit" if size == (1, 1) else "no digit found") in captured.err


def test_a_single_sigmoid_output_is_labelled_as_classes_1_and_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    network = _tiny_network(tmp_path, "sigmoid", 1)
    picture = _draw_one(tmp_path / "one.png")
    assert predict_digit.main([str(network), str(picture)]) == 0
    params = load_parameters(network).params
    p = float(predict_proba(predict_digit.digit_pixels(picture), params, ("relu", "sigmoid"))[0, 0])
    ranked = sorted([(1, p), (0, 1 - p)], key=lambda pair: -pair[1])
    assert capsys.readouterr().out.strip() == f"{picture}: " + "  ".join(f"{k} ({q:.3f})" for k, q in ranked)


@pytest.mark.parametrize("output", ["linear", "relu", "tanh"])
def test_an_output_that_is_not_a_probability_is_refused(output: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    network = _tiny_network(tmp_path, output, 10)
    assert predict_digit.main([str(network), str(_draw_one(tmp_path / "one.png"))]) == 2
    assert "not probabilities" in _one_error_line(capsys.readouterr().err)


# --------------------------------------------------------------------------------------------
# errors in the scripts' own voice


def _refused_by_argparse(capsys: pytest.CaptureFixture[str], run: object, *words: str) -> str:
    assert callable(run)
    with pytest.raises(SystemExit) as exit_info:
        run()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err and "error: " in err
    for word in words:
        assert word in err
    return err


@pytest.mark.parametrize(
    ("script", "argv", "flag"),
    [
        ("train_mnist", ["--seed", "-1"], "--seed"),
        ("train_mnist", ["--learning-rate", "inf"], "--learning-rate"),
        ("train_mnist", ["--learning-rate", "nan"], "--learning-rate"),
        ("train_mnist", ["--max-norm", "inf"], "--max-norm"),
        ("train_mnist", ["--csv", "x.csv", "--dev-size", "0"], "--dev-size"),
        ("cats_vs_dogs", ["pictures", "--seed", "-1"], "--seed"),
        ("cats_vs_dogs", ["pictures", "--learning-rate", "inf"], "--learning-rate"),
        ("cats_vs_dogs", ["pictures", "--lambd", "inf"], "--lambd"),
        ("binary_classification", ["--seed", "-1"], "--seed"),
        ("binary_classification", ["--learning-rate", "inf"], "--learning-rate"),
        ("binary_classification", ["--noise", "nan"], "--noise"),
        ("compare_optimizers", ["--seed", "-1"], "--seed"),
        ("benchmark", ["--seed", "-1"], "--seed"),
        ("predict_digit", ["params.npz", "x.png", "--top", "0"], "--top"),
    ],
)
def test_bad_values_are_refused_naming_the_flag(
    script: str, argv: list[str], flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main = {"train_mnist": train_mnist.main, "cats_vs_dogs": cats_vs_dogs.main, "binary_classification": binary_classification.main,
            "compare_optimizers": compare_optimizers.main, "benchmark": benchmark.main, "predict_digit": predict_digit.main}[script]  # fmt: skip
    _refused_by_argparse(capsys, lambda: main([*argv]), flag)
    assert not (tmp_path / "runs").exists()


def test_compare_optimizers_lr_is_checked_in_its_own_voice(capsys: pytest.CaptureFixture[str]) -> None:
    # before the data is loaded: with no MNIST to be had (the suite's empty data folder and no
    # package index), the message is about --lr, not about fetching MNIST
    assert compare_optimizers.main(["--lr", "adam=inf"]) == 2
    assert "--lr adam=inf" in _one_error_line(capsys.readouterr().err)
    assert compare_optimizers.main(["--optimizers", "adamm"]) == 2
    assert "--optimizers" in _one_error_line(capsys.readouterr().err)


def test_csv_naming_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_mnist.main(["--csv", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    assert "--csv" in _one_error_line(capsys.readouterr().err) and not (tmp_path / "run").exists()


def _checkpointed_run(tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "run"
    assert train_mnist.main(_quick(_small_csv(tmp_path, rng), out, "--checkpoint")) == 0
    capsys.readouterr()
    return out


@pytest.mark.parametrize("edit", ["not a list", "a bad value", "a --resume inside"])
def test_a_hand_edited_command_json(
    edit: str, tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _checkpointed_run(tmp_path, rng, capsys)
    argv = json.loads((out / "command.json").read_text())["argv"]
    edited = {"not a list": "--epochs 3", "a bad value": [*argv, "--epochs", "three"], "a --resume inside": [*argv, "--resume", "x"]}[edit]
    (out / "command.json").write_text(json.dumps({"argv": edited}))
    err = _refused_by_argparse(capsys, lambda: train_mnist.main(["--resume", str(out)]), "command.json")
    assert {"not a list": "a list of strings", "a bad value": "three", "a --resume inside": "must not hold --resume"}[edit] in err


def test_resume_with_other_settings_is_refused(tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]) -> None:
    out = _checkpointed_run(tmp_path, rng, capsys)
    err = _refused_by_argparse(capsys, lambda: train_mnist.main(["--resume", str(out), "--epochs", "5", "--seed", "3"]))
    assert "drop --epochs, --seed" in err
    assert train_mnist.main(["--resume", str(out)]) == 0  # alone, it continues (here: a finished run, left as it is)


@pytest.mark.parametrize("case", ["missing", "a file", "one class", "unknown class"])
def test_cats_vs_dogs_reports_picture_folder_errors_in_one_line(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "pictures"
    extra: list[str] = []
    if case == "a file":
        root.write_text("x")
    elif case == "one class":  # a folder of one class (--classes naming one is refused at parsing)
        write_stripes_folder(root, 4, np.random.default_rng(0))
        shutil.rmtree(sorted(root.iterdir())[0])
    elif case == "unknown class":
        write_stripes_folder(root, 4, np.random.default_rng(0))
        extra = ["--classes", "cats,dogs"]
    assert cats_vs_dogs.main([str(root), "--out", str(tmp_path / "out"), *extra]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert {"missing": "is not a folder", "a file": "is not a folder", "one class": "at least two class sub-folders",
            "unknown class": "--classes ['cats', 'dogs'] are not sub-folders"}[case] in line  # fmt: skip
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# files


def _params() -> dict[str, np.ndarray]:
    return initialize_parameters([3, 2], np.random.default_rng(0))


def test_save_parameters_refuses_a_read_only_file(tmp_path: Path) -> None:
    target = tmp_path / "params.npz"
    target.write_bytes(b"precious")
    target.chmod(0o444)
    with pytest.raises(PermissionError, match="read-only"):
        save_parameters(target, _params(), metadata={"activations": ["sigmoid"]})
    assert target.read_bytes() == b"precious" and stat.S_IMODE(target.stat().st_mode) == 0o444
    assert [p.name for p in tmp_path.iterdir()] == ["params.npz"]


def test_save_parameters_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real" / "params.npz"
    real.parent.mkdir()
    link = tmp_path / "params.npz"
    link.symlink_to(real)  # dangling: writing creates the file it names, as cp does
    save_parameters(link, _params(), metadata={"activations": ["sigmoid"]})
    assert link.is_symlink() and real.is_file()
    np.testing.assert_array_equal(load_parameters(link).params["W1"], _params()["W1"])
    save_parameters(link, {k: v + 1 for k, v in _params().items()}, metadata={"activations": ["sigmoid"]})
    assert link.is_symlink() and load_parameters(real).params["W1"][0, 0] == _params()["W1"][0, 0] + 1


def test_stale_temporaries_are_cleaned_and_others_kept(tmp_path: Path) -> None:
    target = tmp_path / "params.npz"
    dead = tmp_path / ".params.npz.fnn-4194305-abc123.tmp"  # above Linux's largest pid: no such process
    alive = tmp_path / f".params.npz.fnn-{os.getpid()}-def456.tmp"  # this process may be writing it
    foreign = tmp_path / ".params.npz.someone-else.tmp"
    other_target = tmp_path / ".history.json.fnn-4194305-abc123.tmp"
    for path in (dead, alive, foreign, other_target):
        path.write_bytes(b"partial")
    save_parameters(target, _params(), metadata={"activations": ["sigmoid"]})
    assert not dead.exists() and alive.exists() and foreign.exists() and other_target.exists()
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"half")
        raise RuntimeError("killed")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (target, alive, foreign, other_target))


def test_every_output_gets_the_usual_mode(tmp_path: Path, umask_022: None) -> None:
    save_parameters(tmp_path / "params.npz", _params(), metadata={"activations": ["sigmoid"]})
    figure = new_figure(1, 1)
    save_figure(figure, tmp_path / "picture.png")
    cats_vs_dogs.write_json(tmp_path / "metrics.json", {"a": 1})
    for name in ("params.npz", "picture.png", "metrics.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    (tmp_path / "params.npz").chmod(0o600)  # a mode the user chose is kept, as cp keeps it
    save_parameters(tmp_path / "params.npz", _params(), metadata={"activations": ["sigmoid"]})
    assert stat.S_IMODE((tmp_path / "params.npz").stat().st_mode) == 0o600


def test_a_script_run_writes_every_output_with_the_usual_mode(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str], umask_022: None
) -> None:
    out = tmp_path / "run"
    assert train_mnist.main(_quick(_small_csv(tmp_path, rng), out, "--checkpoint")) == 0
    written = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"params.npz", "history.json", "curves.png", "command.json"}
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {p.name: 0o644 for p in written}


@pytest.mark.parametrize("content", ["random bytes", "pickled array", "pickled entry"])
def test_unreadable_npz_files_never_suggest_unpickling(content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.npz"
    if content == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(500))
    elif content == "pickled array":
        with path.open("wb") as handle:
            np.save(handle, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    else:
        np.savez(path, W1=np.array([{"a": 1}], dtype=object))
    zip_start = b"PK\x03\x04"
    reason = {  # what is wrong with the file, said as such
        "random bytes": f"it is not an .npz archive: it starts with {path.read_bytes()[:4]!r}, not a zip archive's {zip_start!r}",
        "pickled array": "it holds a single array (an .npy file), not an .npz archive",
        "pickled entry": "an entry holds Python objects, which are never loaded",
    }[content]
    as_parameters = f"{path} cannot be read as a parameter file ({reason}); it may be truncated or damaged: save it again"
    with pytest.raises(ValueError, match=f"^{re.escape(as_parameters)}$") as error:
        load_parameters(path)
    as_checkpoint = f"{path} is not a readable checkpoint (truncated or corrupt?): {reason}"
    with pytest.raises(CheckpointError, match=f"^{re.escape(as_checkpoint)}$") as checkpoint_error:
        load_checkpoint(path)
    for message in (str(error.value), str(checkpoint_error.value)):
        assert "pickle" not in message.replace("never", "") or "never loaded" in message
        assert "allow_pickle" not in message
    assert predict_digit.main([str(path), "x.png"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "allow_pickle" not in line and reason in line


# --------------------------------------------------------------------------------------------
# values the library used to take without a word


def _network(n_out: int, output: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 8)), initialize_parameters([3, 4, n_out], rng)


@pytest.mark.parametrize(
    ("loss", "output", "Y", "message"),
    [
        ("categorical_cross_entropy", "softmax", np.tile([[1.0], [1.0], [0.0]], 8), "do not sum to 1"),
        ("categorical_cross_entropy", "softmax", np.tile([[1.5], [-0.5], [0.0]], 8), "negative target"),
        ("binary_cross_entropy", "sigmoid", np.full((1, 8), 7.0), "needs targets in \\[0, 1\\]"),
        ("binary_cross_entropy", "sigmoid", np.full((1, 8), -1.0), "needs targets in \\[0, 1\\]"),
        ("hinge", "linear", np.full((1, 8), 7.0), "other than the hinge loss's labels"),
    ],
)
def test_targets_outside_the_loss_are_refused(loss: str, output: str, Y: np.ndarray, message: str) -> None:
    X, params = _network(Y.shape[0], output)
    activations = ("relu", output)
    with pytest.raises(ValueError, match=message):
        train(X, Y, params, activations=activations, loss=loss, epochs=1, learning_rate=0.1)  # type: ignore[arg-type]
    Y_good = one_hot(np.arange(8) % Y.shape[0], Y.shape[0]) if Y.shape[0] > 1 else (np.arange(8) % 2)[None, :].astype(float)
    with pytest.raises(ValueError, match="dev\\[1\\]"):
        train(X, Y_good, params, activations=activations, loss=loss, epochs=1, learning_rate=0.1, dev=(X, Y))  # type: ignore[arg-type]
    AL, caches = forward_propagation(X, params, activations)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        compute_cost(AL, Y, loss)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        backward_propagation(AL, Y, caches, loss)  # type: ignore[arg-type]


def test_soft_labels_and_any_real_regression_target_are_kept() -> None:
    X, params = _network(3, "softmax")
    soft = np.tile([[0.8], [0.1], [0.1]], 8)
    assert train(X, soft, params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=2, learning_rate=0.1).epoch == 2
    X, params = _network(1, "linear")
    Y = np.linspace(-30.0, 7.0, 8)[None, :]
    result = train(X, Y, params, activations=("relu", "linear"), loss="mean_squared_error", epochs=3, learning_rate=1e-3)
    assert result.history[-1].cost < result.history[0].cost


def test_runaway_cost_raises_training_diverged() -> None:
    """Linear regression by gradient descent at 3x the stable rate: the error triples each epoch,
    the cost grows 9x, finite for hundreds of epochs, but past 1e4 times the first by epoch 6."""
    X = np.array([[1.0, -1.0]])  # x^2 = 1 on average: the cost's curvature is 2, stable below rate 1
    Y = np.array([[1.0, -1.0]])
    params = {"W1": np.zeros((1, 1)), "b1": np.zeros((1, 1))}
    # w_{t+1} - 1 = (1 - 2 * 2.0) (w_t - 1): |w - 1| triples, the cost (w - 1)^2 grows 9x per epoch
    costs = [1.0 * 9.0**t for t in range(10)]
    epoch = next(t + 1 for t, c in enumerate(costs) if c > DIVERGENCE_FACTOR * costs[0])
    with pytest.raises(TrainingDivergedError, match=f"at epoch {epoch}: the cost is 5.905e\\+04, more than 10000 times the first epoch's 1;"):
        train(X, Y, params, activations=("linear",), loss="mean_squared_error", epochs=1000, learning_rate=2.0)
    assert epoch == 6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_beyond_the_dtype_bound_raise_training_diverged(dtype: type[np.floating]) -> None:
    """A weight of 1e30 in float64 (or 1e8 in float32) has left every sensible scale."""
    big = 1e30 if dtype == np.float64 else 1e8
    assert big > weight_bound(np.dtype(dtype))
    X = np.ones((1, 4), dtype=dtype)
    Y = np.ones((1, 4), dtype=dtype)  # cost 0 throughout: only the weights give it away
    params = {"W1": np.array([[1.0]], dtype=dtype), "b1": np.array([[0.0]], dtype=dtype), "W2": np.array([[big]], dtype=dtype), "b2": np.array([[1.0]], dtype=dtype)}
    params["W1"] = np.array([[0.0]], dtype=dtype)  # a dead first layer: W2 gets no gradient and stays
    with pytest.raises(TrainingDivergedError, match=f"epoch 1: W2 holds a value of magnitude .* beyond the {np.dtype(dtype).name} bound"):
        train(X, Y, params, activations=("relu", "linear"), loss="mean_squared_error", epochs=2, learning_rate=0.1)
    assert weight_bound(np.dtype(np.float64)) == pytest.approx(4.5e15, rel=0.01)


def _matrix(a: np.ndarray) -> np.matrix:
    with warnings.catch_warnings():  # numpy itself discourages the class: what users have anyway
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.asmatrix(a)


def test_numpy_matrix_inputs_are_refused_with_our_message() -> None:
    X, params = _network(3, "softmax")
    Y = one_hot(np.arange(8) % 3, 3)
    with pytest.raises(TypeError, match=r"X is a numpy.matrix.*np.asarray\(X\)"):
        forward_propagation(_matrix(X), params, ("relu", "softmax"))
    with pytest.raises(TypeError, match=r"Y is a numpy.matrix"):
        train(X, _matrix(Y), params, activations=("relu", "softmax"), loss="categorical_cross_entropy", epochs=1, learning_rate=0.1)
    with pytest.raises(TypeError, match=r"labels is a numpy.matrix"):
        one_hot(_matrix(np.arange(3)), 3)
    with pytest.raises(TypeError, match=r"pixels is a numpy.matrix"):
        scale_pixels(_matrix(np.zeros((2, 2), dtype=np.uint8)))


def test_an_idx_header_whose_sizes_overflow_reports_the_true_byte_count(tmp_path: Path) -> None:
    sizes = [0xFFFFFFFF] * 4
    path = tmp_path / "huge-idx4-ubyte"
    path.write_bytes(bytes([0, 0, 0x0E, 4]) + np.array(sizes, dtype=">u4").tobytes() + b"\0" * 16)
    expected = (2**32 - 1) ** 4 * 8  # far beyond int64: numpy's product would wrap around
    with pytest.raises(ValueError, match=f"needs {expected} bytes of data, the file has 16 \\(truncated\\)"):
        load_idx(path)
