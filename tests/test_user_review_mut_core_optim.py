"""Mutation review of the optimizers, fused kernels, averaging, schedules and initializers:
tests that kill mutants the suite let live, each against values computed apart from the code."""

from __future__ import annotations

import numpy as np

from functional_nn import fused
from functional_nn.schedules import exponential_decay, step_decay


def test_subnormal_operands_are_read_as_zero_in_the_block_not_only_subnormal_results() -> None:
    """Denormals-are-zero, apart from flush-to-zero: a subnormal times 2**30 is a normal number
    (tiny / 4 * 2**30 = tiny * 2**28), which only the reading of the operand as zero makes 0."""
    tiny = np.finfo(np.float32).tiny
    x = np.array([tiny / 4, -tiny / 4, 1.0], dtype=np.float32)
    factor = np.float32(2.0**30)
    with fused.subnormals_flushed():
        scaled = x * factor
    if fused.FLUSHES_SUBNORMALS:  # x86-64 with Numba
        assert scaled.tobytes() == np.array([0.0, -0.0, 2.0**30], dtype=np.float32).tobytes()
    else:  # elsewhere the block changes nothing
        assert scaled.tobytes() == np.array([tiny * 2.0**28, -tiny * 2.0**28, 2.0**30], dtype=np.float32).tobytes()
    assert (x * factor)[0] == np.float32(tiny * 2.0**28)  # restored on leaving


def test_a_decay_rate_of_one_is_a_constant_schedule() -> None:
    """decay_rate is documented in (0, 1]: 1, the closed end, is accepted and keeps the rate."""
    assert [step_decay(0.1, decay_rate=1.0, step_size=2)(t) for t in (0, 5)] == [0.1, 0.1]
    assert [exponential_decay(0.1, decay_rate=1.0, decay_steps=2)(t) for t in (0, 5)] == [0.1, 0.1]
