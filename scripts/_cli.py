"""What the scripts share at their edges: the output folder, and a user's mistakes in one line.

Every script's ``main`` is ``run_main(_main, argv)``: a mistake the user can fix (a bad value,
a missing or unreadable file, a folder that cannot be written, MNIST that cannot be fetched,
a missing optional package, not enough memory) is printed as one ``error: ...`` line on
stderr and the exit status is 2, never a traceback; a run that diverged is one ``error:``
line too, with status 1, whose advice names the script's own options when it trains inside
``naming_options`` (the library advises "a smaller learning rate", which names no option: one
script's step is ``--learning-rate``, another's ``--lr`` or ``--peak-lr``, and an L2 strength
can run away too). Ctrl-C is one line too, ``error: interrupted (Ctrl-C)``, with the
status 130 of a shell's interrupted command: ``atomic_write`` leaves no half-written file.
SIGTERM (``kill``, ``timeout``, a job scheduler) ends the run the same way, raised as a
``KeyboardInterrupt`` so that a script's own Ctrl-C handling runs too: ``error: terminated
(SIGTERM)``, status 143 (128 + 15). A reader that leaves early (``| head -1``) ends the run
as it ends ``cat``, silently with the status 141 (128 + SIGPIPE) of a broken pipe, and what the
terminal's encoding cannot hold (``µ`` or a path's ``é`` under ``PYTHONIOENCODING=ascii`` or an
ASCII locale) is printed escaped (``\\xb5``) rather than ending the run.
Command-line values are refused by argparse (its usage line, then
``error: ...``, status 2); a list such as ``--hidden 512,256`` is read by ``positive_ints``
or split by ``comma_separated``, which refuse an empty item rather than skip it; a path is
read by ``path``, which refuses an empty string (``Path("")`` is the current folder); a list
that names a thing twice is refused with ``first_repeat``'s item, and ``--threads`` and
``--workers`` above ``PER_CORE`` per core with ``check_per_core``, and a local cluster's options
while ``DASK_SCHEDULER_ADDRESS`` names a running one with ``check_local_cluster``. Output
folders are checked with ``check_output_dir`` (a single output file with
``check_output_file``), and matplotlib where a script draws with ``check_plotting``, before
any data is loaded or any training starts; output folders are created with
``make_output_dir`` only once everything is validated, and removed again (if still empty)
when the run fails before writing anything.

The scripts folder is not a package: the scripts and the tests import this as ``_cli``, with
``scripts/`` on ``sys.path`` (Python puts it there when it runs ``python scripts/x.py``).
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import math
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from types import FrameType
from typing import Final, Literal, TypeVar

import _threads  # scripts/_threads.py: imports nothing heavy
from functional_nn.checkpoints import CheckpointError
from functional_nn.data.mnist import DatasetUnavailableError
from functional_nn.serialization import make_folders, remove_empty_folders
from functional_nn.training import TrainingDivergedError


T = TypeVar("T")


class UsageError(Exception):
    """A mistake the user can fix, reported as ``error: <message>`` with exit status 2."""


_CREATED: ContextVar[list[Path] | None] = ContextVar("_CREATED", default=None)
"""The output folders the current ``run_main`` call created, to remove if the run fails."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run was: a ``KeyboardInterrupt``, so that what a script does on
    Ctrl-C (close its progress bar, say how to ``--resume``) it does on SIGTERM too."""


BROKEN_PIPE_STATUS: Final = 128 + getattr(signal, "SIGPIPE", 13)
"""A run whose reader left: 141, as a command killed by SIGPIPE (13 on every Unix; Windows has no
``signal.SIGPIPE``, and raises ``BrokenPipeError`` all the same)."""


_HOLD: Final = {"held": False, "pending": False}
"""Whether ``run_main``'s SIGTERM handler is to hold ``Terminated`` back (``_termination_held``), and whether one came."""


@contextlib.contextmanager
def _termination_held() -> Iterator[None]:
    """A SIGTERM that comes in the block raises ``Terminated`` only once the block has ended.

    ``make_output_dir`` makes its folders and records them in this block: a SIGTERM between
    the two would otherwise leave folders that no one knows to remove.
    """
    _HOLD["held"] = True
    try:
        yield
    finally:
        _HOLD["held"] = False
        pending, _HOLD["pending"] = _HOLD["pending"], False
    if pending:
        raise Terminated


