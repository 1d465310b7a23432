"""Checkpoints: a training fold's whole state on disk, written atomically, so a run can resume.

A checkpoint holds everything the next epoch depends on: the parameters, the optimizer's
state, the history, the early-stopping record, the random generator's state, and a
description of the run (network, loss, optimizer, batch size, data) that a resume is checked
against. It is one ``.npz`` file of plain arrays (no pickles) named
``checkpoint-<epoch>.npz``, written to a temporary file in the same directory, flushed to
disk and renamed over, so that a run killed at any moment leaves either the previous
checkpoints or the new one, never half a file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np

from functional_nn import _validation as check
from functional_nn.optimizers import OptimizerState
from functional_nn.serialization import METADATA_KEY, atomic_write, make_folders, read_arrays, remove_empty_folders
from functional_nn.fold_state import EpochRecord, TrainState
from functional_nn.types import FloatArray, record_repr

FORMAT = "functional_nn.checkpoint/1"
_NAME = re.compile(r"checkpoint-(\d{6,})\.npz")

JSONValue = Any  # what json.loads returns: the run description is free-form JSON


class Checkpoint(NamedTuple):
    """A loaded checkpoint: the fold's state after ``state.epoch`` epochs, the random
    generator's state at that moment (``None`` when the run draws nothing), and the run
    description it was saved with."""

    state: TrainState
    rng_state: dict[str, JSONValue] | None
    run: dict[str, JSONValue]
    path: Path

    def __repr__(self) -> str:
        return record_repr(self)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: corrupt, truncated, foreign, or from another run."""


def checkpoint_path(directory: str | os.PathLike[str], epoch: int) -> Path:
    """Where ``save_checkpoint`` writes the state after ``epoch``: ``directory/checkpoint-000012.npz``."""
    return Path(directory) / f"checkpoint-{epoch:06d}.npz"


def checkpoint_epoch(path: str | os.PathLike[str]) -> int:
    """The epoch of the checkpoint at ``path``, read from its name (``checkpoint_path``'s inverse)
    without loading it; ``ValueError`` for a name ``save_checkpoint`` does not write."""
    match = _NAME.fullmatch(Path(path).name)
    if match is None:
        raise ValueError(f"{path} is not named as save_checkpoint names checkpoints (checkpoint-000012.npz)")
    return int(match[1])


LOCK_NAME: Final = ".functional_nn.lock"
"""The file in a checkpoint directory that the run writing there holds locked (``fcntl.flock``)."""


class DirectoryLock:
    """A run's hold on its checkpoint directory: ``LOCK_NAME`` there, locked (``fcntl.flock``),
    holding the process id and host. The lock goes with the process (killed, it is released);
    ``release`` removes the file and the folders ``acquire`` made, if still empty. Where
    ``fcntl`` is missing (Windows) nothing is locked."""

    def __init__(self, path: Path, descriptor: int | None, created: list[Path]) -> None:
        self.path, self._descriptor, self._created = path, descriptor, created

    @classmethod
    def acquire(cls, directory: Path, argument: str = "checkpoint_dir") -> DirectoryLock:
        """Take ``directory`` for this run, or raise ``CheckpointError`` naming the run that holds it."""
        try:
            import fcntl
        except ImportError:
            return cls(directory / LOCK_NAME, None, [])
        created = make_folders(directory)
        path = directory / LOCK_NAME
        while True:
            try:  # 0o666 less the umask, as atomic_write's files: a group sharing the folder (umask 002) may resume a killed run
                descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            except PermissionError:
                if not path.is_file():
                    raise
                # another user's: running, or left by a run that was killed
                raise CheckpointError(cls._not_yours(directory, path, argument)) from None
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(descriptor, 200).decode(errors="replace").strip() or "unknown"
                os.close(descriptor)
                raise CheckpointError(
                    f"{argument} {directory} is in use by another run ({holder}), which writes its checkpoints "
                    f"there: wait for it to end, or choose another {argument}"
                ) from None
            try:
                same = os.fstat(descriptor).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a file the run before removed as this one opened it
                break
            os.close(descriptor)
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"process {os.getpid()} on {socket.gethostname()}".encode())
        return cls(path, descriptor, created)

    @staticmethod
    def _not_yours(directory: Path, path: Path, argument: str) -> str:
        """Why another user's lock file in ``directory`` stops this run: it runs, or it was killed."""
        import fcntl

        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError as error:
            return f"{argument} {directory}: its lock file {LOCK_NAME}, another user's, cannot be opened ({error.strerror})"
        try:
            holder = os.read(descriptor, 200).decode(errors="replace").strip() or "unknown"
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return f"{argument} {directory} is in use by another run ({holder}), which writes its checkpoints there: wait for it to end, or choose another {argument}"
        finally:
            os.close(descriptor)
        return (
            f"{argument} {directory}: its lock file {LOCK_NAME} was left by a run that ended without removing it ({holder}), "
            "and is another user's, which you cannot write: remove it, then run again"
        )

    def release(self) -> None:
        """Give the directory up (again: nothing); the checkpoints stay."""
        if self._descriptor is None:
            return
        descriptor, self._descriptor = self._descriptor, None
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(descriptor)
        remove_empty_folders(self._created)

    def __del__(self) -> None:
        self.release()


