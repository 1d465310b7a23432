"""Keeping a trained network: parameters and their description in one ``.npz`` file.

The file holds one array per parameter (``W1``, ``b1``, ...) and ``__metadata__``, a JSON
string. Nothing is pickled: files are read with ``np.load(..., allow_pickle=False)``, so
loading a file from elsewhere cannot run code. Files are written atomically: a temporary
file in the same directory is filled, flushed to disk, then renamed over the target, so a
crash or an error leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import json
import math
import os
import re
import socket
import stat
import sys
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from functional_nn import _validation as check
from functional_nn.activations import ACTIVATIONS, check_one_record_per_name, resolve_activation
from functional_nn.propagation import check_activations
from functional_nn.types import ActivationFunction, FloatArray, LossFunction, Params, record_repr

FORMAT: Final = "functional_nn.parameters/1"
"""The ``format`` entry of the metadata; a file without it was not written by ``save_parameters``."""
METADATA_KEY: Final = "__metadata__"


class SavedParameters(NamedTuple):
    """What ``load_parameters`` returns: the parameters, their metadata, and the activations.

    ``metadata`` always holds ``format``, ``layer_sizes`` (list of int), ``activations``
    (list of names, one per layer), ``dtype`` (``"float32"`` or ``"float64"``) and
    ``library_version``, plus whatever else the caller saved. ``activations`` holds the
    records those names resolve to, ready for ``predict(X, saved.params, saved.activations)``.
    """

    params: dict[str, FloatArray]
    metadata: dict[str, object]
    activations: tuple[ActivationFunction, ...]

    def __repr__(self) -> str:
        return record_repr(self)


_TEMPORARY = re.compile(r"\.(?P<name>.+)\.fnn-(?P<pid>[0-9]+)-(?:(?P<host>[0-9a-f]{8})-)?[0-9a-z_]+\.tmp")
"""Our temporary files: ``.<target name>.fnn-<pid>-<host>-<random>.tmp``, beside the target
(``<host>-`` is absent from those of versions before it)."""


def _host_tag() -> str:
    """This machine, or container, as 8 hex digits: a CRC-32 of the host name and, on Linux,
    of the process-id namespace (a container may keep the host's name). A process id means
    something only where it was given."""
    host = socket.gethostname()
    try:
        host += f"/{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:  # no /proc: the host name alone
        pass
    return f"{zlib.crc32(host.encode()):08x}"


_HOST: Final = _host_tag()
"""This machine in a temporary file's name (``_host_tag``)."""


_TRIES: Final = 100
"""How often a folder removed between its making and its first file is made again. Each time
needs another process to remove it just then (a ``check_writable_directory`` removing the
folders it made); the bound only ends a loop against something that keeps removing it."""


@contextmanager
def atomic_write(path: str | os.PathLike[str], *, make_parents: bool = False) -> Iterator[IO[bytes]]:
    """A binary file handle whose contents replace ``path`` only if the block completes.

    Writes to a temporary file beside ``path`` (same directory, so the final ``os.replace`` is
    an atomic rename), flushes and fsyncs it, then renames it over ``path``. If the block
    raises, the temporary file is removed and ``path`` is left as it was. The file behaves as
    ``cp`` or ``np.save`` would have it:

    - a symbolic link is followed: the file it points to is replaced, the link stays; a loop
      of links is refused with ``OSError``;
    - an existing file that cannot be written (read-only) is refused with ``PermissionError``;
    - an existing path that is not a regular file (a device such as ``/dev/null``, a FIFO, a
      socket) is refused with ``OSError``: the rename would replace it with a regular file;
    - an existing file keeps its mode; a new one gets ``0o666`` less the umask (``0644``).

    An ``OSError`` met while writing (a folder that takes no file, a full disk) is raised of
    the same class and errno, naming ``path`` as its ``filename``, never the temporary file.

    The directory of ``path`` must exist, unless ``make_parents``: then it is made, with its
    missing parents, as ``mkdir -p`` would. Either way, if it is removed before the temporary
    file is made in it (a ``check_writable_directory`` elsewhere removing the folders it made,
    which the caller found made and took for its own), it is made again.

    The temporary file is named ``.<name>.fnn-<pid>-<host>-<random>.tmp``. One left behind by
    a process of this machine that was killed mid-write (its process id is no longer running
    here) is removed by the next write to the same target; one of another machine sharing the
    folder is left to that machine, where its process id means something. On Windows, where
    no process can be asked whether it runs without signalling it, such files are left.
    """
    target, mode = check_writable_target(path, make_parents=make_parents)
    remove_stale_temporaries(target.parent, glob.escape(target.name))
    handle = _temporary_file(target, path, make_parents=make_parents)
    try:
        if mode is None:  # the temporary file was created private (0600)
            mode = 0o666 & ~_umask()
        os.chmod(handle.name, mode)
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException as error:
        Path(handle.name).unlink(missing_ok=True)
        # writing the temporary file failed (a full disk, say): the caller knows only path
        if isinstance(error, OSError) and error.filename in (None, handle.name):
            raise _naming_target(error, path) from error
        raise


_UMASK_LOCK: Final = threading.Lock()


def _umask() -> int:
    """This process's umask, read without changing it where Linux shows it (``/proc/self/status``).

    ``os.umask`` reads it only by setting another: while that one is set, a file or folder
    any other thread makes gets it (with ``os.umask(0)``, world-writable), and two threads
    reading it so at once can leave the process with the other one for good. Where there is no
    such line, it is read so all the same, under a lock and with ``0o077`` set meanwhile.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        umask = os.umask(0o077)
        os.umask(umask)
    return umask


def check_writable_target(path: str | os.PathLike[str], *, make_parents: bool = False) -> tuple[Path, int | None]:
    """``path`` resolved through its symbolic links, as ``atomic_write`` writes it, and the
    permission bits of the file there (``None`` if there is none yet), if ``atomic_write`` may
    write it; a function with work to do before writing (drawing a picture) calls this first.

    Refused: a loop of links and an existing path that is not a regular file (``OSError``: a
    device such as ``/dev/null``, a FIFO, a socket, which the rename would make a regular file),
    a directory (``IsADirectoryError``), a directory to write into that does not exist, unless
    ``make_parents`` (``FileNotFoundError``), and a read-only file (``PermissionError``).
    """
    target = _resolved(path)
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a directory")
    if not make_parents and not target.parent.is_dir():  # else the error would name the temporary file
        problem = "is not a directory" if target.parent.exists() else "does not exist"
        raise FileNotFoundError(f"cannot write {path}: the directory {target.parent} {problem}")
    if not target.exists():
        return target, None
    mode = os.stat(target).st_mode
    if not stat.S_ISREG(mode):  # as root, /dev/null itself would become our file
        raise OSError(f"cannot write {path}: it is not a regular file (a device, FIFO or socket), which a rename would replace")
    if not os.access(target, os.W_OK) or not mode & 0o222:
        raise PermissionError(f"cannot write {path}: the file is read-only (make it writable, or write elsewhere)")
    return target, stat.S_IMODE(mode)


def _temporary_file(target: Path, path: str | os.PathLike[str], *, make_parents: bool) -> IO[bytes]:
    """``atomic_write``'s temporary file beside ``target``, its folder made first if
    ``make_parents``, and made again if it is removed before the file is made in it."""
    tries = 0
    while True:
        tries += 1
        if make_parents or tries > 1:
            make_folders(target.parent)  # which makes again a parent removed under it
        try:
            return tempfile.NamedTemporaryFile(
                mode="wb", dir=target.parent, prefix=f".{target.name}.fnn-{os.getpid()}-{_HOST}-", suffix=".tmp", delete=False
            )
        except OSError as error:
            if tries < _TRIES and _vanished(error):
                continue
            raise _naming_target(error, path) from error  # a folder that takes no file: said of path


def _vanished(error: OSError) -> bool:
    """Whether ``error`` may be another process's doing, a folder removed (and perhaps made
    again) while we made or used it: ``ENOENT``, or ``EEXIST`` with no file in the way.

    Looking afterwards cannot tell: the folder may be back by then. A refusal with ``ENOENT``
    (``/proc``) is met again on every try, and given after ``_TRIES`` of them.
    """
    if isinstance(error, FileNotFoundError):
        return True
    if isinstance(error, FileExistsError) and error.filename is not None:
        try:  # one look, as in blocking_file
            return stat.S_ISDIR(os.stat(os.fsdecode(error.filename)).st_mode)
        except OSError:
            return True  # gone again: nothing in the way
    return False


def _naming_target(error: OSError, path: str | os.PathLike[str]) -> OSError:
    """``error`` said of ``path``, the file being written, rather than of our temporary file:
    its class and errno kept, and, as ``open(path, "wb")`` would raise it, ``path`` as its
    ``filename`` (``[Errno 13] Permission denied: 'path'``); one without an errno reads
    ``cannot write path: ...``."""
    target = os.fspath(path)
    try:
        if error.errno is None:
            return type(error)(f"cannot write {target}: {error}")
        return type(error)(error.errno, error.strerror or os.strerror(error.errno), target)
    except TypeError:  # a subclass of the caller's with another constructor: OSError picks the class by errno
        return OSError(error.errno, error.strerror or str(error), target)


def _resolved(path: str | os.PathLike[str]) -> Path:
    """``path`` through its symbolic links, as ``open(path, "w")`` would write it. A loop of
    links is refused (``OSError``): ``realpath`` leaves it unresolved, and the rename would
    replace the link with a regular file where ``open`` fails ("too many levels")."""
    target = Path(os.path.realpath(path))
    if target.is_symlink():
        raise OSError(f"cannot write {path}: its symbolic links make a loop")
    return target


def blocking_file(directory: str | os.PathLike[str]) -> Path | None:
    """What stops ``directory`` from being a directory or being created as one: ``directory``
    itself, or the nearest of its parents that exists, if that is not a directory; else ``None``."""
    folder = Path(directory)
    for candidate in (folder, *folder.parents):
        try:
            # one look, not exists() then is_dir(): checks elsewhere make and remove folders in between
            mode = candidate.stat().st_mode
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):  # nothing there, as exists() says
                continue
            raise
        return None if stat.S_ISDIR(mode) else candidate
    return None


def check_writable_directory(directory: str | os.PathLike[str], argument: str, purpose: str) -> Path:
    """Make sure ``directory`` can be created (with its missing parents) and take new files.

    For a folder that will be written into only after some work (an epoch of training, a
    download). It is tried for real: the missing folders are made, one empty file is
    created in ``directory`` and removed at once, as ``atomic_write`` creates its files, and
    the folders made here are removed again, so the check leaves nothing behind and the
    writer creates the folder when it writes. Trying meets what the real write would meet
    (a read-only file system, ``/proc``, an ACL, a network file system mapping root to
    nobody), which ``os.access`` does not: it answers from the permission bits, which root
    passes whatever they say, and it said yes for ``/sys`` and ``/proc``, where root can
    create nothing.

    Checks and writers may run at once on the same folder. Only the folders this check made
    are removed, never one found made meanwhile (by a writer, another check); one removed
    before the empty file is made in it (another check finishing) is made again. So no check
    fails for another's doing. A writer that finds a folder made by a check and takes it for
    its own may still see it removed: ``atomic_write(path, make_parents=True)``, which makes
    it again, is safe. When checks overlap, one may leave an empty folder that held another's.

    Raises
    ------
    ValueError
        ``"<argument> <directory> cannot <purpose>: ..."``, then what stands in the way: a
        file that ``directory`` is or lies under, the folder that could not be created
        (``cannot create /x (Permission denied)``), or ``no file can be created in it (...)``.
    """
    folder = Path(directory)
    refused = f"{argument} {directory} cannot {purpose}"
    blocking = blocking_file(folder)
    if blocking is not None:
        raise ValueError(f"{refused}: {blocking} exists and is not a directory")
    tries = 0
    while True:
        tries += 1
        try:
            made = make_folders(folder)
        except OSError as error:
            raise ValueError(f"{refused}: cannot create {error.filename or folder} ({error.strerror or error})") from error
        try:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".fnn-write-test-", suffix=".tmp"):
                pass  # as atomic_write makes its files; removed on closing
        except OSError as error:
            if tries < _TRIES and _vanished(error):
                continue
            raise ValueError(f"{refused}: no file can be created in it ({error.strerror or error})") from error
        finally:
            remove_empty_folders(made)
        return folder


def make_folders(folder: str | os.PathLike[str]) -> list[Path]:
    """Create ``folder`` and its missing parents, as ``mkdir -p`` does; return the folders this
    call made, deepest first, as ``remove_empty_folders`` takes them.

    A folder found made meanwhile, by another process between the look and the ``mkdir``, is
    not counted: it is not the caller's to remove. A parent removed before the folder is made
    in it (another check finishing) is made again, up to ``_TRIES`` times.

    Raises
    ------
    OSError
        What stands in the way (a file, a read-only file system), after the folders made so
        far are removed again.
    """
    target = Path(folder)
    made: set[Path] = set()  # over every try: a parent made in one is still ours in the next
    tries = 0
    while True:
        tries += 1
        try:
            for path in reversed([path for path in (target, *target.parents) if not path.exists()]):
                if _made_here(path):
                    made.add(path)
        except OSError as error:
            if tries < _TRIES and _vanished(error):
                continue
            remove_empty_folders(_deepest_first(made))
            raise
        return _deepest_first(made)


def _deepest_first(folders: set[Path]) -> list[Path]:
    return sorted(folders, key=lambda folder: len(folder.parts), reverse=True)


def _made_here(folder: Path) -> bool:
    """Make ``folder``, whose parent exists; ``False`` if it was there already, made by someone
    else since we looked (a writer, another check), and so not ours to remove."""
    try:
        folder.mkdir()
    except FileExistsError:
        if folder.is_dir():
            return False
        raise
    return True


def remove_empty_folders(folders: Sequence[Path]) -> None:
    """Remove ``folders`` (``make_folders``' list, deepest first) while they are empty: made by
    the caller and still unused. One already gone is passed over; one that holds something
    stops the removal, since its parents then hold it too."""
    for folder in folders:
        try:
            folder.rmdir()
        except FileNotFoundError:
            continue  # removed by someone else: the parents are still ours, if still empty
        except OSError:
            return  # not empty: someone else's now


def remove_stale_temporaries(folder: Path, names: str) -> None:
    """Remove ``atomic_write``'s temporary files in ``folder`` for targets whose names match
    the glob pattern ``names`` and whose writing process is gone (killed mid-write); those of
    a process still running are its writes in progress and stay. So do those written on
    another machine or in another container sharing the folder (an NFS home, a shared
    volume), whose process ids mean nothing here: their own host removes them."""
    try:
        siblings = list(folder.glob(f".{names}.fnn-*.tmp"))
    except OSError:
        return
    for sibling in siblings:
        match = _TEMPORARY.fullmatch(sibling.name)
        if match is None or not fnmatch.fnmatchcase(match["name"], names) or match["host"] not in (None, _HOST):
            continue
        if _process_alive(int(match["pid"])):
            continue
        try:
            sibling.unlink()
        except OSError:
            pass  # another writer got there first, or the folder is not ours to clean


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    if sys.platform == "win32":
        # no probe there: os.kill(pid, 0) is os.kill(pid, signal.CTRL_C_EVENT), a console Ctrl-C
        # event (GenerateConsoleCtrlEvent), which answers nothing and may interrupt this very run
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process: leave its file alone
    return True


def read_arrays(
    path: str | os.PathLike[str], *, select: Callable[[list[str]], Sequence[str]] | None = None
) -> dict[str, npt.NDArray[Any]]:
    """Every array of the ``.npz`` archive at ``path``, read without unpickling anything.

    Every entry's header is checked first: one of Python objects, or claiming more bytes than
    the archive holds for it, is refused before any array is allocated. ``select``, if given,
    is then called with the archive's names and returns those to read; it may raise
    ``ArchiveRefused`` to refuse the file, so that an entry not wanted (a zip bomb under a
    foreign name) is never decompressed beyond its header.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        Anything else: not an ``.npz`` archive (random bytes, a single ``.npy`` array, a
        damaged or truncated zip, an entry that would need unpickling, an entry named twice,
        one claiming more data than it holds); the message says what was found, in our words.
    """
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{target} is a folder, not an .npz file")
    try:
        # an open file of ours: np.load leaks its own handle when the zip is damaged
        with target.open("rb") as handle:
            head = handle.read(4)
            handle.seek(0)
            if head != b"PK\x03\x04":
                if head == b"\x93NUM":
                    raise ValueError("it holds a single array (an .npy file), not an .npz archive")
                raise ValueError(f"it is not an .npz archive: it starts with {head!r}, not a zip archive's b'PK\\x03\\x04'")
            with np.load(handle, allow_pickle=False) as archive:
                names = list(archive.files)
                twice = sorted({name for name in names if names.count(name) > 1})
                if twice:  # readers differ on which one they take
                    raise ValueError(f"it holds the entry {twice[0]!r} more than once")
                members = set(archive.zip.namelist())
                for key in names:  # their headers only: an entry's data is read only if selected
                    _check_header(archive.zip, members, key)
                wanted = names if select is None else select(names)
                return {key: archive[key] for key in wanted}
    except (FileNotFoundError, ArchiveRefused):
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        # zlib.error: a damaged entry of a compressed archive (np.savez_compressed)
        reason = str(error) if not isinstance(error, zlib.error) else f"a compressed entry is damaged ({error})"
        if "pickle" in reason:  # numpy's advice would be to unpickle it: never
            reason = "an entry holds Python objects, which are never loaded"
        raise ValueError(reason) from error


class ArchiveRefused(ValueError):
    """Raised by ``read_arrays``'s ``select`` to refuse a file by its entries' names, in the
    caller's own words: passed on as it is, not as damage."""


def _check_header(archive: zipfile.ZipFile, members: set[str], key: str) -> None:
    """Refuse the entry ``key`` if its ``.npy`` header claims Python objects, or more bytes than
    the archive holds for it: NumPy would allocate the claimed array first (a MemoryError for
    10**12 entries). ``members``: the archive's member names."""
    member = key + ".npy" if key + ".npy" in members else key
    info = archive.getinfo(member)
    with archive.open(info) as stream:
        if stream.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
            return  # not an array: NumPy hands back its bytes, no more than the archive holds
        version = tuple(stream.read(2))
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(stream)
        held = info.file_size - stream.tell()
    if dtype.hasobject:  # numpy's words would advise unpickling it
        raise ValueError("an entry holds Python objects, which are never loaded")
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > held:
        raise ValueError(
            f"its entry {key!r} claims a {dtype} array of shape {shape} ({claimed:,} bytes) but holds {held:,} bytes"
        )


def save_parameters(path: str | os.PathLike[str], params: Params, *, metadata: Mapping[str, object]) -> Path:
    """Write ``params`` and ``metadata`` to ``path`` (an ``.npz`` file), atomically.

    Parameters
    ----------
    path : path
        The file to write: not empty, no NUL byte, no trailing separator (a folder); its
        directory must exist. Written as given (no suffix is added).
    params : dict of str to ndarray
        ``"W1"``: ``(n_1, n_0)``, ``"b1"``: ``(n_1, 1)``, ...; validated, not modified.
    metadata : mapping of str to JSON values
        Must hold ``"activations"``, one per layer: names, or ``ActivationFunction`` records,
        whose names are written (a ``LossFunction`` under ``"loss"`` is written as its name
        too). ``"layer_sizes"``, ``"dtype"`` and ``"format"`` are filled in from ``params``
        and the library (given ones must agree). ``"library_version"`` is always the version
        writing the file: a given one, such as an older file's from ``load_parameters``, is
        replaced. Any other JSON-serialisable entries (the loss, the training figures, ...)
        are kept as they are; NaN and infinities are refused (JSON has none), and so are keys
        that are not str, at any depth (JSON would load ``1`` back as ``"1"``), naming the entry.

    Returns
    -------
    path : pathlib.Path
        The file written.
    """
    from functional_nn import __version__  # here, not at import: the package imports this module

    target = check.check_path("path", path, example="params.npz", file=True)
    sizes = check.check_params(params)
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping of str to JSON values, got {type(metadata).__name__}")
    for key, value in metadata.items():  # JSON makes every key a str: 1 would load back as "1"
        if not isinstance(key, str):
            raise TypeError(f"metadata keys must be str, as JSON keeps them, got {type(key).__name__} {key!r}")
        inner = _non_str_key(value)
        if inner:
            raise TypeError(
                f"metadata[{key!r}] cannot be saved: it holds the key {inner[0]!r} ({type(inner[0]).__name__}), but "
                "JSON keys are str, so it would not load back as saved"
            )
    if "activations" not in metadata:
        raise ValueError("metadata must hold 'activations', one name per layer, e.g. ['relu', 'softmax']")
    activations = check_activations(metadata["activations"], len(sizes) - 1)
    check_one_record_per_name("metadata['activations']", activations, "a parameters file")
    derived: dict[str, object] = {
        "format": FORMAT,
        "layer_sizes": list(sizes),
        "activations": [a.name for a in activations],
        "dtype": params["W1"].dtype.name,
        "library_version": __version__,
    }
    for key in ("layer_sizes", "dtype", "format"):
        if key in metadata and _json_roundtrip(metadata[key], key) != derived[key]:
            raise ValueError(f"metadata[{key!r}] is {metadata[key]!r} but the params say {derived[key]!r}")
    combined = {**metadata, **derived}
    loss = combined.get("loss")
    if isinstance(loss, LossFunction):
        combined["loss"] = loss.name
    try:
        text = json.dumps(combined, sort_keys=True, allow_nan=False, default=_refuse_json)
    except (TypeError, ValueError) as error:  # json's own words name no entry: find the one
        raise _naming_entry(combined, error) from error
    # values typed Any: numpy's stubs would match **arrays against savez's allow_pickle: bool
    arrays: dict[str, Any] = {key: params[key] for key in _param_keys(len(sizes) - 1)}
    arrays[METADATA_KEY] = np.array(text)
    with atomic_write(target) as handle:
        np.savez(handle, **arrays)
    return target


def _json_roundtrip(value: object, key: str) -> object:
    try:
        loaded: object = json.loads(json.dumps(value, default=_refuse_json))
    except (TypeError, ValueError) as error:  # json's own words name no entry
        raise _naming_entry({key: value}, error) from error
    return loaded


def _non_str_key(value: object) -> tuple[object, ...]:
    """``(key,)``, the first key of a dict inside ``value`` (at any depth) that is not a str, or ``()``."""
    found: tuple[object, ...] = ()
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = (key,) if not isinstance(key, str) else _non_str_key(item)
            if found:
                break
    elif isinstance(value, (list, tuple)):
        for item in value:
            found = _non_str_key(item)
            if found:
                break
    return found


def _naming_entry(metadata: Mapping[str, object], error: TypeError | ValueError) -> TypeError | ValueError:
    """``error``, which ``json.dumps`` raised for ``metadata``, said of the entry that caused it."""
    for key, value in metadata.items():
        try:
            json.dumps(value, allow_nan=False, default=_refuse_json)
        except (TypeError, ValueError) as entry_error:
            reason = "it holds NaN or an infinity, which JSON cannot hold" if isinstance(entry_error, ValueError) else entry_error
            return type(entry_error)(f"metadata[{key!r}] cannot be saved: {reason}")
    return error


def _refuse_json(value: object) -> object:
    if isinstance(value, np.generic):
        converted: object = value.item()
        return converted
    raise TypeError(f"metadata values must be JSON values (str, number, bool, None, list, dict), got {type(value).__name__}")


def _param_keys(L: int) -> list[str]:
    return [f"{p}{l}" for l in range(1, L + 1) for p in "Wb"]


def load_parameters(
    path: str | os.PathLike[str], *, custom_activations: Mapping[str, ActivationFunction] | None = None
) -> SavedParameters:
    """Read a file written by ``save_parameters``, checking everything before returning it.

    Parameters
    ----------
    path : path
        The file to read: not empty, no NUL byte, no trailing separator (a folder).
    custom_activations : mapping of str to ActivationFunction, optional
        The records of activations of your own, by the names they were saved under:
        ``{"mish": MISH}``. Built-in names resolve by themselves.

    Returns
    -------
    SavedParameters
        ``(params, metadata, activations)``: ``params`` as saved (``"W1"`` ``(n_1, n_0)``,
        ...), bit for bit, in the saved dtype; ``metadata`` as described in
        ``SavedParameters``; ``activations`` one record per layer.

    Raises
    ------
    TypeError
        ``path`` is not a ``str`` or ``os.PathLike``, or ``custom_activations`` is not a
        mapping of names to ``ActivationFunction`` records.
    ValueError
        ``path`` is a folder, an empty str or holds a NUL byte; the file is truncated or
        damaged, is not a ``save_parameters`` file, its arrays do not match its metadata, or
        it names an activation that is neither built in nor in ``custom_activations``.
    """
    known = _known_activations(custom_activations)
    target = check.check_path("path", path, example="params.npz", file=True)
    if target.is_dir():  # not damaged: the wrong path
        raise ValueError(f"{target} is a folder: give the path of a parameter file, such as {target / 'params.npz'}")

    def parameter_names(names: list[str]) -> list[str]:
        """The names checked before any array is read: a foreign entry is never decompressed."""
        if METADATA_KEY not in names and "meta" in names and any(key.startswith("params/") for key in names):
            raise ArchiveRefused(  # what save_checkpoint writes: a likely mix-up, e.g. predicting from the last epoch's file
                f"{target} is a training checkpoint, not a parameter file: with state = "
                "functional_nn.checkpoints.load_checkpoint(path).state, the parameters to predict with are "
                "state.best_params if early stopping kept them, else averaged_params(state.optimizer_state, "
                "state.params) (the ema average, if any; the last step's state.params otherwise)"
            )
        if METADATA_KEY not in names:
            raise ArchiveRefused(
                f"{target} is an .npz file but not one written by save_parameters: it has no {METADATA_KEY!r} "
                f"entry (it holds {sorted(names)[:8]})"
            )
        foreign = sorted(name for name in names if name != METADATA_KEY and not check.PARAM_KEY.fullmatch(name))
        if foreign:
            raise ArchiveRefused(
                f"the arrays of {target} has an unexpected key {foreign[0]!r}: a params dict holds only 'W1', 'b1', ..., 'WL', 'bL'"
            )
        return names

    try:
        contents = read_arrays(target, select=parameter_names)
    except ArchiveRefused:
        raise
    except ValueError as error:
        raise ValueError(
            f"{target} cannot be read as a parameter file ({error}); it may be truncated or damaged: save it again"
        ) from error
    raw = contents.pop(METADATA_KEY)
    try:
        metadata = json.loads(str(raw)) if raw.dtype.kind == "U" and raw.ndim == 0 else None
    except (json.JSONDecodeError, RecursionError) as error:
        reason = error if isinstance(error, json.JSONDecodeError) else "it nests deeper than Python can read"
        raise ValueError(f"{target}: its metadata is not valid JSON ({reason})") from error
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        found = metadata.get("format") if isinstance(metadata, dict) else None
        raise ValueError(f"{target}: its metadata must be a JSON object with format {FORMAT!r}, got format {found!r}")
    try:
        sizes = check.check_params(contents, argument=f"the arrays of {target}")
    except (TypeError, ValueError) as error:
        raise ValueError(str(error)) from error
    for key, expected in (("layer_sizes", list(sizes)), ("dtype", contents["W1"].dtype.name)):
        if metadata.get(key) != expected:
            raise ValueError(f"{target}: metadata {key} is {metadata.get(key)!r} but its arrays say {expected!r}")
    names = metadata.get("activations")
    if not isinstance(names, list) or len(names) != len(sizes) - 1 or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{target}: metadata activations must be a list of {len(sizes) - 1} names, got {names!r}")
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"{target} uses the activation(s) {unknown}, which are neither built in nor given: pass their records, "
            f"load_parameters(path, custom_activations={{{unknown[0]!r}: record, ...}})"
        )
    params = {key: contents[key] for key in _param_keys(len(sizes) - 1)}
    return SavedParameters(params, metadata, tuple(known[name] for name in names))


def _known_activations(custom: object) -> dict[str, ActivationFunction]:
    """The built-in activations by name, and the caller's records, checked."""
    known: dict[str, ActivationFunction] = {name: record for name, record in ACTIVATIONS.items()}
    if custom is None:
        return known
    if not isinstance(custom, Mapping):
        raise TypeError(f"custom_activations must map names to ActivationFunction records, got {type(custom).__name__}")
    for name, record in custom.items():
        record = resolve_activation(f"custom_activations[{name!r}]", record)
        if name != record.name:
            raise ValueError(f"custom_activations[{name!r}] is the record named {record.name!r}: key it by its name")
        known[name] = record
    return known