def run_main(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None) -> int:
    """``main(argv)``, with the user's mistakes turned into one ``error:`` line and status 2.

    Folders made by ``make_output_dir`` during the call are removed again if the call fails
    (an exception, or a status other than 0) while they are still empty. In the main thread,
    SIGTERM raises ``Terminated`` for the duration of the call (the previous handler is put
    back after it): the run ends as on Ctrl-C, with status 143.
    """
    created: list[Path] = []
    token = _CREATED.set(created)
    terminated: list[int] = []  # the SIGTERMs received, whatever a script re-raises in their place
    status = 1

    def terminate(signum: int, frame: FrameType | None) -> None:
        terminated.append(signum)
        if len(terminated) == 1:  # once: a second SIGTERM must not break into the clean-up of the first
            if _HOLD["held"]:  # raised as the folders just made are recorded
                _HOLD["pending"] = True
                return
            raise Terminated

    # only the main thread may set handlers; None is one set outside Python, which could not be put back
    previous = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    if previous is not None:
        signal.signal(signal.SIGTERM, terminate)
    try:
        with _escaping_output():
            status = _reported(main, argv, terminated)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        _CREATED.reset(token)
        if status != 0:
            remove_empty(created)
    return status


def _reported(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None, terminated: Sequence[int]) -> int:
    try:
        status = main(argv)
        _flush_output()  # what is still buffered for a pipe fails here, reported below, not by Python at exit
        return status
    except BrokenPipeError:  # the reader left (``| head -1``): end as a command killed by SIGPIPE does, silently
        _discard_unwritten_output()
        return BROKEN_PIPE_STATUS
    except (UsageError, CheckpointError, ValueError) as error:
        return fail(noted(error))
    except DatasetUnavailableError as error:  # a RuntimeError: MNIST could not be fetched; it says what to do
        return fail(noted(error))
    except OSError as error:  # a file or folder: name it, without the errno clutter
        _discard_unwritten_output()  # stdout on a full disk: said once, here, not again by Python at exit
        named = error.filename is not None and error.strerror is not None
        return fail(f"{error.filename}: {error.strerror}" if named else noted(error))
    except TrainingDivergedError as error:  # the run failed, not the command line: status 1
        fail(noted(error))
        return 1
    except ImportError as error:  # an optional package missing: the message names the extra
        return fail(noted(error))
    except MemoryError as error:
        return fail(f"not enough memory ({str(error) or 'an allocation failed'}): try smaller layers or batches")
    except KeyboardInterrupt as error:  # Ctrl-C or SIGTERM: the files written so far are whole (atomic_write); say so in one line
        fail(("terminated (SIGTERM)" if terminated else "interrupted (Ctrl-C)") + (f" {error}" if str(error) else ""))
        return 128 + signal.SIGTERM if terminated else 130


def _flush_output() -> None:
    """Write out what ``print`` buffered for a pipe or a file, while ``_reported`` can still report
    a failure: a closed pipe as such, any other as ``<stdout>: No space left on device``."""
    for name, stream in (("<stdout>", sys.stdout), ("<stderr>", sys.stderr)):
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OSError(error.errno, error.strerror, name) from error


def _discard_unwritten_output() -> None:
    """Point stdout or stderr that cannot take what it holds (a closed pipe, a full disk) at
    ``os.devnull``: Python's own flush at exit would report the failure again, as ``Exception
    ignored in: <_io.TextIOWrapper name='<stdout>'>`` and status 120."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)


ESCAPE: Final = "functional_nn.escape"
"""The error handler of the scripts' output: a character its encoding cannot hold is escaped."""


def _escape(error: UnicodeError) -> tuple[str | bytes, int]:
    """``surrogateescape`` for the bytes an ASCII locale could not decode (a path's, given back
    as they came), ``backslashreplace`` for the rest (``µ`` as ``\\xb5``)."""
    if isinstance(error, UnicodeEncodeError) and all("\udc80" <= c <= "\udcff" for c in error.object[error.start : error.end]):
        return codecs.lookup_error("surrogateescape")(error)
    return codecs.backslashreplace_errors(error)


codecs.register_error(ESCAPE, _escape)


@contextlib.contextmanager
def _escaping_output() -> Iterator[None]:
    """stdout and stderr escape what their encoding cannot hold for the duration of the block
    (``PYTHONIOENCODING=ascii``, ``LC_ALL=C PYTHONUTF8=0``): a ``µs`` in a header or an ``é`` in
    a path would otherwise raise ``UnicodeEncodeError`` mid-run, after the work was done."""
    changed: list[tuple[io.TextIOWrapper, str]] = []
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors in ("strict", "surrogateescape"):
            changed.append((stream, stream.errors))
            stream.reconfigure(errors=ESCAPE)
    try:
        yield
    finally:
        for stream, errors in changed:
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors=errors)