def save_checkpoint(
    directory: str | os.PathLike[str],
    state: TrainState,
    *,
    rng: np.random.Generator | None,
    run: Mapping[str, JSONValue],
    keep_last: int = 2,
) -> Path:
    """Write ``state`` to ``directory/checkpoint-<epoch>.npz`` atomically and return its path.

    Parameters
    ----------
    directory : path
        Created if missing; not empty (``"."`` is the current folder) and with no NUL byte.
    state : TrainState
        The fold's state after an epoch.
    rng : numpy.random.Generator or None
        The generator the run draws from; its state (not the generator) is stored.
    run : mapping
        A JSON-serialisable description of the run, checked on resume; the keys of its
        mappings must be str, as JSON keeps them.
    keep_last : int, default 2
        Older checkpoints beyond this many are deleted once the new one is in place.

    Raises
    ------
    TypeError, ValueError
        Before anything is created or written, when ``state`` is not a ``TrainState`` whose
        ``epoch`` is an int >= 0 (it names the file), whose ``optimizer_state`` is an
        ``OptimizerState``, whose ``history`` is a tuple of ``EpochRecord`` and whose
        early-stopping fields have their types; when ``state.params`` or
        ``state.best_params`` is not a valid parameter dict, or an optimizer slot is not an
        array per parameter of its shape and dtype; when ``rng`` is neither a
        ``numpy.random.Generator`` nor ``None``; or when ``run`` is not a mapping of JSON
        values: such a file could not be loaded, and would become the latest. Likewise when
        ``directory`` is not a str or ``os.PathLike``, is empty or holds a NUL byte.
    """
    folder = check.check_path("directory", directory, example="runs/checkpoints")
    keep_last = check.check_positive_int("keep_last", keep_last)
    # Checked before anything is written: an unloadable checkpoint would become the latest
    # and keep_last would then delete the last usable one.
    state = _check_state(state)
    check.check_generator("rng", rng, optional=True)
    if not isinstance(run, Mapping):
        raise TypeError(f"run must be a mapping of JSON values, got {type(run).__name__}")
    check.check_params(state.params, "state.params")
    _check_slots(state.optimizer_state.slots, state.params, "state.optimizer_state.slots")
    if state.best_params is not None:
        check.check_params(state.best_params, "state.best_params")
        check.check_like_params("state.best_params", state.best_params, state.params)
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    for key, value in state.params.items():
        arrays[f"params/{key}"] = value
    for slot, values in state.optimizer_state.slots.items():
        for key, value in values.items():
            arrays[f"slots/{slot}/{key}"] = value
    for key, value in (state.best_params or {}).items():
        arrays[f"best_params/{key}"] = value
    meta = {
        "format": FORMAT,
        "epoch": state.epoch,
        "optimizer_step": state.optimizer_state.step,
        "slot_names": list(state.optimizer_state.slots),
        "param_keys": list(state.params),
        "history": [list(record) for record in state.history],
        "best_epoch": state.best_epoch,
        "best_value": state.best_value,
        "epochs_since_best": state.epochs_since_best,
        "stopped": state.stopped,
        "has_best_params": state.best_params is not None,
        "rng_state": None if rng is None else _as_json(rng.bit_generator.state),
        "run": dict(run),
    }
    try:
        loaded_run = json.loads(json.dumps(meta["run"]))
    except (TypeError, ValueError) as error:
        raise TypeError(f"run must hold JSON values only: {error}") from error
    if not _same_setting(loaded_run, meta["run"]):  # JSON turns the key 1 into "1": a resume would see another run
        raise TypeError(f"run must hold JSON values with str keys only: it would load back as {loaded_run!r}")
    try:
        text = json.dumps(meta)
    except (TypeError, ValueError) as error:  # the rest is checked above but the records' figures
        raise TypeError(f"state.history must hold Python numbers and None only: {error}") from error
    arrays["meta"] = np.array(text)
    target = checkpoint_path(folder, state.epoch)
    with atomic_write(target, make_parents=True) as handle:  # made again if a check elsewhere removes it
        np.savez(handle, allow_pickle=False, **arrays)
    complete = _by_epoch(folder)
    for old in complete[:-keep_last]:
        if old != target:
            old.unlink(missing_ok=True)
    return target


