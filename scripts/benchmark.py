r"""How fast functional_nn trains an MLP, against PyTorch, scikit-learn and the machine's matmul.

Times training epochs of 784-256-10, 784-512-512-10 and the main job's 784-512-256-10 with
dropout keeping 0.8 of the hidden units (``scripts/train_mnist.py``'s default network; ReLU
hidden layers, softmax output, categorical cross-entropy), batch 128, float32, with SGD and
Adam, on MNIST's training images when they are already cached (``functional_nn.data.mnist``'s
cache; nothing is downloaded), else on random data of that shape with 10 classes. Every contender
runs in this one process with the same number of BLAS threads (``--threads``, default every
core): the ``OMP/OPENBLAS/MKL_NUM_THREADS`` variables are set before NumPy loads when this
file is run as a script, threadpoolctl pins the loaded BLAS at run time when it is installed,
and PyTorch gets ``torch.set_num_threads``. A network given as ``512,256:0.8`` drops out
hidden units, keeping each with probability 0.8, in every contender that can.

Contenders (each only if installed; a missing one is a note, not a failure):

``functional_nn``
    ``train_epochs``, one epoch per ``next()``: the library as a user calls it, including
    the cost and accuracy it records for the history on every step.
``functional_nn_numpy``
    When Numba is installed (the ``fast`` extra), ``train_epochs`` again with NumPy's kernels
    for the optimizer and the ReLU layers (``kernel="numpy"`` for both): bitwise the same
    training, so the two rows side by side show what the fused kernels buy.
``functional_nn_steps``
    The same work without the history: a loop of ``forward``, ``backward`` and the
    optimizer's ``update`` over ``minibatches``, to show what the history costs.
``numpy_preallocated``
    The same step written out by hand with every array allocated once and every operation
    writing into one (``out=``): the gather, products, softmax, dropout and backward, then
    the optimizer's in-place update on arrays it owns; no cost or accuracy recorded. Neither
    pure nor the library, it shows what giving up purity for preallocated buffers would buy.
    After the warm-up epoch its weights are compared with ours, to show both did the same sums.
``torch``
    ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU`` (and ``nn.Dropout``) with our initial weights copied in, fed
    the same shuffled batches in the same order (the same ``rng.permutation`` per epoch; with
    dropout only the first epoch's, since ours draws its masks from that generator too),
    ``cross_entropy``, and ``torch.optim.SGD``/``Adam`` with the same hyperparameters, at
    their defaults otherwise (a loop over the parameters on the CPU). After the warm-up epoch
    its weights are compared with ours, to show both did the same sums.
``torch_fused``
    The same, with ``fused=True``: PyTorch's own fused CPU update, one kernel over every
    parameter, the nearest thing to our Numba updates. Not the default a user gets, so the
    targets quote ``torch``; this row shows how much of the gap a PyTorch user can close.
``sklearn``
    ``MLPClassifier`` with the same hidden layers, batch size, solver, learning rate and
    float32 input, no L2 (``alpha=0``), no momentum for SGD; one ``partial_fit`` per epoch,
    shuffling itself. Its own initialisation and order: it cannot take ours. It has no dropout,
    so it sits out the networks that drop.

The ceiling is measured in the same run: the matrix products one training step needs,

.. math::

    \underbrace{W_l A_{l-1}}_{l = 1..L}, \qquad \underbrace{dZ_l A_{l-1}^\top}_{l = 1..L}, \qquad
    \underbrace{W_l^\top dZ_l}_{l = 2..L}

(``2 n_l n_{l-1} b`` FLOPs each; no :math:`W_1^\top dZ_1`, which nobody needs), timed with
NumPy's ``matmul`` on arrays of the layouts the kernels use, each product written into an
output array allocated once before the timing (``out=``), so that the time is the products'
alone: no allocation, and no fresh page faulted in (a fresh 1.6 MB ``dW_1`` a step can cost
as much as the product when the allocator hands its pages back). One step's FLOPs over that time is the
matmul rate, and the batch size over it the samples per second no NumPy implementation can
beat; ``ceiling_fraction`` is functional_nn's share of it. For 784-256-10 and ``b = 128``
that is 104.7 MFLOP per step, 818 kFLOP per sample.

Each repetition runs one epoch of every contender with every optimizer (a contender's SGD
and Adam epochs next to each other, SGD first in one round and Adam in the next), rotating
the contenders' order, then times the ceiling once, so
that load from elsewhere on the machine falls on all of them alike: the ratios between
contenders and Adam's speed against SGD's are both measured side by side. The table shows
medians with min-max, and each ratio twice: the ratio of the two medians, and ``by round``,
the median over rounds of each round's own ratio (its two epochs timed seconds apart), which
a slow stretch of the host, falling on both epochs of a round, moves less.
The last line printed is one JSON object with every figure.

Before each timed epoch (and each ceiling timing) the process sleeps ``--settle-seconds``
(0.2 s), untimed: a BLAS's worker threads spin for a while after their last product
(OpenBLAS's for about 0.1 s, PyTorch's OpenMP threads for several ms) and would take the cores
from whichever contender runs next. Measured here: PyTorch's first twenty 512x784 by 784x128
products right after NumPy's took 1,255 us each (median of five), 630-680 us after a pause of
0.1-0.3 s; NumPy's right after PyTorch's 1,135 us against 365-400 us.

    python scripts/benchmark.py
    python scripts/benchmark.py --samples 10000 --repeats 3 --contenders functional_nn torch   # a minute
    python scripts/benchmark.py --hidden 512,256:0.8 --optimizers adam      # the main job alone
    python scripts/benchmark.py --hidden 256 --contenders functional_nn numpy_preallocated   # the price of purity
    python scripts/benchmark.py --repeats 7 --threads 1
    python scripts/benchmark.py --threads 1 --clock cpu       # ratios that hold on a busy machine
    python scripts/benchmark.py --samples 2000 --repeats 2 --hidden 32 32,32:0.5   # seconds

Needs ``pip install -e ".[bench]"`` for scikit-learn and threadpoolctl, and PyTorch's CPU-only
build installed separately (the extra leaves it out: its default wheel brings several GB of
CUDA libraries); functional_nn alone runs without them.
"""

from __future__ import annotations

import os
import sys

import _threads  # noqa: E402  (scripts/_threads.py: imports nothing heavy)

if __name__ == "__main__":  # every contender on the same count: --threads, else every core
    _threads.pin_blas_threads(_threads.threads_from_argv(sys.argv[1:]) or _threads.usable_cores())

# The imports below come after the thread variables on purpose (see above).
import argparse  # noqa: E402
import importlib  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any, Final, NamedTuple  # noqa: E402

import numpy as np  # noqa: E402

