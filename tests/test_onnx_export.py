"""ONNX export: every built-in activation, in both dtypes, checked by onnx.checker and run by
onnxruntime against ``predict_proba``; the graph's shape, names and metadata; bad input."""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx.reference import ReferenceEvaluator

from functional_nn import export_onnx
from functional_nn.activations import ACTIVATIONS
from functional_nn.initializers import initialize_parameters
from functional_nn.onnx_export import ONNX_ACTIVATIONS, UnsupportedActivationError
from functional_nn.propagation import predict_proba
from functional_nn.types import Activation, FloatArray, Params
from user_records import SOFTSIGN


def run(path: Path, X_rows: FloatArray, input_name: str = "X") -> Any:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {input_name: X_rows})[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACTIVATIONS))  # a new built-in without an ONNX form fails here
def test_onnxruntime_gives_predict_proba_for_every_built_in_activation(
    name: Activation, dtype: type[np.floating], tmp_path: Path
) -> None:
    # Standard-normal weights push the units well into every activation's nonlinear range.
    # The activation on the hidden layers of a classifier, and alone as a one-layer network's output.
    for activations in ((name, name, "softmax"), (name,)):
        sizes = [5, 8, 6, 4] if len(activations) == 3 else [5, 4]
        params = initialize_parameters(sizes, np.random.default_rng(0), scheme="standard_normal", dtype=dtype)
        path = export_onnx(params, activations, tmp_path / f"{name}.onnx")
        model = onnx.load(str(path))
        onnx.checker.check_model(model, full_check=True)
        X = np.random.default_rng(1).standard_normal((5, 50)).astype(dtype)
        expected = predict_proba(X, params, activations).T
        tolerance = 1e-6 if dtype == np.float32 else 1e-12
        if name == "gelu" and dtype == np.float64:
            # onnxruntime has no float64 Gelu kernel (documented in ONNX_ACTIVATIONS): ONNX's own
            # reference evaluator runs the model, with an erf good to about 1e-7 in float64.
            evaluated: Any = ReferenceEvaluator(model).run(None, {"X": np.ascontiguousarray(X.T)})
            output = evaluated[0]
            tolerance = 1e-6
        else:
            output = run(path, np.ascontiguousarray(X.T))
        assert output.dtype == dtype and output.shape == (50, 4)
        np.testing.assert_allclose(output, expected, rtol=tolerance, atol=tolerance)


def mnist_like(dtype: type[np.floating] = np.float32) -> Params:
    return initialize_parameters([12, 9, 7, 3], np.random.default_rng(2), dtype=dtype)


def test_the_graph_is_one_gemm_per_layer_with_the_weights_as_stored(tmp_path: Path) -> None:
    params = mnist_like()
    activations: tuple[Activation, ...] = ("relu", "tanh", "softmax")
    model = onnx.load(str(export_onnx(params, activations, tmp_path / "m.onnx")))
    graph = model.graph
    assert [node.op_type for node in graph.node] == ["Gemm", "Relu", "Gemm", "Tanh", "Gemm", "Constant", "Constant", "Min", "Max", "Softmax"]
    for node in graph.node[:6:2]:
        assert {attribute.name: attribute.i for attribute in node.attribute} == {"transB": 1}
    stored = {tensor.name: onnx.numpy_helper.to_array(tensor) for tensor in graph.initializer}
    for l in (1, 2, 3):
        np.testing.assert_array_equal(stored[f"W{l}"], params[f"W{l}"])  # (n_l, n_{l-1}), not transposed
        np.testing.assert_array_equal(stored[f"b{l}"], params[f"b{l}"][:, 0])
    (given,), (produced,) = graph.input, graph.output
    assert given.name == "X" and produced.name == "output"
    assert [(d.dim_param, d.dim_value) for d in given.type.tensor_type.shape.dim] == [("batch", 0), ("", 12)]
    assert [(d.dim_param, d.dim_value) for d in produced.type.tensor_type.shape.dim] == [("batch", 0), ("", 3)]
    assert given.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.opset_import[0].version == 20 and model.producer_name == "functional_nn"
    properties = {p.key: p.value for p in model.metadata_props}
    import functional_nn

    assert properties == {
        "library": "functional_nn",
        "library_version": functional_nn.__version__,
        "layer_sizes": "[12, 9, 7, 3]",
        "activations": json.dumps(list(activations)),
        "dtype": "float32",
    }
    for batch in (1, 300):  # the batch dimension is dynamic
        X = np.random.default_rng(batch).random((batch, 12), dtype=np.float32)
        np.testing.assert_allclose(run(tmp_path / "m.onnx", X), predict_proba(X.T, params, activations).T, rtol=1e-6, atol=1e-6)