def _as_json(value: object) -> object:
    """A generator's state as JSON values: MT19937's, Philox's and SFC64's hold arrays of
    integers, which become lists (their ``state`` setters take lists back)."""
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        listed: object = value.tolist()
        return listed
    if isinstance(value, np.integer):
        return int(value)
    return value


def _check_state(state: object) -> TrainState:
    """``state`` as ``save_checkpoint`` writes it and ``load_checkpoint`` reads it back, its
    counts as Python ints (JSON takes no numpy integer)."""
    if not isinstance(state, TrainState):
        raise TypeError(f"state must be a TrainState, got {type(state).__name__}")
    epoch = check.check_positive_int("state.epoch", state.epoch, minimum=0)  # it names the file: checkpoint-<epoch>.npz
    optimizer_state: object = state.optimizer_state
    if not isinstance(optimizer_state, OptimizerState):
        raise TypeError(f"state.optimizer_state must be an OptimizerState, got {type(optimizer_state).__name__}")
    step = check.check_positive_int("state.optimizer_state.step", optimizer_state.step, minimum=0)
    history: object = state.history
    if not isinstance(history, tuple):
        raise TypeError(f"state.history must be a tuple of EpochRecord, got {type(history).__name__}")
    for i, record in enumerate(history):
        if not isinstance(record, EpochRecord):
            raise TypeError(f"state.history[{i}] must be an EpochRecord, got {type(record).__name__}")
    best_epoch = None if state.best_epoch is None else check.check_positive_int("state.best_epoch", state.best_epoch, minimum=0)
    best_value: object = state.best_value
    if best_value is not None and (isinstance(best_value, bool) or not isinstance(best_value, (int, float))):
        raise TypeError(f"state.best_value must be a float or None, got {type(best_value).__name__} {best_value!r}")
    since = check.check_positive_int("state.epochs_since_best", state.epochs_since_best, minimum=0)
    stopped: object = state.stopped
    if not isinstance(stopped, bool):
        raise TypeError(f"state.stopped must be a bool, got {type(stopped).__name__} {stopped!r}")
    return state._replace(
        epoch=epoch, optimizer_state=optimizer_state._replace(step=step), best_epoch=best_epoch, epochs_since_best=since
    )


