r"""Fused elementwise kernels for the optimizer updates, the ReLU and softmax layers' passes,
integer batches' division and the augmentations' bilinear sampling, compiled by Numba (the
``fast`` extra).

NumPy runs an update such as Adam's as a chain of whole-array passes (thirteen per parameter
array: each ``*=``, ``+=``, ``sqrt`` and ``/`` reads and writes every element once more).
The kernels (``functional_nn._fused_kernels``) make one pass per array, reading each element
of the gradient, the moments and the parameters once and writing the results once, in the
same arithmetic in the same order: the same operations on the same ``float32`` or ``float64`` values, so their results are
bitwise those of the NumPy code in ``functional_nn.optimizers``, which stays the reference
(``tests/test_fused.py`` compares them bit for bit).

Numba is optional and imported only when a kernel is first asked for (an optimizer's
fused update, an augmentation's sampling, or ``warm_up``): ``import functional_nn`` never
imports it. ``pip install -e ".[fast]"`` installs it; without it every optimizer
and augmentation runs its NumPy code. The
first call of each kernel for a dtype compiles it (about a second), then caches the machine
code on disk (``cache=True``) for later processes.

Subnormal numbers. Adam's moments decay geometrically where a gradient is (nearly) always
zero, such as the weights of MNIST's blank border pixels, and pass through the subnormal range
(below 1.2e-38 in float32) on their way to zero; x86 CPUs do arithmetic on such numbers in
microcode, many times slower. A 784-512-256-10 Adam update measured 0.28-0.29 ms with 6% of
its first moments subnormal, 0.15 ms with them flushed. So Adam's and AdamW's fused updates run
inside ``subnormals_flushed()``, which sets the CPU's flush-to-zero and denormals-are-zero
modes for the calling thread, as TensorFlow and XLA do for their CPU kernels: their results
are NumPy's except that a value NumPy would make subnormal is zero, and a subnormal value read
(a moment, a gradient) is read as zero. At the default ``epsilon`` that moves no parameter of
ordinary size; with an ``epsilon`` near the subnormal range (1e-30 in float32, say) the step
divides by :math:`\sqrt{\hat v} + \epsilon`, and a :math:`v` NumPy keeps subnormal but the
kernel reads as zero changes it greatly. NumPy run inside the same block gives the same bits
(``tests/test_fused.py``).

In NumPy, a hidden ReLU layer of a training step makes up to seven passes over its
``(n_l, m)`` numbers after its product :math:`W_l A_{l-1}`: the bias, :math:`\max(z, 0)`
(two), the dropout mask from its 16-bit draws (three) and the dropped activations; and four
going back: the mask, :math:`[a > 0]` (two) and their product. ``relu_forward``,
``relu_dropout_forward``, ``relu_backward`` and ``relu_dropout_backward`` make one pass each,
the same operations in the same order, so that ``functional_nn.propagation``'s arrays are
bitwise those of its NumPy code (``tests/test_fused_propagation.py``). They overwrite their
``Z`` and ``dA`` arguments: ``propagation`` passes only arrays it has just made.

An output layer's arrays are small (10 x 128 for MNIST) and its passes cheap, but each NumPy
call has a cost of its own, larger inside a training step than in a loop of it alone. So
``softmax_shift`` (the bias, each column's maximum and the shift by it, or in a column whose
maximum is infinite the shifts of ``activations.softmax``'s limits) and
``softmax_normalise`` (each column's sum and the division by it) do the softmax layer's work
around NumPy's own ``exp``, which is kept so that the results stay its bits; and
``gather_divided`` gathers a mini-batch of integer samples and divides it (``train``'s
``input_divisor``) in one pass instead of a copy and a division.

Every optimizer kernel takes 1-D views of C-contiguous arrays of one dtype and scalars already
of that dtype (a Python float would make Numba compute in float64); so do the sampling
kernels, with their coefficients or displacements as arrays of that dtype. The ``*_in_place`` kernels
overwrite their ``p``, ``m`` and ``v`` arguments: call them only on arrays you own.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import platform
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, TypeAlias, get_args

from functional_nn import _validation as check

AVAILABLE = importlib.util.find_spec("numba") is not None
"""Whether Numba is installed (checked without importing it)."""

MISSING = 'the fused kernels need Numba: pip install -e ".[fast]"'

Kernel: TypeAlias = Literal["numpy", "numba"]
"""How elementwise arithmetic runs: NumPy's whole-array passes, or Numba's fused loops."""

KERNELS: tuple[Kernel, ...] = get_args(Kernel)


def check_kernel(kernel: object) -> Kernel:
    """``kernel`` checked; ``None`` is Numba's kernels when Numba is installed, else NumPy's.

    Raises
    ------
    ValueError
        ``kernel`` is a string other than ``"numpy"`` and ``"numba"``.
    ImportError
        ``"numba"`` without Numba installed; the message names the ``fast`` extra.
    """
    if kernel is None:
        return "numba" if AVAILABLE else "numpy"
    name = check.check_name("kernel", kernel, KERNELS)
    if name == "numba" and not AVAILABLE:
        raise ImportError(MISSING)
    return name


def fusable(*arrays: Any) -> bool:
    """Whether a fused kernel can take these arrays: C-contiguous, one dtype, one shape (``None`` skipped)."""
    first = arrays[0]
    dtype, shape = first.dtype, first.shape
    for a in arrays:  # a loop, not all() over a generator: this runs for every array of every step
        if a is not None and not (a.flags.c_contiguous and a.dtype == dtype and a.shape == shape):
            return False
    return True


FLUSHES_SUBNORMALS = AVAILABLE and platform.machine().lower() in ("x86_64", "amd64")
"""Whether ``subnormals_flushed`` changes anything here: with Numba, on x86-64 (its MXCSR
register). Elsewhere the block runs in the default mode and the results are NumPy's exactly."""

