r"""Learning-rate schedules: pure functions of the step count.

A schedule maps ``step``, the number of updates an optimizer has made before the current one
(0 for the first update), to the learning rate of that update. Every optimizer accepts a
schedule wherever it accepts a constant learning rate::

    opt = adam(cosine_decay(1e-3, decay_steps=10_000, warmup_steps=500))

A ``Schedule`` is a callable ``NamedTuple`` holding its rule, its name and its
hyperparameters (for logs and checkpoints); any plain function ``int -> float`` works as a
learning rate too. Nothing here has state: calling a schedule twice with the same step gives
the same rate.

With ``train``, the step counts mini-batches over the whole run (not epochs): with ``m``
samples and batch size ``B`` an epoch is ``ceil(m / B)`` steps. Step counts, the ``step``
given and the hyperparameters counted in steps, are at most ``MAX_STEPS`` (2**53).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Final, NamedTuple

from functional_nn import _validation as check


MAX_STEPS: Final = 2**53
"""The largest step count a schedule takes, as ``step`` or as a hyperparameter: float64 holds
every integer up to it exactly, so a count stored among the float hyperparameters (in a
checkpoint) reads back as given, and the rules' arithmetic cannot overflow to an error."""


def _check_steps(argument: str, value: object, *, minimum: int = 1) -> int:
    count = check.check_positive_int(argument, value, minimum=minimum)
    if count > MAX_STEPS:
        shown = f"{count:,}" if count < 10**30 else check.describe_large_integer(count)
        raise ValueError(f"{argument} must be at most 2**53 = {MAX_STEPS:,}, the largest count float64 holds exactly, got {shown}")
    return count


class Schedule(NamedTuple):
    """A learning-rate schedule: ``schedule(step) -> float``, with a name and hyperparameters."""

    rule: Callable[[int], float]
    name: str = "schedule"
    hyperparameters: tuple[tuple[str, float], ...] = ()

    def __call__(self, step: int) -> float:
        """The rate of the update made after ``step`` updates: ``step`` is an integer >= 0."""
        return self.rule(_check_steps("step", step, minimum=0))


def constant(value: float) -> Schedule:
    r"""The same rate at every step: :math:`\alpha_t = \alpha`.

    Parameters
    ----------
    value : float > 0
    """
    value = check.check_positive_float("value", value)
    return Schedule(functools.partial(_constant_rule, value), "constant", (("value", value),))


def step_decay(initial: float, *, decay_rate: float, step_size: int) -> Schedule:
    r"""Multiply the rate by ``decay_rate`` every ``step_size`` steps (a staircase).

    .. math:: \alpha_t = \alpha_0\, \gamma^{\lfloor t / s \rfloor}

    Parameters
    ----------
    initial : float > 0
        :math:`\alpha_0`, the rate of steps ``0 .. step_size - 1``.
    decay_rate : float in (0, 1]
        :math:`\gamma`.
    step_size : int >= 1
        :math:`s`, the number of steps between two drops.
    """
    initial = check.check_positive_float("initial", initial)
    decay_rate = _check_decay_rate(decay_rate)
    step_size = _check_steps("step_size", step_size)

    rule = functools.partial(_step_decay_rule, initial, decay_rate, step_size)
    return Schedule(rule, "step_decay", (("initial", initial), ("decay_rate", decay_rate), ("step_size", float(step_size))))


def exponential_decay(initial: float, *, decay_rate: float, decay_steps: int) -> Schedule:
    r"""Smooth exponential decay: the rate is multiplied by ``decay_rate`` every ``decay_steps`` steps.

    .. math:: \alpha_t = \alpha_0\, \gamma^{t / s}

    Parameters
    ----------
    initial : float > 0
        :math:`\alpha_0`.
    decay_rate : float in (0, 1]
        :math:`\gamma`.
    decay_steps : int >= 1
        :math:`s`.
    """
    initial = check.check_positive_float("initial", initial)
    decay_rate = _check_decay_rate(decay_rate)
    decay_steps = _check_steps("decay_steps", decay_steps)

    rule = functools.partial(_exponential_decay_rule, initial, decay_rate, decay_steps)
    return Schedule(
        rule, "exponential_decay", (("initial", initial), ("decay_rate", decay_rate), ("decay_steps", float(decay_steps)))
    )


