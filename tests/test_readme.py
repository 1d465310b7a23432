"""The README's Python examples run, in order, as a reader would paste them, and pass
``mypy --strict`` as a reader's own script would; its commands and the figures it quotes are
the ones the scripts take and print."""

from __future__ import annotations

import builtins
import re
import symtable
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest
from test_installed_typing import _installed, mypy_as_a_user

README = Path(__file__).resolve().parents[1] / "README.md"
SCRIPTS = README.parent / "scripts"


def _blocks_with_lines(language: str) -> list[tuple[int, str]]:
    """Each block, with the README line its first line of code is on."""
    text = README.read_text()
    return [
        (text.count("\n", 0, match.start(1)) + 1, match.group(1))
        for match in re.finditer(rf"```{language}\n(.*?)```", text, re.S)
    ]


def _blocks(language: str) -> list[str]:
    return [block for _, block in _blocks_with_lines(language)]


def _free_names(block: str) -> set[str]:
    """The names ``block`` reads that it does not bind itself (builtins aside): what it takes from earlier blocks."""
    top = symtable.symtable(block, "block", "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    read: set[str] = set()
    tables = [top]
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        read |= {s.get_name() for s in table.get_symbols() if s.is_referenced() and (table is top or s.is_global())}
    return read - bound - set(dir(builtins))


def test_every_python_block_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _blocks("python")
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks):
        # a block may go on from an earlier one's values (X, clf), but imports every module it uses:
        # pasted on its own or after other blocks, `np` is never a NameError
        borrowed = sorted(name for name in _free_names(block) if isinstance(namespace.get(name), types.ModuleType))
        assert not borrowed, f"README.md python block {number} uses {borrowed} without importing them"
        exec(compile(block, f"README.md python block {number}", "exec"), namespace)  # noqa: S102  (our own docs)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("0 0.68")  # the custom loop's first cost on XOR, before any step


def test_every_python_block_type_checks(tmp_path: Path) -> None:
    """``mypy --strict`` passes every block, as a user's script that does the same would pass.

    One file per block, each line at its README line number (mypy's ``readme_1.py:271`` is
    reported as ``README.md:271``); a block that goes on from earlier ones (it reads ``X`` or ``clf``
    without binding them) is checked in the same file as the block before it. One mypy run
    over all the files, in a temporary folder, against the installed package as
    ``tests/test_installed_typing.py`` checks it; scikit-learn, onnxruntime and skl2onnx ship no
    types, so only their imports are let through untyped, as the repository's own configuration does.
    """
    installed, _ = _installed()
    files: list[list[str]] = []
    for line, block in _blocks_with_lines("python"):
        if not files or not _free_names(block):
            files.append([])
        lines = files[-1]
        lines.extend([""] * (line - 1 - len(lines)))  # blank lines up to where the block starts
        lines.extend(block.splitlines())
    names = [f"readme_{number}.py" for number in range(len(files))]
    for name, lines in zip(names, files):
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    (tmp_path / "mypy.ini").write_text(
        textwrap.dedent(
            """\
            [mypy]
            strict = True
            enable_error_code = ignore-without-code, redundant-expr, truthy-bool

            [mypy-sklearn.*,onnxruntime.*,skl2onnx.*]
            ignore_missing_imports = True
            """
        )
    )
    finished = mypy_as_a_user(tmp_path, names, config_file="mypy.ini", error_summary=True)
    report = re.sub(r"readme_\d+\.py:(\d+)", r"README.md:\1", finished.stdout)
    assert finished.returncode == 0 and "Success: no issues found" in report, (
        f"the README's python blocks do not pass mypy --strict (installed: {installed}):\n{report}{finished.stderr}"
    )


def test_the_distributed_example_runs_on_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    (block,) = [block for block in _blocks("python") if "train_rounds(" in block]
    exec(compile(block, "README.md train_rounds block", "exec"), {})  # noqa: S102  (a fresh session)
    assert capsys.readouterr().out.split()[-1] == "True"  # the cluster's rounds equal the in-process ones


