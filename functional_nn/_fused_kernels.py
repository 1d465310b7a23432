"""The compiled kernels behind ``functional_nn.fused``; imported only by ``fused._compile``.

Importing this module imports Numba, which ``import functional_nn`` never does. The kernels
are module-level functions, not closures inside a function: Numba's on-disk cache keys a
function by its code and the contents of its closure, and the bilinear samplers' closure held
their compiled helpers (``locate``, ``blend``), which get a new identity in every process. So
those two were compiled anew on every run (0.35-0.45 s each) and each run wrote one more cache
entry of about 62 KB beside this file. ``fused``'s docstring says what each kernel computes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np


# error_model="numpy": a division by zero gives inf as in NumPy instead of raising, which
# also lets LLVM vectorise the loop. No fastmath: it would reorder the arithmetic.
def _jit(function: Callable[..., object]) -> Callable[..., Any]:  # Any: gather_divided returns what it touched
    try:
        compiled: Callable[..., Any] = numba.njit(nogil=True, error_model="numpy", cache=True)(function)
    except RuntimeError:  # no writeable cache directory anywhere: compile in every process
        compiled = numba.njit(nogil=True, error_model="numpy")(function)
    return compiled


@_jit
def adam_in_place(g: Any, m: Any, v: Any, p: Any, beta1: Any, one_minus_beta2: Any, inv_sqrt_correction2: Any,
                  epsilon: Any, rate_over_correction1: Any, decay: Any) -> None:  # fmt: skip
    for i in range(g.size):
        gi = g[i]
        mi = (m[i] - gi) * beta1 + gi
        vi = (gi * gi - v[i]) * one_minus_beta2 + v[i]
        m[i] = mi
        v[i] = vi
        p[i] = p[i] * decay - mi / (np.sqrt(vi) * inv_sqrt_correction2 + epsilon) * rate_over_correction1


# adam_in_place is adam_into with its outputs its inputs, written apart on purpose: adam_into
# given the same arrays twice ran 9 times slower (1,245 us against 142 us for 535,040 float32
# parameters), its loop no longer vectorised once input and output alias.
@_jit
def adam_into(g: Any, old_m: Any, old_v: Any, old_p: Any, m: Any, v: Any, p: Any, beta1: Any,
              one_minus_beta2: Any, inv_sqrt_correction2: Any, epsilon: Any, rate_over_correction1: Any,
              decay: Any) -> None:  # fmt: skip
    for i in range(g.size):
        gi = g[i]
        mi = (old_m[i] - gi) * beta1 + gi
        vi = (gi * gi - old_v[i]) * one_minus_beta2 + old_v[i]
        m[i] = mi
        v[i] = vi
        p[i] = old_p[i] * decay - mi / (np.sqrt(vi) * inv_sqrt_correction2 + epsilon) * rate_over_correction1


@_jit
def sgd_in_place(g: Any, p: Any, minus_rate: Any) -> None:
    for i in range(g.size):
        p[i] = g[i] * minus_rate + p[i]


@_jit
def momentum_in_place(g: Any, velocity: Any, p: Any, beta: Any, rate: Any) -> None:
    for i in range(g.size):
        vi = velocity[i] * beta + g[i]
        velocity[i] = vi
        p[i] = p[i] - vi * rate


@_jit
def nesterov_in_place(g: Any, velocity: Any, p: Any, beta: Any, rate: Any) -> None:
    for i in range(g.size):
        gi = g[i]
        vi = velocity[i] * beta + gi
        velocity[i] = vi
        p[i] = p[i] - (vi * beta + gi) * rate


@_jit
def rmsprop_in_place(g: Any, mean_square: Any, p: Any, one_minus_rho: Any, epsilon: Any, rate: Any) -> None:
    for i in range(g.size):
        gi = g[i]
        si = (gi * gi - mean_square[i]) * one_minus_rho + mean_square[i]
        mean_square[i] = si
        p[i] = p[i] - gi / (np.sqrt(si) + epsilon) * rate


@_jit
def ema_in_place(p: Any, average: Any, rate: Any) -> None:
    for i in range(p.size):
        average[i] = (p[i] - average[i]) * rate + average[i]


# The ReLU layers (propagation.forward and backward): Z, dA, A and mask are (n, m) and
# C-ordered, b is (n,), draws are the layer's n * m 16-bit draws in C order. max(z, 0)
# is np.maximum's: NaN stays NaN, -0.0 becomes 0.0. The two forward loops repeat their
# first lines on purpose: shared through an inlined helper, they ran 4-6 times slower
# (512x128 float32 with dropout: 46-95 us against 12-15 us), no longer vectorised.
@_jit
def relu_forward(Z: Any, b: Any, A: Any) -> None:
    n, m = Z.shape
    zero = Z.dtype.type(0)
    for i in range(n):
        bias = b[i]
        for j in range(m):
            z = Z[i, j] + bias
            Z[i, j] = z
            A[i, j] = z if z > zero or z != z else zero


@_jit
def relu_dropout_forward(Z: Any, b: Any, draws: Any, limit: Any, scale: Any, A: Any, mask: Any,
                         dropped: Any) -> None:  # fmt: skip
    n, m = Z.shape
    zero = Z.dtype.type(0)
    for i in range(n):
        bias = b[i]
        for j in range(m):
            z = Z[i, j] + bias
            Z[i, j] = z
            a = z if z > zero or z != z else zero
            A[i, j] = a
            kept = scale if draws[i * m + j] < limit else zero
            mask[i, j] = kept
            dropped[i, j] = a * kept


@_jit
def relu_backward(dA: Any, A: Any) -> None:
    n, m = dA.shape
    one, zero = dA.dtype.type(1), dA.dtype.type(0)
    for i in range(n):
        for j in range(m):
            dA[i, j] = dA[i, j] * (one if A[i, j] > zero else zero)


@_jit
def relu_dropout_backward(dA: Any, mask: Any, A: Any) -> None:
    n, m = dA.shape
    one, zero = dA.dtype.type(1), dA.dtype.type(0)
    for i in range(n):
        for j in range(m):
            dA[i, j] = (dA[i, j] * mask[i, j]) * (one if A[i, j] > zero else zero)


# The softmax output layer (propagation.forward): activations.softmax's passes in two loops
# around NumPy's own exp, which stays NumPy's so that the results are its bits. Z and E are
# (n, m) and C-ordered, b is (n,). The column maximum propagates NaN as np.max does; the
# column sums add the rows in order, as NumPy's sum over axis 0 of a C-ordered array does,
# but for one column (m = 1: a batch of one), which NumPy sums pairwise as a contiguous run.
# A column whose maximum is +-inf gets activations.softmax's limits: its shifts are made 0
# where z equals the maximum and -inf elsewhere (so 1/k after exp and the division), in a
# loop of its own after the others, which stay as they were and vectorised.
@_jit
def softmax_shift(Z: Any, b: Any, E: Any) -> None:
    # Z += b, then E = Z - (each column's maximum)
    n, m = Z.shape
    top = np.empty(m, Z.dtype)
    bias = b[0]
    for j in range(m):
        z = Z[0, j] + bias
        Z[0, j] = z
        top[j] = z
    for i in range(1, n):
        bias = b[i]
        for j in range(m):
            z = Z[i, j] + bias
            Z[i, j] = z
            t = top[j]
            top[j] = z if z > t or z != z else t
    for i in range(n):
        for j in range(m):
            E[i, j] = Z[i, j] - top[j]
    # The test has no branch per column, so it vectorises: it adds 20 ns to 10 x 128 float32,
    # where a branch per column added 70 (measured). abs(NaN) == inf is false: NaN stays.
    infinity = Z.dtype.type(np.inf)
    infinite = False
    for j in range(m):
        infinite |= abs(top[j]) == infinity
    if infinite:
        zero = Z.dtype.type(0)
        for j in range(m):
            t = top[j]
            if abs(t) == infinity:
                for i in range(n):
                    E[i, j] = zero if Z[i, j] == t else -infinity


# NumPy's own pairwise_sum (numpy/_core/src/umath/loops_utils.h.src), which its sum uses
# over a contiguous run: below 8 numbers in order, up to 128 in eight interleaved partial
# sums, beyond that the sum of the two halves' sums (the first a multiple of 8 long). The
# halving is NumPy's recursion run on a stack of its own: Numba's cached machine code of a
# recursive function crashed the next process that loaded it (a segmentation fault).
@_jit
def _run_sum(a: Any, start: Any, n: Any) -> Any:
    if n < 8:
        total = a.dtype.type(0)
        for i in range(start, start + n):
            total += a[i]
        return total
    partial = a[start : start + 8].copy()
    stop = start + n - n % 8
    for i in range(start + 8, stop, 8):
        for k in range(8):
            partial[k] += a[i + k]
    total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]))
    for i in range(stop, start + n):
        total += a[i]
    return total


@_jit
def _pairwise_sum(a: Any) -> Any:
    # tasks: (start, n) to sum, or n = -1 to add the last two sums; each halving pushes three
    # tasks and takes one, so 128 slots hold any run up to 2**63
    starts = np.empty(128, np.intp)
    sizes = np.empty(128, np.intp)
    sums = np.empty(64, a.dtype)
    starts[0], sizes[0] = 0, a.size
    tasks, done = 1, 0
    while tasks:
        tasks -= 1
        start, n = starts[tasks], sizes[tasks]
        if n < 0:
            done -= 1
            sums[done - 1] = sums[done - 1] + sums[done]
        elif n <= 128:
            sums[done] = _run_sum(a, start, n)
            done += 1
        else:
            half = n // 2
            half -= half % 8
            starts[tasks], sizes[tasks] = 0, -1
            starts[tasks + 1], sizes[tasks + 1] = start + half, n - half
            starts[tasks + 2], sizes[tasks + 2] = start, half
            tasks += 3
    return sums[0]


@_jit
def softmax_normalise(E: Any) -> None:
    # E /= (each column's sum)
    n, m = E.shape
    if m == 1:
        column_total = _pairwise_sum(E[:, 0])
        for i in range(n):
            E[i, 0] /= column_total
        return
    total = E[0].copy()
    for i in range(1, n):
        for j in range(m):
            total[j] += E[i, j]
    for i in range(n):
        for j in range(m):
            E[i, j] /= total[j]


# A mini-batch of integer samples made floats (training's input_divisor): row i of out is
# row indices[i] of rows divided by divisor, each integer first cast to out's dtype, as
# np.divide(rows[indices], divisor, dtype=out.dtype) computes it, without the integer copy.
# The rows lie anywhere in the data set, mostly out of cache in a training step. So a first
# pass reads one element of each 64-byte cache line of every row: loads that do not wait on
# one another, so the memory serves many at once, where the copy's row after row would
# wait for each row in turn. In the main job's step (scripts/step_breakdown.py, all 50,000
# images) the gather took 83-84 us against 104; three epochs of it, 8 alternating pairs of
# processes, 0.963-1.024 of the time (median 0.984), bitwise the same. It returns their sum,
# so that the compiler keeps those loads.
@_jit
def gather_divided(rows: Any, indices: Any, divisor: Any, out: Any) -> int:
    touched = 0
    line = max(1, 64 // rows.itemsize)
    for i in range(indices.size):
        row = rows[indices[i]]
        for j in range(0, row.size, line):
            touched += row[j]
    for i in range(indices.size):
        row = rows[indices[i]]
        for j in range(row.size):
            out[i, j] = out.dtype.type(row[j]) / divisor
    return touched


# The augmentations' bilinear sampling: augmentation._bilinear_numpy's passes, one image
# at a time, the same operations on the same values (min and max as np.clip, whole numbers
# exact in the float type). Each image in two loops: where every output pixel reads
# (arithmetic only), then the reads and the blend; split so, the whole ran in half the
# time of one loop doing both (measured).
@_jit
def locate(r: Any, c: Any, j: Any, bounds: Any, base: Any, index: Any, weight_rows: Any, weight_cols: Any) -> None:
    low, high_row, high_col, one, stride = bounds
    fy = min(max(r, low), high_row) + one
    fx = min(max(c, low), high_col) + one
    y = np.floor(fy)
    x = np.floor(fx)
    weight_rows[j] = fy - y
    weight_cols[j] = fx - x
    index[j] = int(y) * int(stride) + int(x) + base  # in integers: y * stride reaches (h + 3) (w + 3), past float32's 2^24


@_jit
def blend(values: Any, index: Any, weight_rows: Any, weight_cols: Any, stride: Any, out: Any) -> None:
    for j in range(index.size):
        flat = index[j]
        v00 = values[flat]
        v10 = values[flat + stride]
        top = (values[flat + 1] - v00) * weight_cols[j] + v00
        bottom = (values[flat + stride + 1] - v10) * weight_cols[j] + v10
        out[j] = (bottom - top) * weight_rows[j] + top


@_jit
def affine_bilinear(values: Any, coefficients: Any, grid_rows: Any, grid_cols: Any, out: Any, bounds: Any,
                    stride: Any, image_size: Any) -> None:  # fmt: skip
    # each image's source coordinates as random_affine's NumPy code makes them:
    # (a grid_rows + b grid_cols) + offset, per axis, then bilinear's sampling
    m, n = out.shape
    index = np.empty(n, np.intp)
    weight_rows = np.empty(n, out.dtype)
    weight_cols = np.empty(n, out.dtype)
    for i in range(m):
        a_r, b_r, o_r = coefficients[i, 0], coefficients[i, 1], coefficients[i, 2]
        a_c, b_c, o_c = coefficients[i, 3], coefficients[i, 4], coefficients[i, 5]
        for j in range(n):
            r = a_r * grid_rows[j] + b_r * grid_cols[j] + o_r
            c = a_c * grid_rows[j] + b_c * grid_cols[j] + o_c
            locate(r, c, j, bounds, i * image_size, index, weight_rows, weight_cols)
        blend(values, index, weight_rows, weight_cols, stride, out[i])


@_jit
def displaced_bilinear(values: Any, displacement: Any, out: Any, bounds: Any, stride: Any, image_size: Any) -> None:
    # elastic_distortion's sampling: pixel (r, c) of image i reads at (r + d[r, 0, i, c],
    # c + d[r, 1, i, c]), the sums made as its NumPy code makes them (displacement + index)
    h, _, m, w = displacement.shape
    n = h * w
    index = np.empty(n, np.intp)
    weight_rows = np.empty(n, out.dtype)
    weight_cols = np.empty(n, out.dtype)
    for i in range(m):
        for r in range(h):
            for c in range(w):
                row = displacement[r, 0, i, c] + out.dtype.type(r)
                col = displacement[r, 1, i, c] + out.dtype.type(c)
                locate(row, col, r * w + c, bounds, i * image_size, index, weight_rows, weight_cols)
        blend(values, index, weight_rows, weight_cols, stride, out[i])


KERNELS: dict[str, Callable[..., None]] = {
    "adam_in_place": adam_in_place, "adam_into": adam_into, "sgd_in_place": sgd_in_place, "ema_in_place": ema_in_place,
    "momentum_in_place": momentum_in_place, "nesterov_in_place": nesterov_in_place, "rmsprop_in_place": rmsprop_in_place,
    "relu_forward": relu_forward, "relu_dropout_forward": relu_dropout_forward, "relu_backward": relu_backward,
    "relu_dropout_backward": relu_dropout_backward, "softmax_shift": softmax_shift, "softmax_normalise": softmax_normalise,
    "gather_divided": gather_divided, "affine_bilinear": affine_bilinear, "displaced_bilinear": displaced_bilinear,
}  # fmt: skip