_BIT_GENERATORS: Final = {kind.__name__: kind for kind in (np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64)}
"""NumPy's bit generators by name, as a generator's state names its own."""


def _check_rng_state(rng_state: object, file: Path) -> dict[str, JSONValue] | None:
    """A saved generator state that a resume can restore, tried on a fresh bit generator of its kind."""
    if rng_state is None:
        return None
    if not isinstance(rng_state, dict):
        raise CheckpointError(f"{file}: its generator state must be a JSON object or null, got {type(rng_state).__name__}: the checkpoint is damaged")
    name = rng_state.get("bit_generator")
    kind = _BIT_GENERATORS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise CheckpointError(f"{file}: its generator state names an unknown bit generator {name!r}: the checkpoint is damaged")
    try:
        bit_generator: np.random.BitGenerator = kind()
        bit_generator.state = rng_state
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise CheckpointError(f"{file}: its generator state is not a valid {name} state: the checkpoint is damaged") from error
    return rng_state


def latest_checkpoint(directory: str | os.PathLike[str]) -> Path | None:
    """The checkpoint of the highest epoch in ``directory``, or ``None`` if it holds none.

    ``directory`` is checked as ``save_checkpoint`` checks it: an empty path is refused
    (``ValueError``), not read as the current folder.
    """
    folder = check.check_path("directory", directory, example="runs/checkpoints")
    if not folder.is_dir():
        return None
    found = _by_epoch(folder)
    return found[-1] if found else None


def checkpoint_to_resume(directory: Path, resume: bool) -> tuple[Path, Checkpoint] | None:
    """The latest checkpoint in ``directory``, its path and what it holds, for a run that may
    continue it (``train``'s and ``train_rounds``' ``checkpoint_dir``); ``None`` if it holds none.
    A directory holding checkpoints is refused (``ValueError``) unless ``resume`` is true."""
    latest = latest_checkpoint(directory)
    if latest is None:
        return None
    if not resume:
        raise ValueError(
            f"checkpoint_dir {directory} already holds checkpoints (latest {latest.name}): pass resume=True to "
            "continue that run, or choose an empty directory"
        )
    return latest, load_checkpoint(latest)


def _by_epoch(folder: Path) -> list[Path]:
    """The checkpoints in ``folder``, oldest epoch first: by the epoch's number, since names of
    seven digits and more (epoch 1,000,000 on) sort before six-digit ones as text."""
    return sorted((path for path in folder.iterdir() if _NAME.fullmatch(path.name)), key=lambda path: (checkpoint_epoch(path), path))


