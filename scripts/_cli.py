"""What the scripts share at their edges: the output folder, and a user's mistakes in one line.

Every script's ``main`` is ``run_main(_main, argv)``: a mistake the user can fix (a bad value,
a missing or unreadable file, a folder that cannot be written, a missing optional package,
not enough memory) is printed as one ``error: ...`` line on stderr and the exit status is 2,
never a traceback; a run that diverged is one ``error:`` line too, with status 1. Command-line
values are refused by argparse (its usage line, then ``error: ...``, status 2). Output
folders are checked with ``check_output_dir`` before any data is loaded or any training
starts, created with ``make_output_dir`` only once everything is validated, and removed again
(if still empty) when the run fails before writing anything.

The scripts folder is not a package: the scripts and the tests import this as ``_cli``, with
``scripts/`` on ``sys.path`` (Python puts it there when it runs ``python scripts/x.py``).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path

from functional_nn.checkpoints import CheckpointError
from functional_nn.training import TrainingDivergedError


class UsageError(Exception):
    """A mistake the user can fix, reported as ``error: <message>`` with exit status 2."""


_CREATED: ContextVar[list[Path] | None] = ContextVar("_CREATED", default=None)
"""The output folders the current ``run_main`` call created, to remove if the run fails."""


def run_main(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None) -> int:
    """``main(argv)``, with the user's mistakes turned into one ``error:`` line and status 2.

    Folders made by ``make_output_dir`` during the call are removed again if the call fails
    (an exception, or a status other than 0) while they are still empty.
    """
    created: list[Path] = []
    token = _CREATED.set(created)
    status = 1
    try:
        status = _reported(main, argv)
    finally:
        _CREATED.reset(token)
        if status != 0:
            remove_empty(created)
    return status


def _reported(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None) -> int:
    try:
        return main(argv)
    except (UsageError, CheckpointError, ValueError) as error:
        return fail(str(error))
    except OSError as error:  # a file or folder: name it, without the errno clutter
        named = error.filename is not None and error.strerror is not None
        return fail(f"{error.filename}: {error.strerror}" if named else str(error))
    except TrainingDivergedError as error:  # the run failed, not the command line: status 1
        fail(str(error).replace("a smaller learning rate", "a smaller --learning-rate"))
        return 1
    except ImportError as error:  # an optional package missing: the message names the extra
        return fail(str(error))
    except MemoryError as error:
        return fail(f"not enough memory ({str(error) or 'an allocation failed'}): try smaller layers or batches")


def fail(message: str) -> int:
    """Print ``error: message`` on stderr; return the exit status 2."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 2


def check_output_dir(out: Path, outputs: Sequence[str], *, overwrite: bool, flag: str = "--out") -> None:
    """Refuse an output folder that cannot be used, before anything is loaded or trained.

    ``out`` must be a folder, or a path whose nearest existing parent is a folder, that this
    user can create files in (tried for real, with a temporary file that is removed). If any
    of ``outputs`` (the names this run writes) already exists there, refuse unless
    ``overwrite``: a finished run is not silently replaced.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"{flag} {out} is a file, not a folder: choose a folder for the outputs")
    existing = out
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {out} cannot be created: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".fnn-write-test-"):
            pass
    except OSError as error:
        what = "write into" if existing == out else f"create {out} in"
        raise UsageError(f"{flag} {out}: cannot {what} {existing} ({error.strerror or error})") from None
    if not overwrite and out.is_dir():
        found = [name for name in outputs if (out / name).exists()]
        if found:
            raise UsageError(
                f"{flag} {out} already holds {', '.join(found)} from an earlier run: choose another {flag}, "
                "or pass --overwrite to replace them"
            )


def make_output_dir(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; return the folders created, deepest first.

    Inside ``run_main`` they are also remembered, and removed if the run then fails while
    they are still empty: a start that fails leaves nothing behind.
    """
    created: list[Path] = []
    folder = out
    while not folder.exists():
        created.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    out.mkdir(parents=True, exist_ok=True)
    registry = _CREATED.get()
    if registry is not None:
        registry.extend(created)
    return created


def remove_empty(created: Sequence[Path]) -> None:
    """Remove the folders ``make_output_dir`` created, deepest first, as long as they are empty."""
    for folder in created:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (the run wrote something worth keeping), or gone


def seed(text: str) -> int:
    """``--seed``: an integer >= 0, as ``np.random.default_rng`` takes."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (a learning rate, a radius): ``inf`` and ``nan`` are refused."""
    return _finite_number(text, allow_zero=False)


def non_negative_float(text: str) -> float:
    """A finite number >= 0 (0 often meaning "none")."""
    return _finite_number(text, allow_zero=True)


def _finite_number(text: str, *, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and (value >= 0 if allow_zero else value > 0)):
        raise argparse.ArgumentTypeError(f"must be a finite number {'>=' if allow_zero else '>'} 0, got {text}")
    return value