def cosine_decay(peak: float, *, decay_steps: int, warmup_steps: int = 0, final: float = 0.0) -> Schedule:
    r"""Linear warm-up to ``peak``, then half a cosine down to ``final`` (Loshchilov & Hutter 2017, SGDR,
    without restarts; the warm-up as in Goyal et al. 2017).

    With :math:`W` warm-up steps and :math:`D` decay steps:

    .. math::

        \alpha_t = \begin{cases}
            \alpha_{\max}\, \dfrac{t + 1}{W} & 0 \le t < W \\[1ex]
            \alpha_{\min} + \tfrac12 (\alpha_{\max} - \alpha_{\min})
                \big(1 + \cos(\pi \min(1, (t - W) / D))\big) & t \ge W
        \end{cases}

    The first update already moves (rate :math:`\alpha_{\max} / W`), the last warm-up step
    reaches the peak, step :math:`W` starts the decay at the peak, and from step
    :math:`W + D` on the rate stays at :math:`\alpha_{\min}`.

    Parameters
    ----------
    peak : float > 0
        :math:`\alpha_{\max}`.
    decay_steps : int >= 1
        :math:`D`, the length of the cosine, after the warm-up.
    warmup_steps : int >= 0, default 0
        :math:`W`.
    final : float >= 0, default 0
        :math:`\alpha_{\min} \le \alpha_{\max}`.
    """
    peak = check.check_positive_float("peak", peak)
    decay_steps = _check_steps("decay_steps", decay_steps)
    warmup_steps = _check_steps("warmup_steps", warmup_steps, minimum=0)
    final = check.check_positive_float("final", final, allow_zero=True)
    if final > peak:
        raise ValueError(f"final must be <= peak ({peak}), got {final}")

    rule = functools.partial(_cosine_decay_rule, peak, decay_steps, warmup_steps, final)
    hyperparameters = (("peak", peak), ("decay_steps", decay_steps), ("warmup_steps", warmup_steps), ("final", final))
    return Schedule(rule, "cosine_decay", tuple((k, float(v)) for k, v in hyperparameters))


def _check_decay_rate(decay_rate: float) -> float:
    decay_rate = check.check_positive_float("decay_rate", decay_rate)
    if decay_rate > 1:
        raise ValueError(f"decay_rate must be in (0, 1] (a factor that shrinks the rate), got {decay_rate}")
    return decay_rate


# The rules are module-level functions bound with functools.partial, not closures: a schedule
# then pickles (pickle.dumps, joblib.dump), and so does an estimator or a record holding one.


def _constant_rule(value: float, step: int) -> float:
    return value


def _step_decay_rule(initial: float, decay_rate: float, step_size: int, step: int) -> float:
    return initial * decay_rate ** (step // step_size)


def _exponential_decay_rule(initial: float, decay_rate: float, decay_steps: int, step: int) -> float:
    return initial * math.pow(decay_rate, step / decay_steps)


def _cosine_decay_rule(peak: float, decay_steps: int, warmup_steps: int, final: float, step: int) -> float:
    # The ends are the peak itself: peak * W / W and final + (peak - final) may round an ulp
    # off it, above as often as below, for about one peak in ten; so may the decay's first
    # steps when their cosine rounds to 1 (decay_steps of 10**8 and more), hence the min.
    if step + 1 < warmup_steps:
        return peak * (step + 1) / warmup_steps
    if step <= warmup_steps:
        return peak
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return min(peak, final + 0.5 * (peak - final) * (1.0 + math.cos(math.pi * progress)))
