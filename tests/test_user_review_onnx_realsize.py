"""A user's review of export and prediction at real size: the memory that exporting a network
and predicting on a whole data set hold at once, against the parameters' and inputs' bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import functional_nn
from functional_nn.initializers import initialize_parameters
from functional_nn.propagation import PREDICT_CHUNK, predict_proba
from functional_nn.sklearn import MLPClassifier
from conftest import peak_bytes

EXPORT_PEAK = """
import json, resource, sys
import numpy as np
from functional_nn import export_onnx
from functional_nn.initializers import initialize_parameters
rng = np.random.default_rng(0)  # each array made in place, no temporary raising the peak before the export
params = {f"{kind}{l}": rng.standard_normal(shape) for l, (n, n_in) in enumerate([(1024, 256), (1024, 1024), (10, 1024)], start=1)
          for kind, shape in (("W", (n, n_in)), ("b", (n, 1)))}
export_onnx(initialize_parameters([2, 3, 2], np.random.default_rng(0)), ("relu", "softmax"), sys.argv[1])  # loads onnx's modules
def peak():  # Linux's ru_maxrss keeps the parent's peak across fork and exec: VmHWM is this program's
    try:
        with open("/proc/self/status") as status:
            return 1024 * int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS
before = peak()
export_onnx(params, ("relu", "relu", "softmax"), sys.argv[1])
after = peak()
print(json.dumps({"rise": after - before, "params": sum(value.nbytes for value in params.values())}))
"""


def test_export_onnx_holds_few_copies_of_the_weights(tmp_path: Path) -> None:
    # A 256-1024-1024-10 float64 network, 10 MB of parameters: a list of initializers,
    # make_graph, make_model and check_model's own serialization each held a copy, the peak
    # rising by 7.0 times the parameters' bytes (54 MB for train_mnist.py --preset best's 7.5 MB)
    source = str(Path(functional_nn.__file__).parents[1])  # this checkout's, not another installed one
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", EXPORT_PEAK, str(tmp_path / "model.onnx")],
        capture_output=True, text=True, check=True, timeout=60, env=environment,
    )
    measured = json.loads(done.stdout)
    assert measured["rise"] < 5.5 * measured["params"], measured  # the model, its bytes, the checker's parse: about 4


def test_predict_proba_holds_two_layers_of_a_chunk_not_three(rng: np.random.Generator) -> None:
    # forward_output's docstring: memory for the output and one chunk's two widest layers; the
    # layer's input stayed alive while its activation was made, three 512 x 2,048 arrays
    params = initialize_parameters([4, 512, 512, 2], rng)
    X = rng.standard_normal((4, PREDICT_CHUNK))
    layer = 512 * PREDICT_CHUNK * 8
    peak = peak_bytes(lambda: predict_proba(X, params, ("relu", "relu", "softmax")))
    assert peak < 2.5 * layer, (peak, layer)


def test_estimator_predict_proba_does_not_copy_fortran_ordered_rows(rng: np.random.Generator) -> None:
    # A DataFrame's values and scale_pixels(images.T).T are Fortran-ordered rows: _output copied
    # all of X into C order (for the same bits as C-ordered rows) where a chunk at a time will do
    X = rng.random((6 * PREDICT_CHUNK, 100)).astype(np.float32)
    y = np.arange(6 * PREDICT_CHUNK) % 3
    estimator = MLPClassifier((8,), epochs=1, dtype="float32", random_state=0).fit(X[:500], y[:500])
    rows = np.asfortranarray(X)
    expected = estimator.predict_proba(X)
    peak = peak_bytes(lambda: estimator.predict_proba(rows))
    assert peak < rows.nbytes / 2, (peak, rows.nbytes)  # one chunk's rows and its finite check: about a third
    np.testing.assert_array_equal(estimator.predict_proba(rows), expected)  # the same bits as before