def _earlier(file: Path) -> str:
    """Where a damaged checkpoint's run may resume from instead: the checkpoint before it in its
    folder (``save_checkpoint`` keeps the last two), once the damaged one is removed."""
    try:
        folder = _by_epoch(file.parent)
    except OSError:
        return ""
    earlier = folder[: folder.index(file)] if file in folder else []
    if not earlier:
        return ""
    return f"; the checkpoint before it, {earlier[-1].name}, is resumed from once {file.name} is removed"


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint``; ``CheckpointError`` if it is not one.

    A ``path`` that is not a str or ``os.PathLike`` (``TypeError``), is empty or holds a NUL
    byte (``ValueError``) is refused by name, not read as a damaged checkpoint.
    """
    file = check.check_path("path", path, example="runs/checkpoints/checkpoint-000001.npz", file=True)
    names: list[str] = []  # every entry's name, for the messages below; only the selected ones are read

    def selected(found: list[str]) -> list[str]:
        names.extend(found)
        return _checkpoint_names(found)  # anything else is never decompressed

    try:
        arrays = read_arrays(file, select=selected)
    except ValueError as error:
        raise CheckpointError(f"{file} is not a readable checkpoint (truncated or corrupt?): {error}{_earlier(file)}") from error
    if "meta" not in arrays:
        if METADATA_KEY in names:  # the mirror of load_parameters' word on a checkpoint
            raise CheckpointError(
                f"{file} is a parameter file written by save_parameters, not a training checkpoint: "
                "read it with functional_nn.load_parameters(path)"
            )
        raise CheckpointError(f"{file} is not a functional_nn checkpoint: it has no 'meta' entry (it holds {sorted(names)[:8]})")
    try:
        try:
            meta = json.loads(str(arrays.pop("meta")))
        except RecursionError as error:
            raise CheckpointError(f"{file} is not a valid functional_nn checkpoint: its 'meta' entry nests deeper than Python can read") from error
        if not isinstance(meta, dict):
            raise CheckpointError(
                f"{file} is not a functional_nn checkpoint: its 'meta' entry must be a JSON object, got {type(meta).__name__}"
            )
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{file} has format {meta.get('format')!r}, expected {FORMAT!r}")
        params = _group(arrays, "params/", meta["param_keys"], file)
        check.check_params(params, f"the checkpoint's params ({file})")
        slots = {name: _group(arrays, f"slots/{name}/", meta["param_keys"], file) for name in meta["slot_names"]}
        best_params = _group(arrays, "best_params/", meta["param_keys"], file) if meta["has_best_params"] else None
        _check_slots(slots, params, "its optimizer slots")
        if best_params is not None:
            check.check_like_params("its best_params", best_params, params)
        state = _check_state(  # as save_checkpoint checks it: "stopped": "no" is no stopped run, -5 no epoch
            TrainState(
                epoch=meta["epoch"],
                params=params,
                optimizer_state=OptimizerState(step=meta["optimizer_step"], slots=slots),
                history=tuple(EpochRecord(*record) for record in meta["history"]),
                best_params=best_params,
                best_epoch=meta["best_epoch"],
                best_value=meta["best_value"],
                epochs_since_best=meta["epochs_since_best"],
                stopped=meta["stopped"],
            )
        )
        return Checkpoint(state, _check_rng_state(meta["rng_state"], file), dict(meta["run"]), file)
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{file} is not a valid functional_nn checkpoint: {type(error).__name__}: {error}") from error


def _checkpoint_names(names: list[str]) -> list[str]:
    """The entries ``load_checkpoint`` reads: ``meta`` and the parameters, slots and best parameters."""
    return [name for name in names if name == "meta" or name.startswith(("params/", "slots/", "best_params/"))]


def _group(arrays: Mapping[str, np.ndarray[Any, Any]], prefix: str, keys: list[str], file: Path) -> dict[str, FloatArray]:
    missing = [key for key in keys if prefix + key not in arrays]
    if missing:
        raise CheckpointError(f"{file} lacks {[prefix + key for key in missing]}: truncated or foreign")
    return {key: arrays[prefix + key] for key in keys}


def _check_slots(slots: object, params: Mapping[str, FloatArray], argument: str) -> None:
    """Every optimizer slot in ``slots`` is an array per parameter of its shape and dtype."""
    if not isinstance(slots, Mapping):
        raise TypeError(f"{argument} must be a mapping of slot names to dicts of arrays, got {type(slots).__name__}")
    for name, slot in slots.items():
        check.check_like_params(f"{argument}[{name!r}]", slot, params)


def restored_generator(rng: np.random.Generator, rng_state: Mapping[str, JSONValue]) -> np.random.Generator:
    """A new generator of ``rng``'s kind in the saved state; ``rng`` itself is left alone."""
    bit_generator = type(rng.bit_generator)()
    if rng_state.get("bit_generator") != type(bit_generator).__name__:
        raise CheckpointError(
            f"the checkpoint's generator is {rng_state.get('bit_generator')!r} but rng uses {type(bit_generator).__name__}"
        )
    bit_generator.state = dict(rng_state)
    return np.random.Generator(bit_generator)