from functional_nn import fused, optimizers  # noqa: E402
from functional_nn.activations import ACTIVATIONS  # noqa: E402
from functional_nn.data import minibatches, one_hot  # noqa: E402
from functional_nn.initializers import initialize_parameters  # noqa: E402
from functional_nn.losses import CATEGORICAL_CROSS_ENTROPY  # noqa: E402
from functional_nn.optimizers import Optimizer, sgd  # noqa: E402
from functional_nn.propagation import backward, dropout_keeps, forward  # noqa: E402
from functional_nn.training import TrainState, train_epochs  # noqa: E402
from functional_nn.types import Activation, FloatArray, IntArray  # noqa: E402
import _cli  # noqa: E402  (scripts/_cli.py: a user's mistakes as one error line)

N_FEATURES: Final = 784
N_CLASSES: Final = 10
LEARNING_RATES: Final = {"sgd": 0.1, "adam": 1e-3}
ADAM_BETAS: Final = (0.9, 0.999)
ADAM_EPSILON: Final = 1e-8
CONTENDERS: Final = (
    "functional_nn", "functional_nn_numpy", "functional_nn_steps", "numpy_preallocated", "torch", "torch_fused", "sklearn",
)
LABELS: Final = {
    "functional_nn": "functional_nn train_epochs",
    "functional_nn_numpy": "  the same, NumPy kernels",
    "functional_nn_steps": "functional_nn steps only",
    "numpy_preallocated": "NumPy, all preallocated",
    "torch": "PyTorch",
    "torch_fused": "  the same, fused=True",
    "sklearn": "scikit-learn MLPClassifier",
}
TORCH_INSTALL: Final = "its CPU-only build, as PyTorch's installation guide shows; the bench extra leaves it out"
"""How to install PyTorch for the benchmark: not the default wheel, which brings several GB of CUDA libraries."""

Epoch = Callable[[], None]
"""Runs one more epoch of a contender, continuing from where its last one stopped."""


class Data(NamedTuple):
    X: FloatArray  # (784, m), float32, Fortran-ordered: one contiguous column per image
    labels: IntArray  # (m,)
    Y: FloatArray  # (10, m) one-hot, float32
    source: str


class Setup(NamedTuple):
    """One network and optimizer, as every contender sees it."""

    data: Data
    sizes: tuple[int, ...]
    params: dict[str, FloatArray]
    optimizer: str
    batch_size: int
    seed: int
    keep_prob: float = 1.0  # dropout on the hidden layers: each unit kept with this probability


def network_name(sizes: Sequence[int], keep_prob: float) -> str:
    return "-".join(map(str, sizes)) + ("" if keep_prob == 1 else f" dropout keep {keep_prob:g}")


def optional_module(name: str) -> ModuleType | None:
    """Import a contender's module, or ``None`` when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# Data


def cached_mnist(source: str) -> Path | None:
    """The MNIST cache to read for ``--data source``: ``None`` for random data ("random", or
    "auto" with nothing cached); nothing is downloaded, and "mnist" with nothing cached is refused."""
    if source == "random":
        return None
    from functional_nn.data import mnist  # imported here: only needed with a cache

    cached = mnist.data_dir() / mnist.MNIST_CACHE_NAME
    if cached.exists():
        return cached
    if source == "mnist":
        raise _cli.UsageError(f"no cached MNIST at {cached}: run scripts/train_mnist.py once, or use --data random")
    return None


def load_data(source: str, samples: int | None, rng: np.random.Generator) -> Data:
    """MNIST's training images when cached (``source`` "auto" or "mnist"), else random ones."""
    cached = cached_mnist(source)
    if cached is not None:
        from functional_nn.data import mnist as datasets

        mnist = datasets.load_mnist(dtype=np.float32)
        m = mnist.X_train.shape[1] if samples is None else min(samples, mnist.X_train.shape[1])
        X = np.asfortranarray(mnist.X_train[:, :m])
        labels = mnist.y_train[:m]
        return Data(X, labels, one_hot(labels, N_CLASSES, dtype=np.float32), f"MNIST ({cached})")
    m = 50_000 if samples is None else samples
    X = rng.random((m, N_FEATURES), dtype=np.float32).T  # row per sample, transposed: Fortran order
    labels = rng.integers(0, N_CLASSES, m)
    return Data(X, labels, one_hot(labels, N_CLASSES, dtype=np.float32), "random, MNIST-shaped")


def permutations(seed: int, m: int) -> Iterator[IntArray]:
    """The orders ``train`` draws: one ``default_rng(seed).permutation(m)`` per epoch, in turn."""
    rng = np.random.default_rng(seed)
    while True:
        yield rng.permutation(m)


def activations_of(sizes: Sequence[int]) -> tuple[Activation, ...]:
    relu: Activation = "relu"
    return (*[relu] * (len(sizes) - 2), "softmax")


# functional_nn


def our_optimizer(name: str, kernel: optimizers.Kernel | None = None) -> Optimizer:
    """SGD or Adam; ``kernel`` None is the library's default (Numba's fused updates when installed)."""
    if name == "sgd":
        return sgd(LEARNING_RATES["sgd"], kernel=kernel)
    return optimizers.adam(LEARNING_RATES["adam"], ADAM_BETAS[0], ADAM_BETAS[1], ADAM_EPSILON, kernel=kernel)


class OursEpochs(NamedTuple):
    epoch: Epoch
    state: Callable[[], dict[str, FloatArray]]


def functional_nn_contender(setup: Setup, total_epochs: int, kernel: optimizers.Kernel | None = None) -> OursEpochs:
    """``train_epochs`` with the seed whose permutations the other contenders replay."""
    d = setup.data
    states = train_epochs(
        d.X, d.Y, setup.params, activations=activations_of(setup.sizes), loss="categorical_cross_entropy",
        epochs=total_epochs, optimizer=our_optimizer(setup.optimizer, kernel), batch_size=setup.batch_size,
        rng=np.random.default_rng(setup.seed), keep_probs=setup.keep_prob, kernel=kernel,
    )  # fmt: skip
    last: list[TrainState] = []

    def epoch() -> None:
        last[:] = [next(states)]

    return OursEpochs(epoch, lambda: last[0].params)


def functional_nn_steps_contender(setup: Setup) -> Epoch:
    """The training step alone: ``forward``, ``backward``, ``update`` over ``minibatches``."""
    d = setup.data
    activations = tuple(ACTIVATIONS[name] for name in activations_of(setup.sizes))  # the kernels take records
    optimizer = our_optimizer(setup.optimizer)
    rng = np.random.default_rng(setup.seed)
    params = dict(setup.params)
    state = optimizer.init(params)
    keeps = None if setup.keep_prob == 1 else (setup.keep_prob,) * (len(setup.sizes) - 2)
    kernel = fused.check_kernel(None)  # train_epochs' default

    def epoch() -> None:
        nonlocal params, state
        for X_batch, Y_batch, _ in minibatches(d.X, d.Y, setup.batch_size, rng):
            AL, caches = forward(X_batch, params, activations, keeps, rng, None, kernel)
            grads = backward(AL, Y_batch, caches, CATEGORICAL_CROSS_ENTROPY, 0.0, kernel)
            params, state = optimizer.update(grads, state, params)

    return epoch


