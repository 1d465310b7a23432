"""The arithmetic of one neuron and one layer, ``output = W . x + b``, done by the library.

A neuron is a layer of one unit with a linear activation, and a layer is a weight matrix with
one row per unit: ``forward_propagation`` computes :math:`Z = W x + b` for both.

    python scripts/neuron_basics.py
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

import _cli  # scripts/_cli.py: one error line for a user's mistake or Ctrl-C
from functional_nn import FloatArray, forward_propagation


def layer_output(inputs: Sequence[float], weights: Sequence[Sequence[float]], biases: Sequence[float]) -> FloatArray:
    """``W @ x + b`` for one sample: ``inputs`` (n_in,), ``weights`` (n_out, n_in), ``biases`` (n_out,)."""
    X = np.array(inputs, dtype=np.float64).reshape(-1, 1)  # one sample is one column
    params = {
        "W1": np.array(weights, dtype=np.float64),
        "b1": np.array(biases, dtype=np.float64).reshape(-1, 1),
    }
    output, _ = forward_propagation(X, params, ("linear",))
    return output[:, 0]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """No options: ``--help`` describes the script, anything else is refused."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the program; a user's mistake or Ctrl-C is one ``error:`` line, never a traceback."""
    return _cli.run_main(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parse_args(argv)
    neuron = layer_output([1, 2, 3], [[0.2, 0.8, -0.5]], [2])
    print(f"one neuron:  inputs [1, 2, 3], weights [0.2, 0.8, -0.5], bias 2 -> {neuron[0]:.4g}")
    layer = layer_output(
        [1, 2, 3, 2.5],
        [[0.2, 0.8, -0.5, 1.0], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]],
        [2, 3, 0.5],
    )
    print(f"one layer:   inputs [1, 2, 3, 2.5], three neurons -> {[round(float(v), 4) for v in layer]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
