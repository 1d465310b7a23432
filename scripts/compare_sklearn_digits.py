"""Our ``MLPClassifier`` against scikit-learn's on ``load_digits``, with the same settings.

Both estimators get the same network and training: one hidden layer of ``--hidden`` ReLU
units, Adam with learning rate 1e-3, mini-batches of 200, L2 ``alpha`` 1e-4, exactly
``--epochs`` epochs (scikit-learn's tolerance-based stopping is switched off with
``n_iter_no_change=epochs`` and ``tol=0``), on the same split: for each seed, a stratified
75/25 split of the 1,797 images (pixels scaled to [0, 1]), and that seed as both
estimators' ``random_state``. What differs is each library's own: the initialisation (He
normal here, Glorot uniform in scikit-learn) and the order of the random draws.

    python scripts/compare_sklearn_digits.py                 # seeds 0-4, 200 epochs
    python scripts/compare_sklearn_digits.py --seeds 10 --epochs 50

Prints one line per seed and a final line of JSON with every figure.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # One BLAS thread, set before NumPy loads its BLAS, for both libraries alike: on two
    # shared cores a second thread made these small products ten times slower, not faster.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np

try:
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
except ImportError:  # pragma: no cover - the script's own message
    print('error: this comparison needs scikit-learn: pip install -e ".[sklearn]"', file=sys.stderr)
    sys.exit(2)  # a missing package is the user's to fix, as in every script

import _cli  # scripts/_cli.py: one error line for a user's mistake or Ctrl-C
from functional_nn.sklearn import MLPClassifier


def compare(seed: int, hidden: int, epochs: int) -> dict[str, float]:
    """Test accuracies and fit times of both estimators on one split."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=seed)
    ours = MLPClassifier(
        (hidden,), optimizer="adam", learning_rate=1e-3, batch_size=200, alpha=1e-4, epochs=epochs, random_state=seed
    )
    theirs = SklearnMLPClassifier(
        (hidden,), solver="adam", learning_rate_init=1e-3, batch_size=200, alpha=1e-4, max_iter=epochs,
        n_iter_no_change=epochs, tol=0.0, random_state=seed,
    )  # fmt: skip
    start = time.perf_counter()
    ours.fit(X_train, y_train)
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # it warns that max_iter ended the run: we asked for that
        theirs.fit(X_train, y_train)
    theirs_seconds = time.perf_counter() - start
    assert ours.n_iter_ == theirs.n_iter_ == epochs
    return {
        "seed": seed,
        "functional_nn": float(ours.score(X_test, y_test)),
        "scikit_learn": float(theirs.score(X_test, y_test)),
        "functional_nn_seconds": ours_seconds,
        "scikit_learn_seconds": theirs_seconds,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the program; a user's mistake or Ctrl-C is one ``error:`` line, never a traceback."""
    return _cli.run_main(_main, argv)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=_cli.positive_int, default=5, help="splits and seeds 0 .. SEEDS-1 (default 5)")
    parser.add_argument("--epochs", type=_cli.positive_int, default=200, help="epochs for both (default 200)")
    parser.add_argument("--hidden", type=_cli.positive_int, default=100, help="hidden units (default 100)")
    return parser.parse_args(argv)


def _main(argv: Sequence[str] | None) -> int:
    args = parse_args(argv)
    runs = []
    for seed in range(args.seeds):
        run = compare(seed, args.hidden, args.epochs)
        runs.append(run)
        print(
            f"seed {seed}: functional_nn {run['functional_nn']:.2%} ({run['functional_nn_seconds']:.2f} s), "
            f"scikit-learn {run['scikit_learn']:.2%} ({run['scikit_learn_seconds']:.2f} s)"
        )
    mean_ours = float(np.mean([run["functional_nn"] for run in runs]))
    mean_theirs = float(np.mean([run["scikit_learn"] for run in runs]))
    print(f"mean test accuracy over {_cli.counted(args.seeds, 'seed')}: functional_nn {mean_ours:.2%}, scikit-learn {mean_theirs:.2%}")
    summary = {"hidden": args.hidden, "epochs": args.epochs, "functional_nn": mean_ours, "scikit_learn": mean_theirs}
    print(json.dumps({**summary, "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