_FLUSH_TO_ZERO = 0x8000  # MXCSR bit 15: a subnormal result is written as zero
_DENORMALS_ARE_ZERO = 0x0040  # MXCSR bit 6: a subnormal operand is read as zero


def _import_numba_module(name: str) -> Any:
    """``functional_nn.<name>``, which imports Numba. Numba can be installed (``AVAILABLE``)
    and still fail to import, e.g. a release older than the installed NumPy: the error then
    says so and what to do, rather than Numba's own message from deep inside a training step."""
    if not AVAILABLE:  # not installed: nothing to reinstall, and warm_up and kernel take no kernel=
        raise ImportError(MISSING)
    try:
        return importlib.import_module(f"functional_nn.{name}")
    except ImportError as error:
        raise ImportError(f'{MISSING}; importing it failed ({error}): reinstall it, or pass kernel="numpy"') from error


@functools.cache
def _compile() -> dict[str, Callable[..., None]]:
    return dict(_import_numba_module("_fused_kernels").KERNELS)


@functools.cache
def _control_register() -> tuple[Callable[[], int], Callable[[int], None]]:
    """The Numba functions that read and write this thread's MXCSR (``functional_nn._mxcsr``)."""
    _mxcsr = _import_numba_module("_mxcsr")
    return _mxcsr.read, _mxcsr.write


class subnormals_flushed:
    """Within the block, the calling thread's CPU treats subnormal numbers as zero.

    Subnormal (denormal) numbers lie below the smallest normal one, ``np.finfo(dtype).tiny``
    (1.2e-38 in float32, 2.2e-308 in float64). In the block an operation that would return
    one returns zero of its sign (flush-to-zero), and one given one reads zero
    (denormals-are-zero). Every other result is bitwise the same. The mode belongs to the
    thread and is restored on leaving the block, exception or not: nothing outside it, and
    no other thread (such as the BLAS's), sees it. On machines other than x86-64, or without
    Numba, the block changes nothing (``FLUSHES_SUBNORMALS``).

    Adam's and AdamW's fused updates use it; a hand-written loop may wrap its own NumPy
    arithmetic in it the same way::

        with fused.subnormals_flushed():
            params, state = optimizer.update(grads, state, params)
    """

    __slots__ = ("_threads",)

    def __init__(self) -> None:
        # a stack per thread, so that one block entered again inside itself, or by several
        # threads at once, restores to each thread the modes it saved there
        self._threads = threading.local()

    def _saved(self) -> list[int]:
        try:
            stack: list[int] = self._threads.saved
        except AttributeError:
            stack = self._threads.saved = []
        return stack

    def __enter__(self) -> None:
        if FLUSHES_SUBNORMALS:
            read, write = _control_register()
            saved = read()
            self._saved().append(saved)
            write(saved | _FLUSH_TO_ZERO | _DENORMALS_ARE_ZERO)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if FLUSHES_SUBNORMALS:
            _control_register()[1](self._saved().pop())