def numpy_preallocated_contender(setup: Setup) -> OursEpochs:
    """The training step with every array allocated once and written in place (``out=``).

    The arithmetic is the library's, operation for operation (softmax, ``dZ_L = (A_L - Y) / b``,
    the dropout mask ``[kept] / keep``, ``dA *= [A > 0]``), the dropout draws come from the
    same generator in the same order, and the update is the optimizer's own
    ``update_in_place`` on arrays this loop owns: so its weights after an epoch should be ours
    bit for bit. Only the dropout draws and the update's small dicts allocate.
    """
    d = setup.data
    sizes, L = setup.sizes, len(setup.sizes) - 1
    optimizer = our_optimizer(setup.optimizer)
    params, state = optimizers.writeable_copies(setup.params, optimizer.init(setup.params))  # its own: written in place
    grads = {f"d{key}": np.empty_like(value) for key, value in params.items()}
    XT, YT = d.X.T, d.Y.T
    rng = np.random.default_rng(setup.seed)  # the permutations and the dropout draws, as train's
    keep = setup.keep_prob
    scale = np.float32(1 / keep)

    class Buffers(NamedTuple):  # one set per batch size: the full batches' and the last one's
        X_rows: FloatArray
        Y_rows: FloatArray
        A: list[FloatArray]  # A_1 .. A_L, each Z_l made A_l in place
        dropped: list[FloatArray]  # A_l times its dropout mask, l = 1 .. L-1 (with dropout)
        dropout: list[FloatArray]  # the masks, [kept] / keep
        dA: list[FloatArray]  # dA_1 .. dA_{L-1}
        zeros: list[FloatArray]
        slopes: list[FloatArray]  # [A_l > 0]
        column: FloatArray
        ones: FloatArray

    def buffers(m: int) -> Buffers:
        hidden = [(n, m) for n in sizes[1:-1]]
        drops = hidden if keep < 1 else []
        return Buffers(
            np.empty((m, sizes[0]), np.float32), np.empty((m, sizes[-1]), np.float32),
            [np.empty((n, m), np.float32) for n in sizes[1:]], [np.empty(shape, np.float32) for shape in drops],
            [np.empty(shape, np.float32) for shape in drops], [np.empty(shape, np.float32) for shape in hidden],
            [np.zeros(shape, np.float32) for shape in hidden], [np.empty(shape, np.float32) for shape in hidden],
            np.empty((1, m), np.float32), np.ones((m, 1), np.float32),
        )  # fmt: skip

    cache: dict[int, Buffers] = {}

    def step(indices: IntArray) -> None:
        nonlocal params, state
        B = cache.get(indices.size) or cache.setdefault(indices.size, buffers(indices.size))
        np.take(XT, indices, axis=0, out=B.X_rows)
        np.take(YT, indices, axis=0, out=B.Y_rows)
        A = [B.X_rows.T, *B.A]
        inputs = [B.X_rows.T, *(B.dropped if keep < 1 else B.A[:-1])]  # what each layer multiplies
        for l in range(1, L + 1):
            Z = A[l]
            np.matmul(params[f"W{l}"], inputs[l - 1], out=Z)
            Z += params[f"b{l}"]
            if l < L:
                np.maximum(Z, B.zeros[l - 1], out=Z)
                if keep < 1:
                    np.multiply(dropout_keeps(rng, Z.shape, keep), scale, out=B.dropout[l - 1])
                    np.multiply(Z, B.dropout[l - 1], out=B.dropped[l - 1])
        Z = A[L]  # softmax in place, then dZ_L = (A_L - Y) / m
        np.max(Z, axis=0, keepdims=True, out=B.column)
        Z -= B.column
        np.exp(Z, out=Z)
        np.sum(Z, axis=0, keepdims=True, out=B.column)
        Z /= B.column
        Z -= B.Y_rows.T
        Z *= np.float32(1 / indices.size)
        dZ = Z
        for l in range(L, 0, -1):
            if l < L:
                np.matmul(params[f"W{l + 1}"].T, dZ, out=B.dA[l - 1])
                if keep < 1:
                    B.dA[l - 1] *= B.dropout[l - 1]
                np.greater(A[l], 0, out=B.slopes[l - 1])
                B.dA[l - 1] *= B.slopes[l - 1]
                dZ = B.dA[l - 1]
            np.matmul(dZ, inputs[l - 1].T, out=grads[f"dW{l}"])
            np.matmul(dZ, B.ones, out=grads[f"db{l}"])
        assert optimizer.update_in_place is not None  # sgd's and adam's
        params, state = optimizer.update_in_place(grads, state, params)

    def epoch() -> None:
        order = rng.permutation(d.X.shape[1])
        for start in range(0, order.size, setup.batch_size):
            step(order[start : start + setup.batch_size])

    return OursEpochs(epoch, lambda: {key: value for key, value in params.items() if key.startswith("W")})


# PyTorch


class TorchEpochs(NamedTuple):
    epoch: Epoch
    weights: Callable[[], dict[str, FloatArray]]


def torch_contender(torch: Any, setup: Setup, threads: int, fused_update: bool = False) -> TorchEpochs:
    """The same network, initial weights, batch order and optimizer in PyTorch; ``fused_update``
    asks the optimizer for its fused CPU kernel (``fused=True``)."""
    torch.set_num_threads(threads)
    d = setup.data
    layers: list[Any] = []
    L = len(setup.sizes) - 1
    for l in range(1, L + 1):
        linear = torch.nn.Linear(setup.sizes[l - 1], setup.sizes[l])
        with torch.no_grad():  # nn.Linear's weight is (out, in): our W_l exactly
            linear.weight.copy_(torch.from_numpy(setup.params[f"W{l}"]))
            linear.bias.copy_(torch.from_numpy(setup.params[f"b{l}"][:, 0]))
        dropout = [torch.nn.Dropout(1 - setup.keep_prob)] if setup.keep_prob < 1 else []
        layers += [linear, torch.nn.ReLU(), *dropout] if l < L else [linear]
    net = torch.nn.Sequential(*layers)
    net.train()  # dropout on
    if setup.optimizer == "sgd":
        optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATES["sgd"], fused=fused_update or None)
    else:
        optimizer = torch.optim.Adam(
            net.parameters(), lr=LEARNING_RATES["adam"], betas=ADAM_BETAS, eps=ADAM_EPSILON, fused=fused_update or None
        )
    rows = torch.from_numpy(d.X.T)  # (m, 784) row per sample, sharing our Fortran-ordered memory
    targets = torch.from_numpy(d.labels.astype(np.int64))
    orders = permutations(setup.seed, d.X.shape[1])
    cross_entropy = torch.nn.functional.cross_entropy

    def epoch() -> None:
        order = torch.from_numpy(next(orders))
        for start in range(0, order.shape[0], setup.batch_size):
            indices = order[start : start + setup.batch_size]
            optimizer.zero_grad()
            loss = cross_entropy(net(rows[indices]), targets[indices])
            loss.backward()
            optimizer.step()

    def weights() -> dict[str, FloatArray]:
        linears = [module for module in net if isinstance(module, torch.nn.Linear)]
        return {f"W{l}": linear.weight.detach().numpy().copy() for l, linear in enumerate(linears, start=1)}

    return TorchEpochs(epoch, weights)


