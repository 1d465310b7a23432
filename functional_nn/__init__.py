"""functional_nn: a purely functional, fully typed NumPy multilayer perceptron.

Samples are columns: ``X`` is ``(n_0, m)``, ``W_l`` is ``(n_l, n_{l-1})``, ``b_l`` is ``(n_l, 1)``.
Four pure functions pass parameter dicts and caches between each other::

    params = initialize_parameters([784, 10, 10], np.random.default_rng(0))
    AL, caches = forward_propagation(X, params, ("relu", "softmax"))
    grads = backward_propagation(AL, Y, caches, "categorical_cross_entropy")
    params = update_parameters(params, grads, learning_rate=0.1)

and ``train`` folds them over epochs and mini-batches.
"""

from functional_nn.activations import ACTIVATIONS
from functional_nn.data import (
    MNIST,
    MNISTPixels,
    TOY_DATASETS,
    ChecksumError,
    DatasetUnavailableError,
    DigitImages,
    ImageFolder,
    SkippedFile,
    Split,
    ToyDataset,
    blob_centers,
    data_dir,
    load_digits_csv,
    load_idx,
    load_idx_digits,
    load_image_folder,
    load_mnist,
    load_mnist_pixels,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    minibatches,
    one_hot,
    scale_pixels,
    train_dev_split,
)
from functional_nn.averaging import averaged_params, ema
from functional_nn.data.augmentation import Augmentation, compose, elastic_distortion, random_affine, random_shift
from functional_nn.data.images import Color
from functional_nn.data.toy import ToyName
from functional_nn.fold_state import (
    BatchProgress,
    EarlyStopping,
    EpochRecord,
    Monitor,
    Observer,
    StepView,
    TrainResult,
    TrainState,
)
from functional_nn.diagnostics import LayerStatistics, StepStatistics, layer_statistics, layer_statistics_observer
from functional_nn.fused import Kernel
from functional_nn.gradient_check import (
    RecordCheckError,
    check_activation,
    check_loss,
    gradient_check,
    numerical_gradient,
)
from functional_nn.initializers import INIT_SCHEMES, initialize_parameters
from functional_nn.losses import LOSSES, compute_cost
from functional_nn.metrics import (
    Average,
    accuracy,
    confusion_matrix,
    f1_score,
    log_loss,
    precision,
    recall,
)
from functional_nn.onnx_export import UnsupportedActivationError, export_onnx  # onnx is imported when called
from functional_nn.optimizers import (
    LearningRate,
    Optimizer,
    OptimizerState,
    adam,
    adamw,
    apply_max_norm,
    clip_by_global_norm,
    global_norm,
    momentum,
    rmsprop,
    sgd,
    update_parameters,
)
from functional_nn.propagation import (
    backward_propagation,
    forward_propagation,
    predict,
    predict_proba,
)
from functional_nn.schedules import (
    Schedule,
    constant,
    cosine_decay,
    exponential_decay,
    step_decay,
)
from functional_nn.serialization import (
    SavedParameters,
    load_parameters,
    save_parameters,
)
from functional_nn.training import TrainingDivergedError, train, train_epochs
from functional_nn.types import (
    Activation,
    ActivationFunction,
    Caches,
    FloatArray,
    Grads,
    InitScheme,
    IntArray,
    LayerCache,
    Loss,
    LossFunction,
    Params,
)

__version__ = "0.1.0"

__all__ = [  # augmentation and averaging (#13) first, kept together for easy merges
    "Augmentation",
    "compose",
    "elastic_distortion",
    "random_affine",
    "random_shift",
    "averaged_params",
    "ema",
    "ACTIVATIONS",
    "Activation",
    "ActivationFunction",
    "Average",
    "BatchProgress",
    "Caches",
    "ChecksumError",
    "Color",
    "DatasetUnavailableError",
    "DigitImages",
    "EarlyStopping",
    "EpochRecord",
    "FloatArray",
    "Grads",
    "INIT_SCHEMES",
    "ImageFolder",
    "InitScheme",
    "IntArray",
    "Kernel",
    "LOSSES",
    "LayerCache",
    "LayerStatistics",
    "LearningRate",
    "Loss",
    "LossFunction",
    "MNIST",
    "MNISTPixels",
    "Monitor",
    "Observer",
    "Optimizer",
    "OptimizerState",
    "Params",
    "RecordCheckError",
    "SavedParameters",
    "Schedule",
    "SkippedFile",
    "Split",
    "StepStatistics",
    "StepView",
    "TOY_DATASETS",
    "ToyDataset",
    "ToyName",
    "TrainResult",
    "TrainState",
    "TrainingDivergedError",
    "UnsupportedActivationError",
    "__version__",
    "accuracy",
    "adam",
    "adamw",
    "apply_max_norm",
    "backward_propagation",
    "blob_centers",
    "check_activation",
    "check_loss",
    "clip_by_global_norm",
    "compute_cost",
    "confusion_matrix",
    "constant",
    "cosine_decay",
    "data_dir",
    "exponential_decay",
    "export_onnx",
    "f1_score",
    "forward_propagation",
    "global_norm",
    "gradient_check",
    "initialize_parameters",
    "layer_statistics",
    "layer_statistics_observer",
    "load_digits_csv",
    "load_idx",
    "load_idx_digits",
    "load_image_folder",
    "load_mnist",
    "load_mnist_pixels",
    "load_parameters",
    "log_loss",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "minibatches",
    "momentum",
    "numerical_gradient",
    "one_hot",
    "precision",
    "predict",
    "predict_proba",
    "recall",
    "rmsprop",
    "save_parameters",
    "scale_pixels",
    "sgd",
    "step_decay",
    "train",
    "train_dev_split",
    "train_epochs",
    "update_parameters",
]