LIBRARY_ADVICE: Final = "a smaller learning rate"
"""The advice of the library's ``TrainingDivergedError`` messages, which ``naming_options`` replaces."""


@contextlib.contextmanager
def naming_options(option: str, *more: str) -> Iterator[None]:
    """A ``TrainingDivergedError`` raised in the block is raised again advising the script's options.

    ``option, *more`` are the options of the script that can have made the run in the block
    diverge, the step size first: ``naming_options("--learning-rate", "--lambd")`` turns the
    library's "try a smaller learning rate" into "try a smaller --learning-rate or --lambd". A
    script names only options it has, and only those that can be the cause (``--lambd`` when it
    is above 0); a message without the library's advice gets this one appended.
    """
    try:
        yield
    except TrainingDivergedError as error:
        message, advice = str(error), "a smaller " + _or_list((option, *more))
        named = message.replace(LIBRARY_ADVICE, advice) if LIBRARY_ADVICE in message else f"{message}; try {advice}"
        renamed = TrainingDivergedError(named)
        if hasattr(error, "__notes__"):  # which setting or round: kept for noted()
            renamed.__notes__ = list(error.__notes__)
        raise renamed from error


def options_named(error: Exception, renames: Sequence[tuple[str, str]]) -> UsageError:
    """A library's ``error`` said of the script's options: a message that begins with the
    library's argument (``n_samples must be >= 2 ...``, ``noise=1e+308 is too large ...``,
    ``root DIR is not a folder``), which the user did not type, begins instead with the option
    of the first ``(argument, option)`` pair that matches (``""`` drops the argument's name)."""
    message = str(error)
    for argument, option in renames:
        if message.startswith(argument):
            return UsageError(option + message.removeprefix(argument))
    return UsageError(message)


def _or_list(items: Sequence[str]) -> str:
    """``"a"``, ``"a or b"``, ``"a, b or c"``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def noted(error: BaseException) -> str:
    """``str(error)`` and, a line each, the notes added to it (``add_note``): which of a sweep's
    settings failed, the round and shard of a task on a cluster. Python prints them under a
    traceback; the one ``error:`` line would drop them."""
    notes = [note for note in getattr(error, "__notes__", ()) if isinstance(note, str)]
    return "\n".join([str(error), *notes])


def fail(message: str) -> int:
    """Print ``error: message`` on stderr; return the exit status 2."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 2


def check_output_dir(
    out: Path, outputs: Sequence[str], *, overwrite: bool, flag: str = "--out", folders: Sequence[str] = ()
) -> None:
    """Refuse an output folder that cannot be used, before anything is loaded or trained.

    ``out`` must be a folder, or a path whose nearest existing parent is a folder, that this
    user can create files in (tried for real, with a temporary file that is removed). If any
    of ``outputs`` (the names this run writes: files, but the ``folders`` among them) already
    exists there, refuse unless ``overwrite``: a finished run is not silently replaced. A
    read-only one is refused even then, and so is a folder where a file is written (or a file
    where a folder is made), now rather than after the run has replaced the others.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"{flag} {out} is a file, not a folder: choose a folder for the outputs")
    _check_creatable(out, flag=flag, named=out)
    if out.is_dir():
        found = [name for name in outputs if (out / name).exists()]
        misplaced = [
            f"a folder {name} where this run writes a file" if (out / name).is_dir() else f"a file {name} where this run makes a folder"
            for name in found
            if (out / name).is_dir() != (name in folders)
        ]
        if misplaced:
            raise UsageError(f"{flag} {out} holds {'; '.join(misplaced)}: move it away, or choose another {flag}")
        if found and not overwrite:
            raise UsageError(
                f"{flag} {out} already holds {', '.join(found)} from an earlier run: choose another {flag}, "
                "or pass --overwrite to replace them"
            )
        read_only = [name for name in found if _read_only(out / name)]
        if read_only:
            raise UsageError(f"{flag} {out} holds read-only {', '.join(read_only)}: make it writable, or choose another {flag}")


def check_file_to_read(flag: str, path: Path, wanted: str) -> None:
    """Refuse a folder or a missing file given where ``flag`` takes a file to read, said of
    ``flag`` rather than of the reader's own argument (``"path"``) or of the system's error
    alone: ``wanted`` says what to give instead."""
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder: give {wanted}")
    if not path.exists():
        raise UsageError(f"{flag} {path} does not exist: give {wanted}")


def check_output_file(path: Path, *, overwrite: bool, flag: str = "--out") -> None:
    """Refuse an output file that cannot be written, before anything is loaded or measured.

    ``path`` must not be a folder; its folder must exist, or be creatable, and take new files
    (tried for real, as ``check_output_dir`` does). An existing ``path`` is refused unless
    ``overwrite``, and a read-only one always (``atomic_write`` would refuse it at the end).
    """
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder: give the path of the file to write")
    _check_creatable(path.parent, flag=flag, named=path)
    if path.exists():
        if not overwrite:
            raise UsageError(f"{flag} {path} already exists: choose another {flag}, or pass --overwrite to replace it")
        if _read_only(path):
            raise UsageError(f"{flag} {path} is read-only: make it writable, or choose another {flag}")


def _read_only(path: Path) -> bool:
    """A file ``atomic_write`` refuses to replace: one this user cannot write, or with no write bit at all."""
    return path.is_file() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222)


def _check_creatable(folder: Path, *, flag: str, named: Path) -> None:
    """``folder``, or its nearest existing parent, is a folder this user can create files in."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {named} cannot be created: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".fnn-write-test-"):
            pass
    except OSError as error:
        what = "write into" if existing == folder else f"create {folder} in"
        raise UsageError(f"{flag} {named}: cannot {what} {existing} ({error.strerror or error})") from None


