"""A user porting a recipe checks ``cosine_decay`` against its docstring and PyTorch's
``LinearLR`` + ``CosineAnnealingLR``: "the last warm-up step reaches the peak, step W starts
the decay at the peak". For about one peak in ten the rate there came out an ulp off, above
the peak as often as not (``peak * (t + 1) / W`` rounds twice; ``final + (peak - final)`` is
not always ``peak``), so a rate the schedule promises never to pass was passed.
"""

from __future__ import annotations

import pytest

from functional_nn.schedules import cosine_decay


@pytest.mark.parametrize(
    ("peak", "warmup_steps", "final"),
    [(0.1, 1726, 0.0), (0.0153, 540, 0.000153), (2e-05, 1628, 2e-06), (0.04, 1691, 0.004), (0.1, 3, 1e-4)],
)
def test_cosine_decay_reaches_its_peak_exactly_and_never_passes_it(peak: float, warmup_steps: int, final: float) -> None:
    schedule = cosine_decay(peak, decay_steps=50, warmup_steps=warmup_steps, final=final)
    assert schedule(warmup_steps - 1) == peak  # the last warm-up step
    assert schedule(warmup_steps) == peak  # the decay's first step
    assert schedule(warmup_steps + 50) == final
    rates = [schedule(t) for t in range(warmup_steps + 51)]
    assert max(rates) == peak
    assert min(rates[warmup_steps:]) == final
