"""Training time of train_mnist.py at an old revision against this checkout, in alternating pairs.

    python scripts/benchmark_revisions.py                       # the main job's old configuration, 4 pairs
    python scripts/benchmark_revisions.py --configuration best --pairs 3
    python scripts/benchmark_revisions.py --old 36a5124 --old-args "--epochs 5" --new-args "--epochs 5"

The speed issue's time target asks ``train_mnist.py`` to train in at most half of the time the
code before the speed work (revision ``36a5124``, the default ``--old``) took, on the same
machine, with the same seed and the same accuracy within noise, and its peak memory to stay
within the data set plus 150 MB. This runs the two as a user runs them, one process each:

* the old revision, taken from this repository's history by ``git archive`` into a temporary
  folder, runs its own ``scripts/train_mnist.py`` with its own package first on ``PYTHONPATH``;
* this checkout (its working tree, uncommitted changes included) runs its
  ``scripts/train_mnist.py`` with the arguments that give the old configuration.

``--pairs`` pairs, one run of each, back to back: old then new in the first pair, new then
old in the second, and so on (``--order alternate``, the default since 2026-12-03; until
then every pair ran old then new, which ``--order old-first`` still does). The host's load
moves both, and the new code, which uses every core while the old one forced one BLAS
thread, more; a load that drifts during a pair, as this host's does when the runs' own
threads pile up, would favour whichever side always ran first. Each pair's ratio
``new / old`` is the figure, and their median, range and the count at or below
``--target`` (0.5) sum them up. Each run reports its ``training_seconds`` (the script's own
clock, from the first step to the last: loading the data and drawing the pictures are left
out), its test accuracy and its peak memory (the child's maximum resident set size from
``wait4``; Linux gives it in KiB), and each pair the load average before it. Linux carries
the launching process's own peak into a child's figure (its ``exec`` keeps the high-water
mark of the memory it replaces), so this script stays small and prints its own peak
(``VmHWM``) beside the children's: a child's figure no larger than that one is only a floor.

Configurations (``--configuration``; ``--old-args`` and ``--new-args`` replace their
arguments):

* ``main``: the old script's defaults, 784-512-256-10, dropout keeping 0.8, Adam, 20 epochs,
  which today's script runs as ``--hidden 512,256 --keep-prob 0.8 --epochs 20 --augment none``;
* ``best``: the old ``--preset best`` (3x1024, dropout 0.5, max-norm 3.5), 3 epochs of its
  100, today ``--hidden 1024,1024,1024 --keep-prob 0.5 --max-norm 3.5 --augment none --ema 0
  --dev-size 10000 --epochs 3``.

MNIST must be cached already (run ``python scripts/train_mnist.py`` once); both revisions read
the same cache. The old tree is extracted afresh, without Numba's compiled kernels: where the
old revision uses Numba, its first run compiles them, so count from the second pair (or look at
the median) when comparing against a recent revision. The machine's BLAS settings reach both runs through the environment, e.g.
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python scripts/benchmark_revisions.py`` for
NumPy's own kernels where the environment pins others. POSIX only (``wait4``). The last line printed is every
figure as JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import _cli

OLD_REVISION = "36a5124"
"""The last commit before the speed work (2026-11-22): the speed issue's "today"."""

CONFIGURATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "main": ((), ("--hidden", "512,256", "--keep-prob", "0.8", "--epochs", "20", "--augment", "none")),
    "best": (
        ("--preset", "best", "--epochs", "3"),
        ("--hidden", "1024,1024,1024", "--keep-prob", "0.5", "--max-norm", "3.5", "--augment", "none", "--ema", "0",
         "--dev-size", "10000", "--epochs", "3"),
    ),  # fmt: skip
}
"""Each configuration's arguments: (for the old script, for this checkout's script)."""

SCRIPT = Path("scripts") / "train_mnist.py"


class RunFailed(RuntimeError):
    """A training run exited with an error, or without its summary line."""


class Run(NamedTuple):
    """One training run, as its script reported it."""

    training_seconds: float
    test_accuracy: float | None
    peak_kib: int  # maximum resident set size


class Pair(NamedTuple):
    """An old run and a new run, one right after the other."""

    load_average: float  # one-minute load average before the pair's first run
    old: Run
    new: Run
    first: str = "old"  # which ran first: "old" or "new"

    @property
    def ratio(self) -> float:
        """``new / old`` training seconds."""
        return self.new.training_seconds / self.old.training_seconds


def checkout_root() -> Path:
    """The repository this script belongs to."""
    return Path(__file__).resolve().parents[1]