SCRIPTS_EXTRA: Final = 'pip install -e ".[scripts]"'


def check_plotting() -> None:
    """Refuse a run whose pictures matplotlib cannot draw, before its data is loaded or trained:
    ``functional_nn.plots`` would refuse them only once the training is done."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError(f"this script draws its results with matplotlib, which comes with the scripts extra: {SCRIPTS_EXTRA}") from None


def make_output_dir(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; return the folders created, deepest first.

    Inside ``run_main`` they are also remembered, and removed if the run then fails while
    they are still empty: a start that fails leaves nothing behind. Only the folders this
    call's own ``mkdir`` made count (``serialization.make_folders``): one another process made
    meanwhile is not ours to remove.
    """
    with _termination_held():  # a SIGTERM now still finds the folders recorded
        created = make_folders(out)
        registry = _CREATED.get()
        if registry is not None:
            registry.extend(created)
    return created


def make_new_output_dir(folder: Path) -> Path:
    """Create ``folder``, or ``folder-2``, ``folder-3``, ... when another process made it first,
    and return the one this call made: a default folder named by the time of day
    (``runs/mnist-<date>-<time>``) is then a run's own, even when two runs start in the same
    second. Made by ``make_output_dir``, so removed again if the run fails while it is empty."""
    number = 1
    while True:
        candidate = folder if number == 1 else folder.with_name(f"{folder.name}-{number}")
        if candidate in make_output_dir(candidate):
            return candidate
        number += 1


def remove_empty(created: Sequence[Path]) -> None:
    """Remove the folders ``make_output_dir`` created, deepest first, as long as they are empty."""
    remove_empty_folders(created)