def test_names_opset_and_extra_metadata(tmp_path: Path) -> None:
    params = mnist_like(np.float64)
    path = export_onnx(params, ("relu", "relu", "linear"), tmp_path / "m.onnx", input_name="pixels",
                       output_name="scores", opset=17, metadata={"trained_on": "mnist"})  # fmt: skip
    model = onnx.load(str(path))
    assert model.opset_import[0].version == 17 and model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert {p.key: p.value for p in model.metadata_props}["trained_on"] == "mnist"
    X = np.random.default_rng(0).random((4, 12))
    np.testing.assert_allclose(run(path, X, "pixels"), predict_proba(X.T, params, ("relu", "relu", "linear")).T, rtol=1e-12)


def test_bad_arguments_are_refused_and_leave_an_existing_file_alone(tmp_path: Path) -> None:
    params = mnist_like()
    path = tmp_path / "m.onnx"
    path.write_bytes(b"an earlier model")
    with pytest.raises(ValueError, match="unknown activations\\[1\\] 'gelu_ish'"):
        export_onnx(params, ("relu", "gelu_ish", "softmax"), path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="opset must be >= 9, got 8"):
        export_onnx(params, ("relu", "relu", "softmax"), path, opset=8)
    latest = onnx.defs.onnx_opset_version()
    with pytest.raises(ValueError, match=f"opset must be at most {latest}"):
        export_onnx(params, ("relu", "relu", "softmax"), path, opset=latest + 1)
    with pytest.raises(ValueError, match="metadata\\['dtype'\\] is written from the network itself"):
        export_onnx(params, ("relu", "relu", "softmax"), path, metadata={"dtype": "float16"})
    with pytest.raises(ValueError, match="input_name and output_name must differ"):
        export_onnx(params, ("relu", "relu", "softmax"), path, input_name="X", output_name="X")
    with pytest.raises(ValueError, match="activations must name one activation per layer"):
        export_onnx(params, ("relu", "softmax"), path)
    with pytest.raises(FileNotFoundError):
        export_onnx(params, ("relu", "relu", "softmax"), tmp_path / "missing" / "m.onnx")
    assert path.read_bytes() == b"an earlier model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # no temporary file left behind


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"path": 3}, r"path must be a str or an os.PathLike such as pathlib.Path\('model.onnx'\), got int 3"),
        ({"path": None}, r"path must be a str or an os.PathLike .*, got NoneType None"),
        ({"path": b"m.onnx"}, r"path must be a str or an os.PathLike .*, got bytes b'm.onnx'"),
        ({"path": ["m.onnx"]}, r"path must be a str or an os.PathLike .*, got list \['m.onnx'\]"),
        ({"params": [1.0]}, r"params must be a mapping of 'W1', 'b1', ... to arrays, got list"),
        ({"activations": "relu"}, r"activations must be a sequence of 3 names or ActivationFunction records, .* got 'relu'"),
        ({"activations": ("relu", 3, "softmax")}, r"activations\[1\] must be one of .* or an ActivationFunction record, got int 3"),
        ({"opset": "20"}, r"opset must be an integer, got str '20'"),
        ({"input_name": 3}, r"input_name must be a non-empty str, got 3"),
        ({"output_name": None}, r"output_name must be a non-empty str, got None"),
        ({"metadata": [("a", "b")]}, r"metadata must be a mapping of str to str, got list"),
        ({"metadata": {"a": 1}}, r"metadata must map str to str, got 'a': 1"),
    ],
)
def test_arguments_of_the_wrong_type_are_refused_naming_them(tmp_path: Path, arguments: dict[str, Any], message: str) -> None:
    given: dict[str, Any] = {"params": mnist_like(), "activations": ("relu", "relu", "softmax"), "path": tmp_path / "m.onnx", **arguments}
    with pytest.raises(TypeError, match=f"^{message}$"):
        export_onnx(**given)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "path is an empty path: name a file"),
        ("m\0.onnx", "path holds a NUL byte, which no path can: 'm\\x00.onnx'"),
        ("m.onnx/", "path must name a file, got 'm.onnx/', which ends in a separator (a folder)"),
    ],
)
def test_a_path_that_names_no_file_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)  # where "m.onnx/" used to be written, as a file "m.onnx"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        export_onnx(mnist_like(), ("relu", "relu", "softmax"), path)
    assert list(tmp_path.iterdir()) == []