def mismatches(saved: Mapping[str, JSONValue], current: Mapping[str, JSONValue]) -> list[str]:
    """The run settings that differ between a checkpoint and the run resuming it."""
    keys = sorted(set(saved) | set(current))
    return [
        f"{key}: checkpoint {saved.get(key)!r}, now {current.get(key)!r}"
        for key in keys
        if not _same_setting(saved.get(key), current.get(key))
    ]


def _same_setting(saved: JSONValue, current: JSONValue) -> bool:
    """``saved == current``, item by item, but a NaN equal to a NaN: a setting that is NaN in
    both (a schedule's hyperparameter, say) is the same setting."""
    if isinstance(saved, float) and isinstance(current, float) and math.isnan(saved) and math.isnan(current):
        return True
    if isinstance(saved, (list, tuple)) and isinstance(current, (list, tuple)):
        return len(saved) == len(current) and all(_same_setting(a, b) for a, b in zip(saved, current))
    if isinstance(saved, dict) and isinstance(current, dict):
        return saved.keys() == current.keys() and all(_same_setting(saved[k], current[k]) for k in saved)
    return bool(saved == current)


def data_digest(*arrays: np.ndarray[Any, Any]) -> str:
    """A 128-bit BLAKE2 digest of a data set's shapes, dtypes and values (``X, Y``, or sample
    weights), for a run description: a checkpoint is resumed only on the data it was trained on."""
    hasher = hashlib.blake2b(digest_size=16)
    for array in arrays:
        hasher.update(repr((array.shape, array.dtype.str)).encode())
        update_in_blocks(hasher, array.T)  # column-major bytes: no copy for loaders' X
    return hasher.hexdigest()


DIGEST_BLOCK_BYTES: Final = 1 << 20
"""At most this many bytes of an array are made contiguous at a time to be hashed (1 MB)."""


def update_in_blocks(hasher: hashlib.blake2b, array: np.ndarray[Any, Any]) -> None:
    """``hasher.update(np.ascontiguousarray(array).data)``, the same bytes in the same order,
    without a contiguous copy of the whole array: that of a C-ordered ``X``'s columns is the
    data set's size in fresh memory (a C-ordered ``np.memmap`` larger than memory could not be
    hashed at all). A contiguous array is hashed as it is; any other block by block of its
    leading axis."""
    if array.size == 0 or array.flags.c_contiguous:
        hasher.update(np.ascontiguousarray(array).data)
        return
    step = max(1, DIGEST_BLOCK_BYTES // (array.nbytes // array.shape[0]))
    for start in range(0, array.shape[0], step):
        hasher.update(np.ascontiguousarray(array[start : start + step]).data)


def described_hyperparameters(optimizer: str, hyperparameters: Iterable[tuple[str, object]]) -> list[list[object]]:
    """An optimizer's ``hyperparameters`` as a run description stores them: ``[name, number]``
    pairs of Python numbers (JSON takes no NumPy scalar, which a schedule or an optimizer of
    one's own may hold). Anything but a number is refused (``TypeError``), before any
    training, rather than when the first checkpoint is written."""
    described: list[list[object]] = []
    given: object = hyperparameters  # typed, but an optimizer of one's own holds what it likes
    if not check.is_named_pairs(given):
        raise TypeError(
            f"hyperparameters of optimizer {optimizer!r} must be a tuple of (name, number) pairs, "
            f"such as (('learning_rate', 0.001),), got {given!r}"
        )
    for name, value in hyperparameters:
        if isinstance(value, (np.integer, np.floating, np.bool_)):
            value = value.item()
        if not isinstance(value, (int, float)):  # bool is an int
            raise TypeError(
                f"hyperparameter {name!r} of optimizer {optimizer!r} must be a number (checkpoints store it), "
                f"got {type(value).__name__} {value!r}"
            )
        described.append([name, value])
    return described