# scikit-learn


def sklearn_contender(neural_network: Any, setup: Setup) -> Epoch:
    """``MLPClassifier`` trained one ``partial_fit`` (one shuffled epoch) at a time."""
    d = setup.data
    beta_1, beta_2 = ADAM_BETAS
    classifier = neural_network.MLPClassifier(
        hidden_layer_sizes=setup.sizes[1:-1], activation="relu", solver=setup.optimizer, alpha=0.0,
        batch_size=setup.batch_size, learning_rate="constant", learning_rate_init=LEARNING_RATES[setup.optimizer],
        momentum=0.0, nesterovs_momentum=False, beta_1=beta_1, beta_2=beta_2, epsilon=ADAM_EPSILON,
        shuffle=True, random_state=setup.seed,
    )  # fmt: skip
    rows = d.X.T  # (m, 784), C-ordered float32: taken as it is, no copy
    classes = np.arange(N_CLASSES)

    def epoch() -> None:
        classifier.partial_fit(rows, d.labels, classes=classes)

    return epoch


# The ceiling


class Ceiling(NamedTuple):
    flops: int  # per training step
    products: tuple[str, ...]


def step_products(sizes: Sequence[int], batch_size: int) -> Ceiling:
    """The matrix products of one training step and their FLOPs (2 per multiply-add)."""
    L = len(sizes) - 1
    names: list[str] = []
    flops = 0
    for l in range(1, L + 1):
        n, n_prev = sizes[l], sizes[l - 1]
        names += [f"W{l} A{l - 1}", f"dZ{l} A{l - 1}^T"] + ([f"W{l}^T dZ{l}"] if l > 1 else [])
        flops += 2 * n * n_prev * batch_size * (3 if l > 1 else 2)
    return Ceiling(flops, tuple(names))


def matmul_operands(
    sizes: Sequence[int], batch_size: int, rng: np.random.Generator
) -> list[tuple[FloatArray, FloatArray]]:
    """The operands of every product in ``step_products``, in the layouts the kernels see."""
    X = np.asfortranarray(rng.random((sizes[0], batch_size), dtype=np.float32))  # a gathered batch
    A: list[FloatArray] = [X]
    W: list[FloatArray] = []
    for l in range(1, len(sizes)):
        W.append(rng.standard_normal((sizes[l], sizes[l - 1]), dtype=np.float32))
        A.append(W[-1] @ A[-1])  # C-ordered, as forward makes it
    pairs: list[tuple[FloatArray, FloatArray]] = []
    for l in range(1, len(sizes)):
        dZ = A[l]  # any (n_l, b) C-ordered array
        pairs += [(W[l - 1], A[l - 1]), (dZ, A[l - 1].T)] + ([(W[l - 1].T, dZ)] if l > 1 else [])
    return pairs


SETTLE_SECONDS: Final = 0.2
"""Sleep before each timed epoch: longer than OpenBLAS's worker threads spin after a product."""

CLOCKS: Final[dict[str, Callable[[], float]]] = {"wall": time.perf_counter, "cpu": time.process_time}
"""``--clock``: wall time, or this process's CPU time (robust to other jobs at ``--threads 1``)."""