def extract_revision(repository: Path, revision: str, into: Path) -> str:
    """Write ``revision``'s tree into the empty folder ``into`` (``git archive``); return its full hash.

    Raises ``ValueError`` naming the revision when git cannot find it there, cannot archive it
    (a damaged repository) or its tree cannot be extracted safely (a link out of the folder).
    """
    found = subprocess.run(
        ["git", "-C", str(repository), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        raise ValueError(f"--old: {revision!r} is not a commit of the git repository at {repository}")
    commit = found.stdout.strip()
    archive = subprocess.run(["git", "-C", str(repository), "archive", "--format=tar", commit], capture_output=True)
    if archive.returncode != 0:  # a damaged repository: git's own words, as one error line
        failure = archive.stderr.decode(errors="replace").strip()
        raise ValueError(f"--old: git archive of {revision} failed in {repository} (status {archive.returncode}): {failure}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        try:
            if hasattr(tarfile, "data_filter"):  # 3.12, and 3.10.12 / 3.11.4 as a backport
                tar.extractall(into, filter="data")
            else:  # pragma: no cover - an older patch release: git's own archive, nothing foreign
                tar.extractall(into)
        except tarfile.FilterError as error:  # a link out of the tree, say: refused, not followed
            raise ValueError(f"--old: revision {revision}'s tree cannot be extracted safely: {error}") from error
    if not (into / SCRIPT).is_file():
        raise ValueError(f"--old: revision {revision} has no {SCRIPT}")
    return commit


def run_training(checkout: Path, arguments: Sequence[str], out: Path, label: str) -> Run:
    """Run ``checkout``'s ``train_mnist.py`` with its own package first on the path; read its summary.

    ``out`` is the run's output folder (it must not exist). The summary is the JSON object on
    the last line of the script's output; a run that fails, or ends without one holding
    ``training_seconds``, raises ``RunFailed`` with the end of what it wrote.
    """
    command = [sys.executable, str(SCRIPT), *arguments, "--out", str(out)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(checkout), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, cwd=checkout, env=environment, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        with process.stdout:
            output = process.stdout.read().decode(errors="replace")
        # wait4, not Popen.wait: it also gives this child's own resource usage
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        error_text = errors.read().decode(errors="replace")
    lines = output.strip().splitlines()
    summary: object = None
    if lines:
        try:
            summary = json.loads(lines[-1])
        except json.JSONDecodeError:
            pass
    if process.returncode != 0 or not isinstance(summary, dict) or "training_seconds" not in summary:
        tail = "\n".join((error_text.strip() or output.strip()).splitlines()[-5:])
        raise RunFailed(
            f"the {label} run ({shlex.join(command)} in {checkout}) exited with status {process.returncode} "
            f"without a summary line holding training_seconds; it ended:\n{tail}"
        )
    accuracy = summary.get("test_accuracy")
    return Run(float(summary["training_seconds"]), None if accuracy is None else float(accuracy), int(usage.ru_maxrss))


ORDERS = ("alternate", "old-first")


def first_side(order: str, number: int) -> str:
    """Which side pair ``number`` (from 1) runs first: ``"old"`` or ``"new"``."""
    return "new" if order == "alternate" and number % 2 == 0 else "old"


def own_peak_kib() -> int | None:
    """This process's own peak resident memory (``VmHWM``), ``None`` without Linux's ``/proc``.

    Not ``getrusage``: that too carries the peak of whatever launched this process.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def summarize(pairs: Sequence[Pair], target: float) -> dict[str, object]:
    """The pairs' ratios, their median and range, and how many are at or below ``target``."""
    ratios = [pair.ratio for pair in pairs]
    return {
        "pairs": len(pairs),
        "ratios": [round(r, 3) for r in ratios],
        "median_ratio": round(statistics.median(ratios), 3),
        "min_ratio": round(min(ratios), 3),
        "max_ratio": round(max(ratios), 3),
        "target": target,
        "at_or_below_target": sum(r <= target for r in ratios),
        "old_seconds": [p.old.training_seconds for p in pairs],
        "new_seconds": [p.new.training_seconds for p in pairs],
        "old_test_accuracy": sorted({p.old.test_accuracy for p in pairs if p.old.test_accuracy is not None}),
        "new_test_accuracy": sorted({p.new.test_accuracy for p in pairs if p.new.test_accuracy is not None}),
        "old_peak_mib": round(max(p.old.peak_kib for p in pairs) / 1024, 1),
        "new_peak_mib": round(max(p.new.peak_kib for p in pairs) / 1024, 1),
        "load_averages": [p.load_average for p in pairs],
        "first": [p.first for p in pairs],
    }


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default=OLD_REVISION, help=f"the revision to compare with (default {OLD_REVISION})")
    parser.add_argument("--configuration", choices=sorted(CONFIGURATIONS), default="main", help="what both train (default main)")
    parser.add_argument("--old-args", help="the old script's arguments instead of the configuration's (one string; default: the configuration's)")
    parser.add_argument(
        "--new-args",
        help="this checkout's script's arguments instead of the configuration's (one string; a lone flag as --new-args=--flag; default: the configuration's)",
    )
    parser.add_argument("--pairs", type=int, default=4, help="pairs of runs, one of each (default 4)")
    parser.add_argument(
        "--order", choices=ORDERS, default="alternate",
        help="alternate: old first in odd pairs, new first in even ones (default); old-first: old first in every pair",
    )  # fmt: skip
    parser.add_argument("--target", type=_cli.positive_float, default=0.5, help="the ratio new / old to count (default 0.5)")
    parser.add_argument("--repository", type=_cli.path, default=checkout_root(), help="the checkout to compare (default: this one)")
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error(f"--pairs must be at least 1, got {args.pairs}")
    for flag in ("old_args", "new_args"):
        text = getattr(args, flag)
        if text is None:
            continue  # the configuration's
        option = f"--{flag.replace('_', '-')}"
        try:
            words = tuple(shlex.split(text))
        except ValueError as error:  # an unclosed quotation, a trailing escape
            parser.error(f"{option} {text!r}: cannot split it into arguments as a shell would: {error}")
        if "--out" in words:
            parser.error(f"{option}: leave --out out; each run gets a temporary folder")
        setattr(args, flag, words)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _cli.run_main(_main, argv)
    except RunFailed as error:  # the measurement failed, not the command line: status 1
        _cli.fail(str(error))
        return 1


def _main(argv: Sequence[str] | None) -> int:
    args = parse_arguments(argv)
    repository = args.repository.resolve()
    if not (repository / SCRIPT).is_file():
        raise _cli.UsageError(f"--repository: {repository} has no {SCRIPT}")
    old_args, new_args = CONFIGURATIONS[args.configuration]
    old_args = args.old_args if args.old_args is not None else old_args  # split by parse_arguments
    new_args = args.new_args if args.new_args is not None else new_args
    pairs: list[Pair] = []
    with tempfile.TemporaryDirectory(prefix="functional_nn-revisions-") as scratch:
        old_checkout = Path(scratch) / "old"
        old_checkout.mkdir()
        commit = extract_revision(repository, args.old, old_checkout)
        print(f"old: {commit[:12]} {SCRIPT} {shlex.join(old_args)}", flush=True)
        print(f"new: {repository} {SCRIPT} {shlex.join(new_args)}", flush=True)
        for number in range(1, args.pairs + 1):
            load = os.getloadavg()[0]
            started = time.strftime("%H:%M:%S")
            first = first_side(args.order, number)
            runs: dict[str, Run] = {}
            for side in (first, "new" if first == "old" else "old"):
                checkout, arguments = (old_checkout, old_args) if side == "old" else (repository, new_args)
                runs[side] = run_training(checkout, arguments, Path(scratch) / f"{side}-{number}", side)
                if runs[side].training_seconds <= 0:  # the ratio new / old needs a time on both sides
                    raise _cli.UsageError(
                        f"--{side}-args: the {side} run reported training_seconds {runs[side].training_seconds:g}, too short "
                        "to time (train_mnist.py rounds to 0.01 s): give both runs more to train, e.g. more --epochs"
                    )
            old, new = runs["old"], runs["new"]
            pair = Pair(round(load, 2), old, new, first)
            pairs.append(pair)
            print(
                f"pair {number} at {started} ({first} first, load average {load:.2f}): old {old.training_seconds:.2f} s, new "
                f"{new.training_seconds:.2f} s, ratio {pair.ratio:.3f}; test accuracy {_percent(old.test_accuracy)} "
                f"and {_percent(new.test_accuracy)}; peak memory {old.peak_kib / 1024:.0f} and {new.peak_kib / 1024:.0f} MiB",
                flush=True,
            )
    summary = summarize(pairs, args.target)
    own_peak = own_peak_kib()
    summary["launcher_peak_mib"] = None if own_peak is None else round(own_peak / 1024, 1)
    print(
        f"new / old: median {summary['median_ratio']}, range {summary['min_ratio']}-{summary['max_ratio']}, "
        f"at or below {args.target} in {summary['at_or_below_target']} of {len(pairs)} pairs; "
        f"peak memory of this script {summary['launcher_peak_mib']} MiB",
        flush=True,
    )
    record = {
        "old_revision": commit, "configuration": args.configuration, "order": args.order, "old_args": list(old_args),
        "new_args": list(new_args),
    }  # fmt: skip
    print(json.dumps({**record, **summary}), flush=True)
    return 0


def _percent(accuracy: float | None) -> str:
    return "-" if accuracy is None else f"{accuracy:.2%}"


if __name__ == "__main__":
    sys.exit(main())
