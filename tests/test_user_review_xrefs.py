"""A user's review of the names, defaults and install advice the docstrings and the scripts'
``--help`` give, checked against the code: ``help()`` on every public method says what it
does, each preset-dependent default ``train_mnist.py --help`` quotes is the preset's, and the
benchmark's advice for a missing PyTorch names neither a plain ``pip install torch`` (several GB
of CUDA libraries) nor the bench extra, which leaves PyTorch out."""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import re
import sys
from pathlib import Path

import pytest
from test_docs import _public_modules

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark  # noqa: E402  (the scripts folder is not a package)
import train_mnist  # noqa: E402

MNIST_DEV_IMAGES = 10_000  # what load_mnist holds out when a preset sets no mnist_dev_size


def test_every_public_method_of_a_public_class_has_a_docstring() -> None:
    # help(functional_nn.distributed.DaskShards) listed map with nothing to say what a round returns
    undocumented = sorted(
        f"{module.__name__}.{name}.{attribute}"
        for module in _public_modules()
        for name, value in vars(module).items()
        if not name.startswith("_") and inspect.isclass(value) and value.__module__ == module.__name__
        for attribute, member in vars(value).items()
        if not attribute.startswith("_")
        and inspect.isfunction(member)
        and not (inspect.getdoc(getattr(value, attribute)) or "").strip()
    )
    assert undocumented == []


def _help(option: str) -> str:
    """The ``--help`` text of ``train_mnist.py``'s ``option``, on one line."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        train_mnist.main(["--help"])
    text = " ".join(out.getvalue().split())
    found = re.search(rf"{option} [A-Z_]+ (.*?) --[a-z]", text.split("options:", 1)[1])
    assert found, option
    return found.group(1)


def test_train_mnist_help_gives_each_presets_dev_size() -> None:
    # the help said "(default 10000)" while --preset best holds out 1,000 (its 59,000 images)
    said = re.search(r"default: the preset's, (\d+)((?:; \w+ \d+)*)\)", _help("--dev-size"))
    assert said, _help("--dev-size")
    quoted = {name: int(value) for name, value in re.findall(r"; (\w+) (\d+)", said.group(2))}
    for preset in train_mnist.PRESETS:
        args, _ = train_mnist.parse_args(["--preset", preset])
        held_out = MNIST_DEV_IMAGES if args.dev_size is None else args.dev_size
        assert held_out == quoted.get(preset, int(said.group(1))), preset


def test_benchmark_advice_for_a_missing_pytorch_is_its_cpu_build_not_the_bench_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # as when PyTorch is not installed
    run = [
        "--data", "random", "--samples", "40", "--batch-size", "20", "--repeats", "1", "--warmup", "0", "--hidden", "4",
        "--optimizers", "sgd", "--ceiling-seconds", "0.001", "--settle-seconds", "0", "--threads", "1",
        "--contenders", "functional_nn", "torch",
    ]  # fmt: skip
    assert benchmark.main(run) == 0
    notes = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["notes"]
    (note,) = [note for note in notes if note.startswith("PyTorch")]
    assert note == "PyTorch is not installed: skipped (its CPU-only build, as PyTorch's installation guide shows; the bench extra leaves it out)"
    assert "for the contenders (torch," not in (benchmark.__doc__ or "")