def time_products(
    pairs: Sequence[tuple[FloatArray, FloatArray]], min_seconds: float, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Seconds for one step's products, each into an output allocated once: the best of a few timed runs."""
    outputs = [a @ b for a, b in pairs]  # C-ordered, as the kernels' products come out
    triples = list(zip(pairs, outputs))
    start = clock()
    for (a, b), out in triples:
        np.matmul(a, b, out=out)
    once = max(clock() - start, 1e-7)
    steps = max(3, math.ceil(min_seconds / 3 / once))
    best = math.inf
    for _ in range(3):
        start = clock()
        for _ in range(steps):
            for (a, b), out in triples:
                np.matmul(a, b, out=out)
        best = min(best, (clock() - start) / steps)
    return best


# Running and reporting


class Figures(NamedTuple):
    median: float
    low: float
    high: float


def samples_per_second(m: int, seconds: Sequence[float]) -> Figures:
    rates = [m / s for s in seconds]
    return Figures(statistics.median(rates), min(rates), max(rates))


def by_round(ours: Sequence[float] | None, theirs: Sequence[float] | None) -> float | None:
    r"""Our speed over theirs round by round: :math:`\operatorname{median}_k\, t_k / o_k`.

    ``ours[k]`` and ``theirs[k]`` are the seconds of round ``k``'s two epochs (or an epoch and
    the ceiling's time for as many samples), timed side by side; ``None`` if either is missing.
    """
    if ours is None or theirs is None:
        return None
    return statistics.median(t / o for o, t in zip(ours, theirs, strict=True))


class Contenders(NamedTuple):
    """One network and optimizer's contenders, ready to run an epoch each."""

    epochs: dict[str, Epoch]
    ours: OursEpochs | None
    preallocated: OursEpochs | None
    torches: dict[str, TorchEpochs]  # PyTorch's rows, whose weights are compared with ours


def make_contenders(
    setup: Setup, contenders: Sequence[str], modules: dict[str, Any], total_epochs: int, threads: int, notes: list[str]
) -> Contenders:
    """Every installed contender of ``contenders`` for ``setup``, in ``CONTENDERS``' order."""
    epochs: dict[str, Epoch] = {}
    ours: OursEpochs | None = None
    torches: dict[str, TorchEpochs] = {}
    if "functional_nn" in contenders:
        ours = functional_nn_contender(setup, total_epochs)
        epochs["functional_nn"] = ours.epoch
    if "functional_nn_numpy" in contenders and fused.AVAILABLE:  # what the fast extra buys, side by side
        epochs["functional_nn_numpy"] = functional_nn_contender(setup, total_epochs, "numpy").epoch
    if "functional_nn_steps" in contenders:
        epochs["functional_nn_steps"] = functional_nn_steps_contender(setup)
    preallocated: OursEpochs | None = None
    if "numpy_preallocated" in contenders:
        preallocated = numpy_preallocated_contender(setup)
        epochs["numpy_preallocated"] = preallocated.epoch
    if "torch" in contenders and modules.get("torch") is not None:
        torches["torch"] = torch_contender(modules["torch"], setup, threads)
    if "torch_fused" in contenders and modules.get("torch") is not None:
        torches["torch_fused"] = torch_contender(modules["torch"], setup, threads, fused_update=True)
    epochs.update({name: contender.epoch for name, contender in torches.items()})
    if "sklearn" in contenders and modules.get("sklearn") is not None:
        if setup.keep_prob == 1:
            epochs["sklearn"] = sklearn_contender(modules["sklearn"], setup)
        else:
            note = f"{network_name(setup.sizes, setup.keep_prob)}: scikit-learn's MLPClassifier has no dropout, so it sits out"
            notes.extend([] if note in notes else [note])
    return Contenders(epochs, ours, preallocated, torches)


def compare_weights(setup: Setup, contenders: Contenders, warmup: int, notes: list[str]) -> None:
    """Notes of how far PyTorch's and the preallocated loop's weights are from ours after the warm-up."""
    ours = contenders.ours
    if ours is None or warmup == 0:
        return
    network = network_name(setup.sizes, setup.keep_prob)
    why = (
        "its dropout masks are its own" if setup.keep_prob < 1
        else "Adam's steps are about +-alpha however small the gradient, so rounding differences in near-zero "
        "gradients grow over an epoch" if setup.optimizer == "adam" else "the same sums, rounded differently"
    )  # fmt: skip
    for name, theirs in contenders.torches.items():
        torch_W = theirs.weights()
        gap = largest_difference(ours.state(), torch_W)
        scale = max(float(np.max(np.abs(torch_W[k]))) for k in torch_W)
        who = "PyTorch's" if name == "torch" else "PyTorch's (fused=True)"
        notes.append(
            f"{network} {setup.optimizer}: after {warmup} warm-up epoch(s) {who} "
            f"weights differ from ours by at most {gap:.2g} (largest weight {scale:.2g}; {why})"
        )
    if contenders.preallocated is not None:
        gap = largest_difference(ours.state(), contenders.preallocated.state())
        notes.append(
            f"{network} {setup.optimizer}: after {warmup} warm-up epoch(s) the "
            f"preallocated loop's weights differ from ours by at most {gap:.2g}"
        )


def progress(line: str) -> None:
    """Say how far the run is, on stderr: stdout holds the report alone, printed at the end."""
    print(f"benchmark: {line}", file=sys.stderr, flush=True)


def run_network(
    setups: Sequence[Setup], contenders: Sequence[str], modules: dict[str, Any], warmup: int, repeats: int,
    threads: int, ceiling_seconds: float, notes: list[str], clock: Callable[[], float] = time.perf_counter,
    settle_seconds: float = SETTLE_SECONDS,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Warm up, then ``repeats`` rounds of one epoch per contender and optimizer and one ceiling
    timing, each after ``settle_seconds`` of sleep (untimed) for the last one's threads to go idle.

    ``setups`` are one network with different optimizers. Their epochs share each round,
    every contender's optimizers side by side (``functional_nn`` with SGD, then with Adam,
    then the next contender), so that Adam's speed against SGD's is measured side by side
    like the contenders'; the ceiling, the same products for every optimizer, is timed once a
    round and shared. Returns, by optimizer, its ``figures``, the ``ceiling`` and its rate, and
    the ``seconds`` of every round: each contender's epochs and the ceiling's time for an
    epoch's samples (``"ceiling"``), in round order.
    """
    network = setups[0]  # the sizes, batch and seed every optimizer's setup shares
    label = network_name(network.sizes, network.keep_prob)
    progress(f"{label} ({', '.join(setup.optimizer for setup in setups)}): {warmup} warm-up epoch(s)")
    prepared = [make_contenders(setup, contenders, modules, warmup + repeats, threads, notes) for setup in setups]
    for setup, ready in zip(setups, prepared):
        for _ in range(warmup):
            for run in ready.epochs.values():
                run()
        compare_weights(setup, ready, warmup, notes)
    # one group a contender, its optimizers in turn: the rounds rotate the groups, never splitting one, so
    # a contender's SGD and Adam epochs always run next to each other (the ratios by round pair them),
    # SGD first in even rounds and Adam first in odd ones, so that neither always has the other's wake
    groups = [[(index, name) for index, ready in enumerate(prepared) if name in ready.epochs] for name in CONTENDERS]
    groups = [group for group in groups if group]
    seconds: list[dict[str, list[float]]] = [{name: [] for name in ready.epochs} for ready in prepared]
    pairs = matmul_operands(network.sizes, network.batch_size, np.random.default_rng(network.seed))
    ceiling_seconds_per_step: list[float] = []
    for round_number in range(repeats):
        progress(f"{label}, round {round_number + 1} of {repeats}")
        shift = round_number % len(groups) if groups else 0
        step = -1 if round_number % 2 else 1
        for index, name in [entry for group in groups[shift:] + groups[:shift] for entry in group[::step]]:
            time.sleep(settle_seconds)
            start = clock()
            prepared[index].epochs[name]()
            seconds[index][name].append(clock() - start)
        time.sleep(settle_seconds)
        ceiling_seconds_per_step.append(time_products(pairs, ceiling_seconds, clock))
    m = network.data.X.shape[1]
    ceiling = step_products(network.sizes, network.batch_size)
    ceiling_rate = samples_per_second(network.batch_size, ceiling_seconds_per_step)
    ceiling_epochs = [step * m / network.batch_size for step in ceiling_seconds_per_step]
    return {
        setup.optimizer: {
            "figures": {name: samples_per_second(m, values) for name, values in timed.items()},
            "ceiling": ceiling,
            "ceiling_rate": ceiling_rate,
            "seconds": {**timed, "ceiling": ceiling_epochs},
        }
        for setup, timed in zip(setups, seconds)
    }


def largest_difference(ours: dict[str, FloatArray], theirs: dict[str, FloatArray]) -> float:
    """The largest absolute difference between our weights and another contender's, over ``theirs``' keys."""
    return max(float(np.max(np.abs(ours[key] - theirs[key]))) for key in theirs)


def ratio(ours: Figures | None, theirs: Figures | None) -> float | None:
    if ours is None or theirs is None:
        return None
    return ours.median / theirs.median


BLAS_KERNEL_VARIABLES: Final = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
"""Set, they override the kernels and blocking OpenBLAS would choose for the CPU (some machines
set them for old OpenBLAS builds; ``OPENBLAS_CORETYPE=Haswell`` on an AVX-512 CPU runs AVX2
kernels): the report names them beside the kernels OpenBLAS runs."""


def machine_description(modules: dict[str, Any], threads: int) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), cpu)
    except OSError:
        pass
    blas = "unknown"
    config: Any = np.show_config(mode="dicts")  # typed as None in the stubs, a dict in fact
    if isinstance(config, dict):
        info = config.get("Build Dependencies", {}).get("blas", {})
        blas = f"{info.get('name', '?')} {info.get('version', '?')}"
    description: dict[str, Any] = {
        "cpu": cpu, "logical_cpus": os.cpu_count(), "usable_cpus": _threads.usable_cores(), "python": platform.python_version(), "numpy": np.__version__,
        "blas": blas, "threads": threads,
        "kernel": "numba " + importlib.metadata.version("numba") if fused.AVAILABLE else "numpy",
    }  # fmt: skip
    if modules.get("threadpoolctl") is not None:
        pools = modules["threadpoolctl"].threadpool_info()
        description["threadpools"] = [
            f"{p.get('internal_api')} {p.get('version')}: {p.get('num_threads')} threads"
            + (f", {p['architecture']} kernels" if p.get("architecture") else "")
            for p in pools
        ]
    # OpenBLAS picks its kernels for the CPU unless these say otherwise (read when it loads)
    description["blas_environment"] = {name: os.environ[name] for name in BLAS_KERNEL_VARIABLES if name in os.environ}
    if modules.get("torch") is not None:
        description["torch"] = str(modules["torch"].__version__)
        description["torch_threads"] = int(modules["torch"].get_num_threads())
    if modules.get("sklearn_root") is not None:
        description["sklearn"] = str(modules["sklearn_root"].__version__)
    return description


def parse_network(text: str) -> tuple[tuple[int, ...], float]:
    """``"512,256:0.8"`` -> ``((512, 256), 0.8)``; no ``:KEEP`` means no dropout (1.0).

    The sizes are read by ``_cli.positive_ints``; KEEP must be a number in (0, 1], and a ``:``
    with nothing after it is a mistake, not "no dropout". A mistake raises
    ``argparse.ArgumentTypeError`` quoting ``text``.
    """
    sizes, colon, keep = text.partition(":")
    hidden = _cli.positive_ints(sizes)
    if not colon:
        return hidden, 1.0
    message = f"expected a keep probability in (0, 1] after ':', such as 512,256:0.8, got {text!r}"
    try:
        keep_prob = float(keep)
    except ValueError:
        raise argparse.ArgumentTypeError(message) from None
    if not 0 < keep_prob <= 1:  # NaN fails this too
        raise argparse.ArgumentTypeError(message)
    return hidden, keep_prob


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    # no abbreviations: --threads is read before NumPy loads, by its full name only
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None, allow_abbrev=False)
    parser.add_argument(
        "--threads", type=int, default=_threads.usable_cores(),
        help=f"BLAS threads for every contender (default: every core, here %(default)s; {_cli.per_core_help()})",
    )  # fmt: skip
    parser.add_argument("--samples", "--epoch-size", type=int, default=None, help="samples per epoch (default: all)")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per contender (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs first (default 1)")
    parser.add_argument(
        "--hidden", nargs="+", default=["256", "512,512", "512,256:0.8"],
        help="hidden layers of each network, with :KEEP for dropout keeping each hidden unit with probability KEEP "
        "(default: 256 512,512 512,256:0.8, the last being the main job's)",
    )  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=128, help="mini-batch size (default 128)")
    parser.add_argument("--optimizers", nargs="+", choices=("sgd", "adam"), default=["sgd", "adam"], help="default: sgd adam")
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS), help="default: all of them")
    parser.add_argument("--data", choices=("auto", "mnist", "random"), default="auto", help="auto: MNIST when cached, else random (default: auto)")
    parser.add_argument("--ceiling-seconds", type=_cli.positive_float, default=0.3, help="time spent per ceiling measurement (default 0.3)")
    parser.add_argument(
        "--settle-seconds", type=_cli.non_negative_float, default=SETTLE_SECONDS,
        help=f"untimed sleep before each timed epoch, for the last contender's BLAS threads to stop spinning (default {SETTLE_SECONDS})",
    )  # fmt: skip
    parser.add_argument("--seed", type=_cli.seed, default=0, help="seed of the generators (default 0)")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall",
        help="wall time (default), or this process's CPU time: with --threads 1 it ignores the time other jobs take "
        "the core, so ratios hold on a busy machine (with more threads it adds up every thread's time)",
    )  # fmt: skip
    args = parser.parse_args(list(argv))
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu needs --threads 1: CPU time adds up every thread's time, spinning included")
    _cli.check_at_least_one(parser, args, "threads", "repeats", "batch_size")
    _cli.check_per_core(parser, "threads", args.threads)
    if args.warmup < 0:
        parser.error(f"--warmup must be >= 0, got {args.warmup}")
    if args.settle_seconds > threading.TIMEOUT_MAX:  # time.sleep would raise OverflowError at the first pause
        parser.error(f"--settle-seconds {args.settle_seconds:g} is more than the longest sleep, {threading.TIMEOUT_MAX:g} s")
    if args.samples is not None and args.samples < 1:
        parser.error(f"--samples must be >= 1, got {args.samples}")
    try:
        args.networks = [parse_network(hidden) for hidden in args.hidden]
    except argparse.ArgumentTypeError as error:
        parser.error(f"--hidden: {error}")
    # given twice, a network, an optimizer or a contender would run twice, its second figures replacing its first
    network = _cli.first_repeat(args.networks)
    if network is not None:
        first, second = [text for text, parsed in zip(args.hidden, args.networks) if parsed == network][:2]
        if first == second:
            parser.error(f"--hidden names {first} twice: each network runs once")
        name = network_name((N_FEATURES, *network[0], N_CLASSES), network[1])
        parser.error(f"--hidden {first} and {second} are the same network, {name}: each network runs once")
    for flag, names, what in (("--optimizers", args.optimizers, "optimizer"), ("--contenders", args.contenders, "contender")):
        twice = _cli.first_repeat(names)
        if twice is not None:
            parser.error(f"{flag} names {twice} twice: each {what} runs once")
    return args


def machine_load() -> str:
    """The load averages and, where the kernel reports it, the CPU pressure: the machine may be shared."""
    parts = []
    for path, label in (("/proc/loadavg", "load average"), ("/proc/pressure/cpu", "cpu pressure")):
        try:
            with open(path, encoding="utf-8") as handle:
                parts.append(f"{label} {' '.join(handle.readline().split()[:3])}")
        except OSError:
            pass
    return "; ".join(parts) or "unknown"


BUSY_PRESSURE: Final = 20.0
"""CPU pressure (percent of time some task waited for a CPU) above which a run is flagged."""


def _pressure(load: str) -> float:
    """The ``avg10`` CPU pressure in a ``machine_load`` line, 0 when the kernel gave none."""
    for part in load.split():
        if part.startswith("avg10="):
            return float(part.split("=", 1)[1])
    return 0.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; a user's mistake is one ``error:`` line and status 2."""
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    notes: list[str] = []
    load_before = machine_load()
    wants_torch = bool({"torch", "torch_fused"} & set(args.contenders))
    modules: dict[str, Any] = {
        "threadpoolctl": optional_module("threadpoolctl"),
        "torch": optional_module("torch") if wants_torch else None,
        "sklearn": optional_module("sklearn.neural_network") if "sklearn" in args.contenders else None,
        "sklearn_root": optional_module("sklearn") if "sklearn" in args.contenders else None,
    }
    for wanted, module, label, install in (
        (wants_torch, "torch", "PyTorch", TORCH_INSTALL),
        ("sklearn" in args.contenders, "sklearn", LABELS["sklearn"], "pip install scikit-learn, or the bench extra"),
    ):
        if wanted and modules[module] is None:
            notes.append(f"{label} is not installed: skipped ({install})")
    optimizer_names = list(args.optimizers)
    if "adam" in optimizer_names and not hasattr(optimizers, "adam"):
        notes.append("functional_nn.optimizers has no adam: Adam skipped")
        optimizer_names.remove("adam")
    if fused.check_kernel(None) == "numba":
        # loading the kernels loads SciPy's OpenBLAS too (through Numba): loaded before the limits below, it is pinned
        # with NumPy's, and listed with --threads threads, also when main is called from Python
        fused.warm_up()
    with ExitStack() as stack:
        if modules["threadpoolctl"] is not None:
            stack.enter_context(modules["threadpoolctl"].threadpool_limits(limits=args.threads))
        else:
            notes.append(
                "threadpoolctl is not installed: BLAS threads pinned only by environment variables, "
                "which work only when this file is run as a script"
            )
        report = run_all(args, optimizer_names, modules, notes)
        machine = machine_description(modules, args.threads)
    machine["load_before"], machine["load_after"] = load_before, machine_load()
    busiest = max(_pressure(machine["load_before"]), _pressure(machine["load_after"]))
    if busiest > BUSY_PRESSURE:
        notes.append(
            f"the machine was busy (CPU pressure avg10 up to {busiest:.0f}%): other processes shared the cores, "
            "so these figures say little; run again when it is idle"
        )
    print_report(args, report, machine, notes)
    return 0


def run_all(
    args: argparse.Namespace, optimizer_names: Sequence[str], modules: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    data = load_data(args.data, args.samples, np.random.default_rng(args.seed))
    m = int(data.X.shape[1])
    batch_size = min(args.batch_size, m)  # the batch every step takes, and so the ceiling's
    if batch_size < args.batch_size:
        notes.append(f"--batch-size {args.batch_size} is more than the {m} samples: every step takes all {m}, and so does the ceiling")
    results: dict[str, Any] = {"data": data.source, "m": m, "batch_size": batch_size, "networks": {}}
    for hidden, keep_prob in args.networks:
        sizes = (N_FEATURES, *hidden, N_CLASSES)
        params = initialize_parameters(sizes, np.random.default_rng(args.seed), dtype=np.float32)
        network = network_name(sizes, keep_prob)
        setups = [Setup(data, sizes, params, name, batch_size, args.seed, keep_prob) for name in optimizer_names]
        results["networks"][network] = run_network(
            setups, args.contenders, modules, args.warmup, args.repeats, args.threads, args.ceiling_seconds, notes,
            CLOCKS[args.clock], args.settle_seconds,
        )  # fmt: skip
    return results


class Timed(NamedTuple):
    """One network and optimizer's measurements, as ``run_network``'s result holds them, typed."""

    figures: dict[str, Figures]  # each contender's samples/s
    ceiling: Ceiling  # the step's products
    rate: Figures  # the ceiling's samples/s
    seconds: dict[str, list[float]]  # each contender's epochs, and the ceiling's, by round

    @classmethod
    def of(cls, result: dict[str, Any]) -> Timed:
        return cls(result["figures"], result["ceiling"], result["ceiling_rate"], result["seconds"])


class CeilingShares(NamedTuple):
    """One network and optimizer's figures against the ceiling, unrounded (``None``: the contender sat out)."""

    fraction: float | None  # functional_nn's median samples/s over the ceiling's
    fraction_by_round: float | None
    gflops: float  # the ceiling's matmul rate
    preallocated_fraction: float | None  # the preallocated loop's median over the ceiling's


def ceiling_shares(result: dict[str, Any], batch_size: int) -> CeilingShares:
    """``result``, one optimizer's from ``run_network``, against the matmul ceiling."""
    figures, ceiling, rate, seconds = Timed.of(result)
    ours, preallocated = figures.get("functional_nn"), figures.get("numpy_preallocated")
    return CeilingShares(
        fraction=None if ours is None else ours.median / rate.median,
        fraction_by_round=by_round(seconds.get("functional_nn"), seconds["ceiling"]),
        gflops=ceiling.flops / batch_size * rate.median / 1e9,
        preallocated_fraction=None if preallocated is None else preallocated.median / rate.median,
    )


class AdamOverSgd(NamedTuple):
    """functional_nn's samples/s with Adam over those with SGD, unrounded."""

    of_medians: float
    by_round: float


def adam_over_sgd(by_optimizer: dict[str, Any], timed: dict[str, Any]) -> AdamOverSgd | None:
    """functional_nn's samples/s with Adam over those with SGD, of the medians and by round;
    ``None`` unless it ran with both. ``by_optimizer`` is one network's results in the summary
    (the medians' ratio divides their rounded samples/s), ``timed`` the same network's from ``run_network``."""
    sgd_rate, adam_rate = (by_optimizer.get(name, {}).get("samples_per_s") for name in ("sgd", "adam"))
    if not (sgd_rate and adam_rate):
        return None
    sgd_seconds, adam_seconds = (timed[name]["seconds"]["functional_nn"] for name in ("sgd", "adam"))
    paired = by_round(adam_seconds, sgd_seconds)
    assert paired is not None  # functional_nn ran with both optimizers
    return AdamOverSgd(adam_rate / sgd_rate, paired)


def optimizer_summary(result: dict[str, Any], batch_size: int) -> dict[str, Any]:
    """The summary's figures of one network and optimizer: ``result`` from ``run_network``, rounded."""
    figures, ceiling, rate, seconds = Timed.of(result)
    shares = ceiling_shares(result, batch_size)
    ours, ours_seconds = figures.get("functional_nn"), seconds.get("functional_nn")
    steps, preallocated, numpy_kernels = (
        figures.get(name) for name in ("functional_nn_steps", "numpy_preallocated", "functional_nn_numpy")
    )
    return {
        "samples_per_s": None if ours is None else round(ours.median),
        "samples_per_s_min": None if ours is None else round(ours.low),
        "samples_per_s_max": None if ours is None else round(ours.high),
        "steps_only_samples_per_s": None if steps is None else round(steps.median),
        "preallocated_samples_per_s": None if preallocated is None else round(preallocated.median),
        "preallocated_ceiling_fraction": _rounded(shares.preallocated_fraction),
        "numpy_kernels_samples_per_s": None if numpy_kernels is None else round(numpy_kernels.median),
        "torch_samples_per_s": None if "torch" not in figures else round(figures["torch"].median),
        "torch_fused_samples_per_s": None if "torch_fused" not in figures else round(figures["torch_fused"].median),
        "sklearn_samples_per_s": None if "sklearn" not in figures else round(figures["sklearn"].median),
        "torch_ratio": _rounded(ratio(ours, figures.get("torch"))),
        "torch_fused_ratio": _rounded(ratio(ours, figures.get("torch_fused"))),
        "sklearn_ratio": _rounded(ratio(ours, figures.get("sklearn"))),
        **{
            f"{name}_ratio_by_round": _rounded(by_round(ours_seconds, seconds.get(name)))
            for name in ("torch", "torch_fused", "sklearn")
        },
        "ceiling_samples_per_s": round(rate.median),
        "ceiling_gflops": round(shares.gflops, 1),
        "ceiling_fraction": _rounded(shares.fraction),
        "ceiling_fraction_by_round": _rounded(shares.fraction_by_round),
        "step_mflop": round(ceiling.flops / 1e6, 2),
    }


def report_summary(args: argparse.Namespace, report: dict[str, Any], machine: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """The JSON object the report ends with: ``results`` by network and optimizer (``optimizer_summary``,
    plus Adam's samples/s over SGD's where functional_nn ran with both), ``settings``, ``machine`` and ``notes``."""
    results: dict[str, Any] = {}
    for network, by_optimizer in report["networks"].items():
        for optimizer_name, result in by_optimizer.items():
            results.setdefault(network, {})[optimizer_name] = optimizer_summary(result, report["batch_size"])
    for network, summarised in results.items():
        adam = adam_over_sgd(summarised, report["networks"][network])
        if adam is not None:
            summarised["adam"].update(adam_over_sgd=round(adam.of_medians, 3), adam_over_sgd_by_round=round(adam.by_round, 3))
    settings = {
        "batch_size": report["batch_size"], "threads": args.threads, "repeats": args.repeats, "warmup": args.warmup,
        "clock": args.clock, "settle_seconds": args.settle_seconds,
        "samples": report["m"], "data": report["data"], "learning_rates": LEARNING_RATES,
    }  # fmt: skip
    return {"results": results, "settings": settings, "machine": machine, "notes": notes}


def print_report(args: argparse.Namespace, report: dict[str, Any], machine: dict[str, Any], notes: list[str]) -> None:
    """The report on stdout: the run and the machine, a table per network and optimizer, Adam
    against SGD, the notes, and last ``report_summary`` as one line of JSON."""
    summary = report_summary(args, report, machine, notes)
    print_run(args, report, machine)
    for network, by_optimizer in report["networks"].items():
        for optimizer_name, result in by_optimizer.items():
            print_table(network, optimizer_name, result, report["batch_size"])
    for network, summarised in summary["results"].items():
        adam = adam_over_sgd(summarised, report["networks"][network])
        if adam is not None:
            print(f"\n{network}: Adam at {adam.of_medians:.0%} of SGD's samples/s ({adam.by_round:.0%} by round)", end="")
    print()
    for note in notes:
        print(f"note: {note}")
    print(json.dumps(summary))


def print_run(args: argparse.Namespace, report: dict[str, Any], machine: dict[str, Any]) -> None:
    """The report's first lines: what was timed, how, and on what machine."""
    print(
        f"functional_nn benchmark: {report['data']}, {report['m']} samples per epoch, float32, "
        f"batch {report['batch_size']}, {args.threads} BLAS thread(s), median of {args.repeats} epoch(s) "
        f"after {args.warmup} warm-up epoch(s), {args.clock} time, {args.settle_seconds:g} s pause before each"
    )
    print(f"machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs; numpy {machine['numpy']} ({machine['blas']})")
    print(f"functional_nn's kernels (optimizer, ReLU layers): {machine['kernel']}")
    for line in machine.get("threadpools", []):
        print(f"  {line}")
    if machine.get("blas_environment"):
        print("  set in the environment: " + ", ".join(f"{k}={v}" for k, v in machine["blas_environment"].items()))
    print(f"load before: {machine['load_before']}; after: {machine['load_after']}")


def print_table(network: str, optimizer_name: str, result: dict[str, Any], batch_size: int) -> None:
    """One network and optimizer's table: every contender's samples/s and ours against theirs, then the ceiling."""
    figures, ceiling, rate, seconds = Timed.of(result)
    shares = ceiling_shares(result, batch_size)
    ours, ours_seconds = figures.get("functional_nn"), seconds.get("functional_nn")
    print()
    print(f"{network}, {optimizer_name} (learning rate {LEARNING_RATES[optimizer_name]:g})")
    print(f"  {'contender':30} {'samples/s':>10} {'min':>10} {'max':>10}   {'functional_nn / this':>20} {'by round':>9}")
    for name, value in figures.items():
        versus, paired = ratio(ours, value), by_round(ours_seconds, seconds[name])
        shown = "" if name == "functional_nn" or versus is None else f"{versus:.2f}x"
        shown_paired = "" if name == "functional_nn" or paired is None else f"{paired:.2f}x"
        print(
            f"  {LABELS[name]:30} {value.median:10,.0f} {value.low:10,.0f} {value.high:10,.0f}   "
            f"{shown:>20} {shown_paired:>9}"
        )
    shown = "" if shares.fraction is None else f"{shares.fraction:.0%} of the ceiling"
    shown_paired = "" if shares.fraction_by_round is None else f"{shares.fraction_by_round:.0%}"
    print(f"  {'matmul ceiling':30} {rate.median:10,.0f} {rate.low:10,.0f} {rate.high:10,.0f}   {shown:>20} {shown_paired:>9}")
    print(f"  ceiling: {ceiling.flops / 1e6:.1f} MFLOP per step at {shares.gflops:.0f} GFLOP/s, products " + ", ".join(ceiling.products))
    if shares.preallocated_fraction is not None:
        print(f"  the preallocated loop reaches {shares.preallocated_fraction:.0%} of the ceiling")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


if __name__ == "__main__":
    raise SystemExit(main())