def warm_up() -> None:
    """Load every kernel for ``float32`` and ``float64`` now rather than in the first update.

    Numba's start-up (importing it, preparing its compiler, reading the cached machine code)
    takes 0.5-1 s in a fresh process, measured here. A process about to run many short
    trainings, such as a Dask worker in a sweep, pays it up front with this call. The
    kernels run once on arrays of one element, whose results are thrown away.
    """
    import numpy as np

    kernels = _compile()
    with subnormals_flushed():
        pass
    for dtype in (np.float32, np.float64):
        one = dtype(1)
        g, m, v, p, m2, v2, p2 = (np.ones(1, dtype) for _ in range(7))
        kernels["adam_in_place"](g, m, v, p, *(one,) * 6)
        kernels["adam_into"](g, m, v, p, m2, v2, p2, *(one,) * 6)
        kernels["sgd_in_place"](g, p, one)
        kernels["ema_in_place"](p, p2, one)
        kernels["momentum_in_place"](g, v, p, one, one)
        kernels["nesterov_in_place"](g, v, p, one, one)
        kernels["rmsprop_in_place"](g, v, p, one, one, one)
        Z, A, mask, dropped = (np.ones((1, 1), dtype) for _ in range(4))
        kernels["relu_forward"](Z, g, A)
        kernels["relu_dropout_forward"](Z, g, np.zeros(1, np.uint16), 1, one, A, mask, dropped)
        kernels["relu_backward"](Z, A)
        kernels["relu_dropout_backward"](Z, mask, A)
        kernels["softmax_shift"](Z, g, A)
        kernels["softmax_normalise"](A)
        kernels["gather_divided"](np.zeros((1, 1), np.uint8), np.zeros(1, np.int64), one, A)
        image = np.zeros(16, dtype)  # one padded 1x1 image: (1 + 3) x (1 + 3)
        bounds = (-one, one, one, one, dtype(4))
        grid = np.zeros(1, dtype)
        grid.flags.writeable = False  # as augmentation's cached grid: Numba compiles read-only arrays apart
        kernels["affine_bilinear"](image, np.zeros((1, 6), dtype), grid, grid, np.empty((1, 1), dtype), bounds, 4, 16)
        kernels["displaced_bilinear"](image, np.zeros((1, 2, 1, 1), dtype), np.empty((1, 1), dtype), bounds, 4, 16)


def kernel(name: str) -> Callable[..., None]:
    """The compiled kernel ``name``: an optimizer's (``"adam_in_place"``, ``"adam_into"``,
    ``"sgd_in_place"``, ``"momentum_in_place"``, ``"nesterov_in_place"``,
    ``"rmsprop_in_place"``, ``"ema_in_place"``), a ReLU layer's (``"relu_forward"``,
    ``"relu_dropout_forward"``, ``"relu_backward"``, ``"relu_dropout_backward"``), a softmax
    layer's (``"softmax_shift"``, ``"softmax_normalise"``), a batch's (``"gather_divided"``) or an
    augmentation's sampling
    (``"affine_bilinear"``, ``"displaced_bilinear"``).

    Raises
    ------
    ValueError
        ``name`` is not one of these.
    ImportError
        Numba is not installed, or does not import; the message names the ``fast`` extra.
    """
    kernels = _compile()
    try:
        return kernels[name]
    except (KeyError, TypeError):  # checked only on failure: this runs several times a step
        check.check_name("kernel name", name, tuple(kernels))
        raise
