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
from functional_nn.data import minibatches, one_hot
from functional_nn.gradient_check import gradient_check, numerical_gradient
from functional_nn.initializers import INIT_SCHEMES, initialize_parameters
from functional_nn.losses import LOSSES, compute_cost
from functional_nn.metrics import accuracy
from functional_nn.optimizers import Optimizer, OptimizerState, sgd, update_parameters
from functional_nn.propagation import backward_propagation, forward_propagation, predict, predict_proba
from functional_nn.training import (
    EpochRecord,
    TrainingDivergedError,
    TrainResult,
    TrainState,
    train,
    train_epochs,
)
from functional_nn.types import (
    Activation,
    Caches,
    FloatArray,
    Grads,
    InitScheme,
    IntArray,
    LayerCache,
    Loss,
    Params,
)

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "INIT_SCHEMES",
    "LOSSES",
    "Activation",
    "Caches",
    "EpochRecord",
    "FloatArray",
    "Grads",
    "InitScheme",
    "IntArray",
    "LayerCache",
    "Loss",
    "Optimizer",
    "OptimizerState",
    "Params",
    "TrainResult",
    "TrainState",
    "TrainingDivergedError",
    "__version__",
    "accuracy",
    "backward_propagation",
    "compute_cost",
    "forward_propagation",
    "gradient_check",
    "initialize_parameters",
    "minibatches",
    "numerical_gradient",
    "one_hot",
    "predict",
    "predict_proba",
    "sgd",
    "train",
    "train_epochs",
    "update_parameters",
]