def test_commands_name_one_file_where_a_script_takes_one() -> None:
    """A glob such as ``runs/mnist-*/params.npz`` expands to every run's file once there are two runs."""
    commands = [line for block in _blocks("bash") for line in block.splitlines() if "scripts/predict_digit.py" in line]
    assert commands
    for command in commands:
        params = command.split()[2]
        assert "*" not in params and params.endswith("/params.npz"), command


def test_the_moons_plateau_is_where_the_readme_says(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPTS))
    try:
        import binary_classification
    finally:
        sys.path.pop(0)
    text = " ".join(README.read_text().split())
    assert (
        "On the default moons the cost sits between 0.27 and 0.26 (88.5% of the samples right) from about epoch 250 to "
        "epoch 2,500 while the units' lines turn, then the boundary bends around the moons: 0.24 at epoch 3,000, 0.09 at "
        "3,750, and every training sample right by 4,000"
    ) in text
    run = binary_classification.run(binary_classification.parse_args(["--print-every", "100000", "--out", str(tmp_path)]))
    cost = dict(enumerate(run.costs, start=1))
    assert round(cost[250], 2) == 0.27 and round(cost[2500], 2) == 0.26
    assert all(0.26 <= cost[epoch] <= 0.2725 for epoch in range(250, 2501))  # the plateau
    assert cost[2750] < 0.256 and round(cost[3000], 2) == 0.24 and round(cost[3750], 2) == 0.09


def test_the_settings_that_quiet_a_hand_started_cluster_are_every_one_local_cluster_uses() -> None:
    """*Scale out* tells how to quiet a hand-started cluster "as ``local_cluster`` does": in
    Dask's YAML, each of ``QUIET_CLUSTER``'s settings (one was missing)."""
    from functional_nn.distributed import QUIET_CLUSTER

    text = " ".join(README.read_text().split())
    for key, value in QUIET_CLUSTER.items():
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        assert f"`{': '.join(key.split('.'))}: {shown}`" in text, key


def test_the_values_the_examples_quote_in_their_comments(capsys: pytest.CaptureFixture[str]) -> None:
    """What a line of an example gives, where its comment says so: the augmented run's
    ``accuracy`` (``# 1.0``), the estimator's and the ONNX model's shapes, and the per-layer
    diagnostics (the gradient norms printed, the step of the last record and its ratio)."""

    def run(marker: str, namespace: dict[str, Any]) -> str:
        (block,) = [block for block in _blocks("python") if marker in block]
        exec(compile(block, f"README.md block with {marker}", "exec"), namespace)  # noqa: S102  (our own docs)
        return block

    namespace: dict[str, Any] = {}
    block = run("elastic_distortion", namespace)
    assert "predict(X, params, (\"relu\", \"softmax\")) == y))   # 1.0" in block and namespace["accuracy"] == 1.0

    namespace = {}
    block = run("cross_val_score", namespace)
    assert "# (64, 64), ('relu', 'softmax'), ..." in block
    clf = namespace["clf"]
    assert clf.params_["W1"].shape == (64, 64) and tuple(clf.activations_) == ("relu", "softmax")
    block = run("onnxruntime.InferenceSession", namespace)
    assert "# (1797, 10)" in block and namespace["probabilities"].shape == (1797, 10)
    capsys.readouterr()

    namespace = {}
    block = run("layer_statistics_observer(", namespace)
    printed = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert "# ||dW_l||: 1.4e-04 ... 1.1e-01" in block
    assert (printed[0][:2], printed[-1][:2]) == (["1", "1.4e-04"], ["5", "1.1e-01"])
    assert "# at step 160: layer 1 still ~1000x smaller" in block
    last = namespace["log"][-1]
    assert (last.progress.epoch - 1) * last.progress.steps + last.progress.step == 160
    norms = [layer.gradient_norm for layer in last.layers]
    assert 300 < norms[-1] / norms[0] < 3000