def _integer_from(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    return value


def seed(text: str) -> int:
    """``--seed``: an integer >= 0, as ``np.random.default_rng`` takes."""
    return _integer_from(text, 0)


def path(text: str) -> Path:
    """A path, which an empty string is not: ``Path("")`` would quietly be the current folder.

    A leading ``~`` or ``~user`` is that home folder, as the shell makes it where it expands one:
    ``--out=~/runs`` and a quoted ``"~/runs"`` reach the script unexpanded, and were a folder
    named ``~`` in the current one, while the run said it wrote ``to ~/runs``.
    """
    if not text:
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # pathlib's "Could not determine home directory."
        raise argparse.ArgumentTypeError(f"{text!r} starts with {Path(text).parts[0]!r}, which names no home directory here") from None


def positive_int(text: str) -> int:
    """An integer >= 1 (a count, a size)."""
    return _integer_from(text, 1)


def comma_separated(text: str, *, example: str) -> list[str]:
    """The items of ``text``, such as ``example``, split at commas and stripped.

    An empty item (``512,,10``, ``512,``, ``,``) is a typing mistake, not an item to skip:
    refused with ``argparse.ArgumentTypeError``, which names no option (argparse adds it).
    """
    items = [item.strip() for item in text.split(",")]
    if "" in items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list such as {example}, with no empty item, got {text!r}")
    return items


def positive_ints(text: str) -> tuple[int, ...]:
    """Comma-separated integers >= 1, such as layer sizes ``512,256``: the one list type of every script."""
    message = f"expected comma-separated integers >= 1 such as 512,256, got {text!r}"
    try:
        values = tuple(positive_int(item) for item in comma_separated(text, example="512,256"))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(message) from None
    return values


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


def counted(n: int, unit: str) -> str:
    """``"1 epoch"``, ``"30 epochs"``: a count and its unit, singular for one."""
    return f"{n} {unit}" + ("" if n == 1 else "s")


def first_repeat(items: Iterable[T]) -> T | None:
    """The first of ``items`` equal to an earlier one; ``None`` if they all differ.

    A list option that names a thing twice (``--optimizers sgd sgd``) would run it twice under
    one label, the second result replacing the first: the scripts refuse it, naming this item.
    """
    seen: list[T] = []  # equality, not hashing: the items may be lists
    for item in items:
        if item in seen:
            return item
        seen.append(item)
    return None


PER_CORE: Final = 4
"""The most ``--threads`` or ``--workers`` the scripts take for each core of the machine.

A few per core is a choice (oversubscribed cores, a cluster's behaviour tried on a laptop);
thousands are a typo that would start thousands of threads or processes."""

TOO_MANY: Final = {
    "threads": "threads beyond the cores only take turns on them, slowing every product down, and each is "
    "started for real (OpenBLAS's up to its build's maximum, often 64; PyTorch's every one)",
    "workers": "a local cluster starts one Python process per worker, each with its own memory, "
    "libraries and share of the data",
}
"""Why ``check_per_core`` refuses more, by option (``--threads``, ``--workers``)."""


def per_core_bound() -> int:
    """``PER_CORE`` times the cores this process may run on (``_threads.usable_cores``, the scripts' "every core")."""
    return PER_CORE * _threads.usable_cores()


def per_core_help() -> str:
    """The bound, for an option's ``--help``: ``"at most 8, 4 per core"`` on 2 cores."""
    return f"at most {per_core_bound()}, {PER_CORE} per core"


SCHEDULER_VARIABLE: Final = "DASK_SCHEDULER_ADDRESS"
"""Dask's setting of a running scheduler's address, which ``distributed.cluster_client`` takes in place of a local cluster."""


def check_local_cluster(parser: argparse.ArgumentParser, asked: str, *, instead: str = "") -> None:
    """Refuse ``asked`` (such as ``"--workers 2"``), which needs a local cluster, while
    ``DASK_SCHEDULER_ADDRESS`` names a running one, with ``parser.error``: the library would
    refuse it only later, naming its own ``n_workers``. ``instead`` ends the advice (``", or
    leave out --workers"``)."""
    address = os.environ.get(SCHEDULER_VARIABLE)
    if address:
        parser.error(f"{asked} starts a local cluster, but {SCHEDULER_VARIABLE} names a running one ({address}): unset {SCHEDULER_VARIABLE}{instead}")


def check_scheduler(parser: argparse.ArgumentParser, address: str | None) -> None:
    """Refuse ``--scheduler``'s ``address`` with ``parser.error`` if it lacks a scheduler's address's
    form, as ``distributed.cluster_client`` would only later, naming its own ``address``; ``None`` passes."""
    if address is not None:
        from functional_nn.distributed import check_scheduler_address  # imports no Dask

        try:
            check_scheduler_address("--scheduler", address)
        except ValueError as error:
            parser.error(str(error))


def check_at_least_one(parser: argparse.ArgumentParser, args: argparse.Namespace, *names: str) -> None:
    """Refuse with ``parser.error`` the first of ``args``' counts ``names`` (``"batch_size"``:
    ``--batch-size``) below 1; ``None``, an option left out, passes."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")


def check_per_core(parser: argparse.ArgumentParser, option: Literal["threads", "workers"], value: int | None) -> None:
    """Refuse ``--option``'s ``value`` above ``per_core_bound()`` with ``parser.error``, saying why; ``None`` passes."""
    cores = _threads.usable_cores()
    if value is not None and value > PER_CORE * cores:
        parser.error(
            f"--{option} {value} is more than {PER_CORE * cores} ({PER_CORE} per core, and this process may use {cores}): {TOO_MANY[option]}"
        )