def test_export_names_the_extra_when_onnx_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name == "onnx" or name.startswith("onnx.")]:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import onnx` raise ImportError
    with pytest.raises(ImportError, match=r'pip install -e "\.\[onnx\]"'):
        export_onnx(mnist_like(), ("relu", "relu", "softmax"), tmp_path / "m.onnx")
    assert importlib.import_module("functional_nn").export_onnx is export_onnx  # the package itself needs no onnx


def internal(output: str = "output") -> str:
    """The values inside a 4-3-2 relu-softmax graph, as the refusal lists them: the layers' and
    the softmax's clip of its logits, named after the output."""
    clip = [f"{output}_{part}" for part in ("below_inf", "finite", "largest", "lowest")]
    return re.escape(repr(sorted(["A1", "W1", "W2", "Z1", "Z2", "b1", "b2", *clip])))


@pytest.mark.parametrize(
    ("names", "message"),
    [
        # the input would have replaced the initializer W1: a valid model computing something else
        ({"input_name": "W1"}, rf"input_name 'W1' is also the name of a value inside the graph, which uses {internal()}"),
        ({"input_name": "b1"}, rf"input_name 'b1' is also the name of a value inside the graph, which uses {internal()}"),
        ({"input_name": "A1"}, rf"input_name 'A1' is also the name of a value inside the graph, which uses {internal()}"),
        ({"input_name": "Z2"}, rf"input_name 'Z2' is also the name of a value inside the graph, which uses {internal()}"),
        ({"output_name": "Z1"}, rf"output_name 'Z1' is also the name of a value inside the graph, which uses {internal('Z1')}"),
        ({"output_name": "A1"}, rf"output_name 'A1' is also the name of a value inside the graph, which uses {internal('A1')}"),
        ({"output_name": "W2"}, rf"output_name 'W2' is also the name of a value inside the graph, which uses {internal('W2')}"),
        ({"output_name": "layer1"}, r"output_name 'layer1' would also name a node of the graph, whose nodes are named "
         r"\['A1', 'layer1', 'layer1_below_inf', 'layer1_finite', 'layer1_largest', 'layer1_lowest', 'layer2'\]"),
    ],
)
def test_input_and_output_names_used_inside_the_graph_are_refused(tmp_path: Path, names: dict[str, str], message: str) -> None:
    params = initialize_parameters([4, 3, 2], np.random.default_rng(0))
    with pytest.raises(ValueError, match=message):
        export_onnx(
            params, ("relu", "softmax"), tmp_path / "m.onnx",
            input_name=names.get("input_name", "X"), output_name=names.get("output_name", "output"),
        )  # fmt: skip
    assert not (tmp_path / "m.onnx").exists()


def test_names_made_from_the_output_name_are_internal_too(tmp_path: Path) -> None:
    # in float64, leaky_relu is Mul and Max through the values <output>_slope and <output>_scaled
    params = initialize_parameters([4, 3, 2], np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"input_name 'y_slope' is also the name of a value inside the graph, which uses \[.*'y_scaled', 'y_slope'\]"):
        export_onnx(params, ("relu", "leaky_relu"), tmp_path / "m.onnx", input_name="y_slope", output_name="y")
    # names that clash with nothing work, and the model computes the network
    path = export_onnx(params, ("relu", "leaky_relu"), tmp_path / "m.onnx", input_name="layer2", output_name="A2")
    X = np.random.default_rng(1).standard_normal((4, 6))
    np.testing.assert_allclose(run(path, np.ascontiguousarray(X.T), "layer2"), predict_proba(X, params, ("relu", "leaky_relu")).T, rtol=1e-12)


def test_a_missing_directory_is_named_not_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "m.onnx"
    with pytest.raises(FileNotFoundError, match=rf"^cannot write {target}: the directory {tmp_path / 'missing'} does not exist$"):
        export_onnx(mnist_like(), ("relu", "relu", "softmax"), target)


def test_a_target_atomic_write_would_refuse_is_refused_before_the_model_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # building the model starts with `import onnx`: made to fail, a refusal met must come first
    for name in [name for name in sys.modules if name == "onnx" or name.startswith("onnx.")]:
        monkeypatch.setitem(sys.modules, name, None)
    params = mnist_like()
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=rf"^cannot write {folder}: it is a directory$"):
        export_onnx(params, ("relu", "relu", "softmax"), folder)
    fifo = tmp_path / "fifo.onnx"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match=rf"^cannot write {fifo}: it is not a regular file"):
        export_onnx(params, ("relu", "relu", "softmax"), fifo)
    read_only = tmp_path / "read_only.onnx"
    read_only.write_bytes(b"an earlier model")
    read_only.chmod(0o444)
    with pytest.raises(PermissionError, match=rf"^cannot write {read_only}: the file is read-only"):
        export_onnx(params, ("relu", "relu", "softmax"), read_only)
    assert read_only.read_bytes() == b"an earlier model"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fifo.onnx", "folder.onnx", "read_only.onnx"]


def test_a_symbolic_link_is_followed_and_returned_as_given(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    link = tmp_path / "latest.onnx"
    link.symlink_to(tmp_path / "models" / "m.onnx")
    assert export_onnx(mnist_like(), ("relu", "relu", "softmax"), link) == link
    assert link.is_symlink() and onnx.load(str(tmp_path / "models" / "m.onnx")).graph.node[0].op_type == "Gemm"


def test_the_docstring_examples_pass_as_doctests() -> None:
    import doctest

    from functional_nn import onnx_export

    results = doctest.testmod(onnx_export)
    assert results.failed == 0
    # every example not marked +SKIP ran (onnxruntime's lines are; the export, onnx.load and
    # the reference evaluator's comparison with predict_proba are not), and there are some
    examples = [e for test in doctest.DocTestFinder().find(onnx_export) for e in test.examples]
    runnable = [e for e in examples if not e.options.get(doctest.SKIP, False)]
    # from Python 3.13 `attempted` counts the skipped examples too, and `skipped` says how many
    assert len(runnable) > 0 and results.attempted - getattr(results, "skipped", 0) == len(runnable)


def test_an_old_opset_works_for_the_activations_it_has(tmp_path: Path) -> None:
    params = mnist_like(np.float64)
    activations: tuple[Activation, ...] = ("leaky_relu", "sigmoid", "softmax")
    path = export_onnx(params, activations, tmp_path / "m.onnx", opset=9)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    X = np.random.default_rng(0).random((4, 12))
    np.testing.assert_allclose(run(path, X), predict_proba(X.T, params, activations).T, rtol=1e-12)


def test_train_mnist_writes_model_onnx_beside_params_npz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        train_mnist = importlib.import_module("train_mnist")
    finally:
        sys.path.pop(0)
    draw = np.random.default_rng(0)
    labels = np.arange(60) % 10
    pixels = draw.integers(0, 256, (60, 784))
    csv = tmp_path / "train.csv"
    csv.write_text("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n"
                   + "\n".join(",".join(map(str, [labels[j], *pixels[j]])) for j in range(60)) + "\n")  # fmt: skip
    out = tmp_path / "run"
    argv = ["--csv", str(csv), "--epochs", "1", "--hidden", "8", "--dev-size", "10", "--out", str(out), "--onnx"]
    assert train_mnist.main(argv) == 0
    assert "params.npz, model.onnx" in capsys.readouterr().out
    from functional_nn.serialization import load_parameters

    params, metadata, _ = load_parameters(out / "params.npz")
    X = (pixels[:5] / 255).astype(np.float32)
    probabilities = run(out / "model.onnx", X)
    np.testing.assert_allclose(probabilities, predict_proba(X.T, params, ("relu", "softmax")).T, rtol=1e-6, atol=1e-6)
    properties = {p.key: p.value for p in onnx.load(str(out / "model.onnx")).metadata_props}
    assert properties["input"] == metadata["input"] and properties["layer_sizes"] == "[784, 8, 10]"
    # Without onnx the script says so before training, in one line, with status 2.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "onnx", None)
        assert train_mnist.main([*argv[:-2], str(tmp_path / "no-onnx"), "--onnx"]) == 2
    assert capsys.readouterr().err == 'error: --onnx needs the onnx package: pip install -e ".[onnx]"\n'
    assert not (tmp_path / "no-onnx").exists()


def test_records_of_built_ins_export_and_user_defined_ones_are_refused(tmp_path: Path) -> None:
    params = mnist_like()
    records = (ACTIVATIONS["gelu"], ACTIVATIONS["silu"], ACTIVATIONS["softmax"])
    path = export_onnx(params, records, tmp_path / "m.onnx")
    model = onnx.load(str(path))
    assert {p.key: p.value for p in model.metadata_props}["activations"] == '["gelu", "silu", "softmax"]'
    by_name = onnx.load(str(export_onnx(params, ("gelu", "silu", "softmax"), tmp_path / "by_name.onnx")))
    assert [node.op_type for node in model.graph.node] == [node.op_type for node in by_name.graph.node]
    # silu's sigmoid written as functional_nn.activations computes it, not ONNX's Sigmoid (see test_onnx_tails)
    assert [node.op_type for node in model.graph.node if node.op_type in ("Gemm", "Gelu", "Sigmoid", "Softmax")] == [
        "Gemm", "Gelu", "Gemm", "Gemm", "Softmax"
    ]  # fmt: skip
    X = np.random.default_rng(0).random((3, 12), dtype=np.float32)
    np.testing.assert_allclose(run(path, X), predict_proba(X.T, params, records).T, rtol=1e-6, atol=1e-6)

    mine = SOFTSIGN
    with pytest.raises(UnsupportedActivationError, match="activations\\[1\\] 'softsign' is a user-defined activation"):
        export_onnx(params, ("relu", mine, "softmax"), tmp_path / "mine.onnx")
    with pytest.raises(UnsupportedActivationError, match="activations\\[0\\] 'gelu' needs opset >= 20, got opset=19"):
        export_onnx(params, ("gelu", "relu", "softmax"), tmp_path / "mine.onnx", opset=19)
    assert not (tmp_path / "mine.onnx").exists()
    assert set(ONNX_ACTIVATIONS) == set(ACTIVATIONS)  # every built-in has an ONNX form


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_that_overflowed_give_softmaxs_limits_as_predict_proba_does(tmp_path: Path, dtype: type[np.floating]) -> None:
    # ONNX's Softmax alone gives NaN for a row holding +-inf; the export clips the logits first
    big = np.finfo(dtype).max
    params = {"W1": np.array([[big], [big / 4], [big / 2]], dtype), "b1": np.array([[0], [-big], [0]], dtype)}
    X = np.array([[4.0, -4.0, 1.0, -1.0, 1e-30]], dtype)  # logits (inf, 0, inf), (-inf, -inf, -inf), then finite ones
    path = export_onnx(params, ("softmax",), tmp_path / "m.onnx")
    with np.errstate(over="ignore"):  # the product itself overflows, on purpose
        expected = predict_proba(X, params, ("softmax",)).T
    third = dtype(1) / dtype(3)
    np.testing.assert_array_equal(expected[:2], np.array([[0.5, 0, 0.5], [third, third, third]], dtype))
    got = run(path, X.T.copy())
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)  # the finite rows too: the clip leaves them as they are


def test_softplus_far_below_zero_keeps_its_relative_accuracy(tmp_path: Path) -> None:
    # log(1 + e) for e = exp(-30) and smaller: Log(1 + e) alone loses most digits there (5.6%
    # at z = -30), Goldberg's form keeps a few roundings, as np.log1p does
    params = {"W1": np.eye(3), "b1": np.zeros((3, 1))}
    X = np.array([[-30.0, -20.0, -35.0], [-25.0, -33.0, -38.0], [-1.0, 0.0, 40.0]]).T  # (3 features, 3 samples)
    path = export_onnx(params, ("softplus",), tmp_path / "m.onnx")
    expected = np.log1p(np.exp(-np.abs(X.T))) + np.maximum(X.T, 0)
    np.testing.assert_allclose(run(path, np.ascontiguousarray(X.T)), expected, rtol=1e-14, atol=0)
