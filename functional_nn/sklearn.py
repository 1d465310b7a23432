"""scikit-learn estimators over the functional core: ``MLPClassifier`` and ``MLPRegressor``.

Each estimator is a thin shell, as LightGBM's and XGBoost's ``sklearn.py`` are over their
``train``: ``__init__`` stores the settings as given, ``fit`` validates them and the data,
transposes the data once from scikit-learn's rows to the core's columns, and calls
``initialize_parameters`` and ``train``; ``X`` is taken in C order (row-major), whose
transpose is the core's sample-per-contiguous-column layout, so a Fortran-ordered ``X`` (as
``DataFrame.to_numpy()`` may give) is copied once, as is one of another dtype than
``dtype``; ``predict_proba`` and ``predict`` call the core's ``predict_proba``. The result
of training lives in attributes with a trailing underscore: ``params_`` (the core's
parameter dict, columns convention), ``activations_``,
``optimizer_state_``, ``history_`` (one ``EpochRecord`` per epoch), ``n_iter_``, ``t_``,
``n_features_in_``, ``rng_`` (the generator training drew from), and ``classes_`` for the
classifier. There is no training logic here: what the estimators learn is what ``train``
learns from the same parameters, data and draws (with ``optimizer="lbfgs"``, what
``functional_nn.lbfgs.train_lbfgs`` learns from the same parameters and data).

Continuing a run keeps everything the fold carries: ``partial_fit`` runs exactly one epoch
and ``fit`` with ``warm_start=True`` runs ``epochs`` more, both from the trained parameters
(``params_``; with an ``ema`` optimizer ``params_`` is their average, and training goes on
from the weights averaged), ``optimizer_state_`` (Adam's moments and step, a schedule's
position) and ``rng_``. So two ``partial_fit`` calls give bit for bit the parameters of one
``fit`` with ``epochs=2``. An ``optimizer`` that cannot continue the fitted state (``"sgd"``
after ``"adam"``: it keeps no moments) is refused before training, naming the setting.

Needs scikit-learn: ``pip install -e ".[sklearn]"``.

Random draws, in order, from ``np.random.default_rng(random_state)`` on a first fit: the
initial parameters, the early-stopping split's seed (with ``early_stopping``), then
``train``'s draws (a permutation per epoch, dropout masks). A continued fit draws no new split
seed once one was drawn: given the same data, it holds out the same samples as the fit it
continues, never ones that fit trained on.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar, get_args

import numpy as np
import numpy.typing as npt

try:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as error:  # pragma: no cover - exercised by tests that hide scikit-learn or a part of it
    if importlib.util.find_spec("sklearn") is None:  # not installed
        raise ImportError(
            'functional_nn.sklearn needs scikit-learn, which is not installed: pip install -e ".[sklearn]"'
        ) from error
    # installed, but older than 1.6 (no validate_data) or broken: saying "not installed" would mislead
    raise ImportError(
        f'functional_nn.sklearn needs scikit-learn 1.6 or later; importing the installed one failed ({error}): pip install -e ".[sklearn]"'
    ) from error

if TYPE_CHECKING:
    # scikit-learn ships no type information, so its classes are Any to a type checker, and
    # so would every attribute of an estimator built on them be: a misspelt ``clf.paramz_`` or
    # ``clf.fitt(X, y)`` would pass, and ``score`` would return Any. The checker sees these
    # stand-ins instead: what the estimators get from scikit-learn's bases, typed, with
    # scikit-learn's parameters and defaults (tests/test_plots_and_estimators.py compares
    # them with the real classes). At runtime the real classes are used.
    from typing_extensions import Self

    class BaseEstimator:
        def get_params(self, deep: bool = True) -> dict[str, Any]: ...
        def set_params(self, **params: Any) -> Self: ...
        def get_metadata_routing(self) -> Any: ...
        def __sklearn_tags__(self) -> Any: ...
        def __setstate__(self, state: dict[str, Any]) -> None: ...

    class ClassifierMixin:
        def score(self, X: Any, y: Any, sample_weight: Any = None) -> float: ...
        def set_score_request(self, *, sample_weight: bool | str | None = "$UNCHANGED$") -> Self: ...

    class RegressorMixin:
        def score(self, X: Any, y: Any, sample_weight: Any = None) -> float: ...
        def set_score_request(self, *, sample_weight: bool | str | None = "$UNCHANGED$") -> Self: ...

    _Method = TypeVar("_Method", bound=Callable[..., Any])

    def _stochastic_only(method: _Method) -> _Method: ...

else:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.metaestimators import available_if

    def _refuse_lbfgs(estimator: Any) -> bool:
        """``partial_fit``'s condition: an estimator set to ``optimizer="lbfgs"`` has none, as
        scikit-learn's MLP has none with ``solver="lbfgs"`` (``hasattr`` is then false)."""
        if isinstance(estimator.optimizer, str) and estimator.optimizer == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for the optimizers that step on batches, not optimizer='lbfgs', "
                "which minimises the cost of all the data at once (scikit-learn's MLP has no partial_fit with "
                "solver='lbfgs' either): use fit (warm_start=True continues the fitted network), or another optimizer"
            )
        return True

    _stochastic_only = available_if(_refuse_lbfgs)

from functional_nn import _validation as check
from functional_nn.activations import resolve_activation
from functional_nn.averaging import averaged_params
from functional_nn.data.preparation import one_hot
from functional_nn.fold_state import EarlyStopping, EpochRecord, TrainResult
from functional_nn.initializers import check_scheme, initialize_parameters
from functional_nn.lbfgs import train_lbfgs
from functional_nn.optimizers import (
    LearningRate,
    Optimizer,
    OptimizerState,
    _check_learning_rate,
    adam,
    adamw,
    momentum,
    rmsprop,
    sgd,
    slot_names,
)
from functional_nn.propagation import PREDICT_CHUNK, check_keep_probs, check_softmax_units, forward_output
from functional_nn.propagation import predict_proba as network_output
from functional_nn.sample_weights import Weights, check_sample_weight, weighted_mean
from functional_nn.training import DivergenceWords, TrainingDivergedError, train, train_epochs
from functional_nn.types import Activation, ActivationFunction, BoolArray, FloatArray, FloatDType, FloatDTypeLike, InitScheme, Loss

__all__ = ["DTypeName", "MLPClassifier", "MLPRegressor", "OPTIMIZER_NAMES", "OptimizerName"]

_StepOptimizerName: TypeAlias = Literal["adam", "adamw", "sgd", "momentum", "nesterov", "rmsprop"]
OptimizerName: TypeAlias = Literal[_StepOptimizerName, "lbfgs"]
"""The optimizers by name: those that step on batches, with ``learning_rate``, and ``"lbfgs"``
(``functional_nn.lbfgs.train_lbfgs``, full batch, no learning rate)."""
OPTIMIZER_NAMES: Final[tuple[OptimizerName, ...]] = get_args(OptimizerName)
DTypeName: TypeAlias = Literal["float64", "float32"]
"""The estimators' ``dtype`` by name: annotate a variable holding one with it (mypy widens a plain one to str)."""
_DTYPES: Final[dict[str, FloatDType]] = {"float32": np.float32, "float64": np.float64}
_HiddenLayerSizes: TypeAlias = int | Sequence[int] | npt.NDArray[np.integer[Any]]
_RandomState: TypeAlias = (
    int | np.random.Generator | np.random.SeedSequence | np.random.BitGenerator | np.random.RandomState | None
)


def _make_optimizer(name: _StepOptimizerName, learning_rate: LearningRate) -> Optimizer:
    match name:
        case "adam":
            return adam(learning_rate)
        case "adamw":
            return adamw(learning_rate)
        case "sgd":
            return sgd(learning_rate)
        case "momentum":
            return momentum(learning_rate)
        case "nesterov":
            return momentum(learning_rate, nesterov=True)
        case "rmsprop":
            return rmsprop(learning_rate)


def _made_from(X: FloatArray, given: object) -> bool:
    """Whether ``validate_data`` made ``X`` anew from ``given`` (converting its dtype or order, or
    reading a list or a DataFrame), so that nothing else holds ``X``: an array the caller passed,
    or a view of one or of a DataFrame's columns, is theirs, and an object's ``__array__`` may hand
    out an array it keeps, so only those are taken as new."""
    if not (X.flags.owndata and X.flags.writeable) or X is given:
        return False
    if isinstance(given, np.ndarray):
        return not np.may_share_memory(X, given)
    pandas = sys.modules.get("pandas")
    return isinstance(given, (list, tuple)) or (pandas is not None and isinstance(given, pandas.DataFrame))


def _refuse_columns(X: Any, y: Any, error: ValueError) -> None:
    """Name the likely cause when ``validate_data`` refused ``X`` and ``y`` whose sample counts
    differ while ``X``'s columns match ``y``: ``X`` in the core's layout, a sample per column."""
    try:  # a ragged list, say, has no shape: then validate_data's error stands
        shape, n_y = np.shape(X), np.shape(y)[:1]
    except (TypeError, ValueError):
        return
    if len(shape) == 2 and n_y and shape[0] != n_y[0] == shape[1]:
        raise ValueError(
            f"X has {shape[0]} rows but y has {n_y[0]} samples, as many as X has columns: the estimators take "
            f"X as scikit-learn does, a sample per row, (n_samples, n_features); pass X.T for X of the core's "
            f"(n_features, m), a sample per column"
        ) from error


def _rows_moved_up(X: FloatArray, rows: npt.NDArray[np.intp], block: int = 1024) -> FloatArray:
    """``X[rows]`` for increasing ``rows``, made by moving those rows up within ``X`` (which it
    overwrites) a block at a time: row ``rows[j] >= j`` goes to ``j`` and is read before any row
    at or above ``j`` is written, so memory holds one block of rows more than ``X``, not a copy."""
    for start in range(0, rows.shape[0], block):
        taken = rows[start : start + block]
        X[start : start + taken.shape[0]] = X[taken]
    return X[: rows.shape[0]]


def _weights(sample_weight: Any, X: FloatArray) -> Weights | None:
    """``fit``'s ``sample_weight`` as float64 weights ``(n_samples,)``, or ``None``, checked by
    scikit-learn's own ``_check_sample_weight`` as its MLP checks them (a list, a pandas Series,
    a number for every sample; of one weight per row of ``X``, finite, not all 0), and refused
    when negative, as scikit-learn refuses negative weights where it checks them. Then checked
    whole as ``train`` checks them (a NaN or infinite number for every sample, a sum beyond
    float64's range), before the early-stopping split: each part's sum is then finite too, and
    an error names ``sample_weight``, not the held-out part's ``dev_sample_weight``. Never
    written: ``train`` copies the weights it keeps, as the early-stopping split does."""
    if sample_weight is None:
        return None
    weights: Weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    return check_sample_weight("sample_weight", weights, X.shape[0], f"X's {X.shape[0]} rows")


def _own(params: dict[str, FloatArray]) -> dict[str, FloatArray]:
    """``params`` with a copy of each read-only array (an ``ema`` state's average): ``params_``
    are the estimator's own, writable as they are with any other optimizer, and writing them
    leaves ``optimizer_state_`` as it was."""
    return {key: value if value.flags.writeable else value.copy() for key, value in params.items()}


_SKLEARN_NAMES: Final[dict[str, str]] = {
    "max_iter": "use epochs (passes over the data per fit, all of them run unless early_stopping ends the fit)",
    "learning_rate_init": "use learning_rate (the step size, a number or a schedule)",
    "solver": (
        "use optimizer ('adam', 'sgd', 'momentum', 'nesterov', 'lbfgs', ...; scikit-learn's solver='sgd' has Nesterov "
        "momentum 0.9 by default: optimizer='nesterov'; its 'lbfgs' is optimizer='lbfgs', with epochs as max_iter)"
    ),
    "momentum": "use optimizer=functional_nn.momentum(learning_rate, beta=...) (or optimizer='momentum', beta 0.9)",
    "nesterovs_momentum": "use optimizer='nesterov' (or optimizer=functional_nn.momentum(learning_rate, nesterov=True))",
    "beta_1": "use optimizer=functional_nn.adam(learning_rate, beta1=...)",
    "beta_2": "use optimizer=functional_nn.adam(learning_rate, beta2=...)",
    "epsilon": "use optimizer=functional_nn.adam(learning_rate, epsilon=...)",
    "power_t": "use learning_rate=a schedule from functional_nn.schedules (step_decay, exponential_decay, cosine_decay)",
    "shuffle": "drop it: the estimators always shuffle, a new permutation each epoch drawn from random_state",
    "verbose": "drop it: the estimators print nothing; each epoch's figures are in history_ (and loss_curve_)",
    "max_fun": (
        "drop it: optimizer='lbfgs' keeps scikit-learn's default, 15000 evaluations of the cost; "
        "functional_nn.lbfgs.train_lbfgs(..., max_fun=...) takes another"
    ),
    "loss": (
        "drop it: the classifier minimises the cross-entropy and the regressor the squared error; "
        "scikit-learn's loss='poisson' has no counterpart here"
    ),
}
"""scikit-learn's own MLP parameters that these estimators name otherwise or lack, with what to use instead."""


class _RefusesScikitLearnNames:
    """A base placed after ``BaseEstimator``, whose ``__new__`` sees the keyword arguments before
    ``__init__`` does. Defined here, not on ``_BaseMLP``: ``inspect.signature`` of a class takes
    the first ``__new__`` or ``__init__`` along the MRO, so the estimators' signature stays
    ``_BaseMLP.__init__``'s, the one scikit-learn's checks and ``help`` read (and type checkers
    still refuse ``max_iter=``)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """Refuse scikit-learn's own MLP parameters that are named otherwise here (``max_iter``,
        ``solver``, ...), naming the setting to use: Python's TypeError for an unexpected
        keyword argument names neither. Any other unknown name gets Python's own error from
        ``__init__``. A name a subclass's own ``__init__`` takes (a ``verbose`` setting of its
        own, say) is that subclass's parameter, and is passed on."""
        refusal = _scikit_learn_names_refused(cls, kwargs)
        if refusal is not None:
            raise TypeError(refusal)
        return super().__new__(cls)

    if sys.version_info < (3, 11):
        # Python 3.10's inspect.signature takes an inherited __new__ before an inherited
        # __init__: help(MLPClassifier) would show (*args, **kwargs). Each class states its own.
        def __init_subclass__(cls, **kwargs: Any) -> None:
            super().__init_subclass__(**kwargs)
            init = inspect.signature(cls.__init__)
            setattr(cls, "__signature__", init.replace(parameters=list(init.parameters.values())[1:]))


def _scikit_learn_names_refused(cls: type[_RefusesScikitLearnNames], names: Iterable[str]) -> str | None:
    """The message refusing those of ``names`` that are scikit-learn's MLP parameters named
    otherwise here, with the setting to use for each; ``None`` if there are none."""
    known = [name for name in names if name in _SKLEARN_NAMES]
    if known:  # only then, as the signature costs more than the check
        own = inspect.signature(cls.__init__).parameters
        known = [name for name in known if name not in own]
    if not known:
        return None
    hints = "; ".join(f"{name}: {_SKLEARN_NAMES[name]}" for name in known)
    return f"{cls.__name__} got scikit-learn's parameter{'s' if len(known) > 1 else ''} {', '.join(known)}, not among its own: {hints}"


class _BaseMLP(BaseEstimator, _RefusesScikitLearnNames):
    """The settings and the fit shared by both estimators; see ``MLPClassifier``."""

    _output_activation: Activation
    _loss: Loss
    # The settings, as __init__ stores them, declared with its parameters' types: inferred from
    # the assignments, pyright (Pylance) widened the Literals to str, so that a user's
    # MLPClassifier(init=clf.init) was an error there though mypy passed it.
    hidden_layer_sizes: _HiddenLayerSizes
    activation: Activation | ActivationFunction
    optimizer: OptimizerName | Optimizer
    learning_rate: LearningRate
    batch_size: int | None
    epochs: int
    alpha: float
    dropout: float
    init: InitScheme
    early_stopping: bool
    validation_fraction: float
    n_iter_no_change: int
    tol: float
    warm_start: bool
    random_state: _RandomState
    dtype: DTypeName | FloatDTypeLike
    # Learned in fit (declared for the type checker; absent until then).
    params_: dict[str, FloatArray]
    activations_: tuple[Activation | ActivationFunction, ...]
    optimizer_state_: OptimizerState
    history_: tuple[EpochRecord, ...]
    n_iter_: int
    n_features_in_: int
    feature_names_in_: npt.NDArray[np.object_]  # only after a fit on a DataFrame whose column names are strings
    rng_: np.random.Generator
    _fitted_optimizer: str  # the optimizer setting optimizer_state_ belongs to, as _check_same_optimizer names it
    _trained_params: dict[str, FloatArray]  # the parameters a continued fit starts from: params_ but for ema's average
    _split_seed: int | None  # the early-stopping split's seed, which a continued fit reuses; None before a split
    _best_epoch: int | None  # the epoch of history_ params_ are of when the last fit stopped early, else None
    _samples_seen: int | None  # t_: samples trained on since the network was initialised; None: pickled before it was counted
    # validation_scores_: one per epoch of history_ (None for an epoch that held no samples out); None as a
    # whole: unknown, an MLPRegressor pickled with early stopping before its R^2 scores were kept
    _validation_scores: tuple[float | None, ...] | None

    def __init__(
        self,
        hidden_layer_sizes: _HiddenLayerSizes = (100,),
        activation: Activation | ActivationFunction = "relu",
        *,
        optimizer: OptimizerName | Optimizer = "adam",
        learning_rate: LearningRate = 1e-3,
        batch_size: int | None = 200,
        epochs: int = 200,
        alpha: float = 1e-4,
        dropout: float = 0.0,
        init: InitScheme = "he",
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        warm_start: bool = False,
        random_state: _RandomState = None,
        dtype: DTypeName | FloatDTypeLike = "float64",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.alpha = alpha
        self.dropout = dropout
        self.init = init
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.dtype = dtype

    # -- settings -------------------------------------------------------------------------

    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes: object = self.hidden_layer_sizes
        if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
            sizes = (sizes,)
        if isinstance(sizes, np.ndarray):  # as scikit-learn's own MLP takes, e.g. from a grid
            if sizes.ndim != 1 or sizes.dtype.kind not in "iu":
                raise TypeError(f"hidden_layer_sizes as an array must be 1-d of integers, got shape {sizes.shape} dtype {sizes.dtype}")
            sizes = sizes.tolist()
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
            raise TypeError(f"hidden_layer_sizes must be a sequence of ints such as (100,), got {sizes!r}")
        return tuple(check.check_positive_int(f"hidden_layer_sizes[{i}]", n) for i, n in enumerate(sizes))

    def _float_dtype(self) -> FloatDType:
        given: object = self.dtype
        if isinstance(given, str) and given in _DTYPES:
            return _DTYPES[given]
        if isinstance(given, (type, np.dtype)) and given in (np.float32, np.float64):  # the type or its numpy.dtype
            return np.dtype(given).type
        raise TypeError(f"dtype must be 'float64' or 'float32' (or numpy.float64, numpy.float32), got {given!r}")

    def _activations(self, n_hidden: int) -> tuple[Activation | ActivationFunction, ...]:
        resolve_activation("activation", self.activation)  # checked here to name the setting; passed on as given
        hidden: Activation | ActivationFunction = self.activation
        return (hidden,) * n_hidden + (self._output_activation,)

    def _optimizer(self) -> Optimizer | None:
        """The optimizer of the settings; ``None`` for ``"lbfgs"``, which is no ``Optimizer``
        (``train_lbfgs`` runs scipy's L-BFGS-B) and takes no ``learning_rate``."""
        given: object = self.optimizer
        if isinstance(given, Optimizer):
            return given
        if isinstance(given, str):
            name = check.check_name("optimizer", given, OPTIMIZER_NAMES)
            if isinstance(self.learning_rate, str):  # scikit-learn's learning_rate names a schedule, its step is learning_rate_init
                raise TypeError(
                    f"learning_rate must be a number or a schedule (the step size: scikit-learn's learning_rate_init), "
                    f"got str {self.learning_rate!r}; for scikit-learn's learning_rate='invscaling' or 'adaptive' pass a "
                    "schedule from functional_nn.schedules (step_decay, exponential_decay, cosine_decay)"
                )
            if name == "lbfgs":  # unused, but checked as scikit-learn checks learning_rate_init whatever the solver
                _check_learning_rate(self.learning_rate)
                return None
            return _make_optimizer(name, self.learning_rate)
        raise TypeError(f"optimizer must be one of {list(OPTIMIZER_NAMES)} or an Optimizer such as adam(1e-3), got {given!r}")

    def _keep_probs(self, n_hidden: int) -> float | None:
        dropout = check.check_positive_float("dropout", self.dropout, allow_zero=True)
        if dropout >= 1:
            raise ValueError(f"dropout must be in [0, 1): the probability of dropping a hidden unit, got {dropout}")
        if dropout == 0:
            return None
        if n_hidden == 0:  # train would take it and drop nothing: there is no hidden unit
            raise ValueError(
                f"dropout={dropout} drops hidden units, but hidden_layer_sizes={self.hidden_layer_sizes!r} gives the "
                "network no hidden layer: set dropout=0.0 (no dropout), or give hidden_layer_sizes a layer such as (100,)"
            )
        try:  # train's own check, in the estimator's terms: train would name keep_probs[0], never given here
            check_keep_probs(1.0 - dropout, 2)
        except ValueError as error:
            raise ValueError(f"dropout={dropout} keeps each hidden unit with probability {1.0 - dropout:g}: {error}") from error
        return 1.0 - dropout

    def _warm_start(self) -> bool:
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise TypeError(f"warm_start must be a bool, got {self.warm_start!r}")
        return bool(self.warm_start)

    def _early_stopping(self) -> EarlyStopping | None:
        """The early-stopping rule, or ``None`` without ``early_stopping``.

        ``validation_fraction``, ``n_iter_no_change`` and ``tol`` are checked either way, as
        scikit-learn's own estimators check every parameter in ``fit``: a bad value is refused
        when it is set, not later when ``early_stopping`` is turned on.
        """
        if not isinstance(self.early_stopping, (bool, np.bool_)):
            raise TypeError(f"early_stopping must be a bool, got {self.early_stopping!r}")
        fraction = check.check_positive_float("validation_fraction", self.validation_fraction)
        if fraction >= 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {fraction}")
        patience = check.check_positive_int("n_iter_no_change", self.n_iter_no_change)
        tol = check.check_positive_float("tol", self.tol, allow_zero=True)
        return EarlyStopping(patience, "dev_cost", tol) if self.early_stopping else None

    def _generator(self) -> np.random.Generator:
        seed: object = self.random_state
        if isinstance(seed, np.random.RandomState):  # scikit-learn's legacy generator: draw a seed from it
            seed = int(seed.randint(np.iinfo(np.int32).max))
        if seed is not None and not isinstance(
            seed, (int, np.integer, np.random.Generator, np.random.SeedSequence, np.random.BitGenerator)
        ):
            raise TypeError(
                "random_state must be None, an int or a numpy.random.Generator (or a SeedSequence, BitGenerator "
                f"or RandomState to make one from), got {seed!r}"
            )
        if isinstance(seed, (int, np.integer)) and seed < 0:
            raise ValueError(f"random_state must be an int >= 0 (a seed), got {seed}")
        return np.random.default_rng(seed)

    # -- what the subclasses define -------------------------------------------------------

    def _targets(self, y: Any, first: bool, classes: Any = None, *, whole: bool = False) -> FloatArray:
        """The targets as columns ``(n_L, m)`` in the network's dtype; on a first fit, learns
        what the output layer needs (classes, number of outputs). ``whole``: a warm-started
        ``fit`` (not ``partial_fit``), whose data must hold every fitted class."""
        raise NotImplementedError

    def _n_outputs(self) -> int:
        raise NotImplementedError

    def _multi_output(self, y: Any) -> bool:
        """Whether ``validate_data`` is to keep ``y`` 2-D (several outputs, or labels)."""
        return True

    def _strata(self, y: Any) -> Any:
        """The labels the early-stopping split is stratified by, or ``None`` for a split at random."""
        return None

    def _validation_score(self, Y: FloatArray, AL: FloatArray, weights: Weights | None) -> float:
        """The held-out score of the outputs ``AL`` for the targets ``Y``, both ``(n_L, m)``,
        weighted by ``weights`` ``(m,)`` when given, as scikit-learn's ``_score`` scores its
        held-out samples: by ``predict``'s own rule."""
        raise NotImplementedError

    def _train(
        self, X: FloatArray, Y: FloatArray, params: dict[str, FloatArray], dev: tuple[FloatArray, FloatArray] | None,
        **settings: Any,
    ) -> tuple[TrainResult, tuple[float | None, ...]]:
        """``train``'s result and each epoch's validation score (``validation_scores_``), ``None``
        for an epoch that held no samples out: with held-out samples, ``_validation_score`` of
        their outputs under the parameters the epoch's dev cost is of (with ``ema``, their
        average), weighted by ``dev_sample_weight`` when given. Computed here, as
        scikit-learn's MLP scores them with its ``predict``, rather than taken from ``train``'s
        ``dev_accuracy``: the core counts a probability of exactly 0.5 as class 1, the
        estimators' ``predict`` (scikit-learn's ``LabelBinarizer`` threshold) as class 0."""
        if dev is None:
            result = train(X, Y, params, **settings)
            return result, (None,) * len(result.history)
        X_dev, Y_dev = dev
        dev_weights: Weights | None = settings["dev_sample_weight"]
        records = [resolve_activation("activation", a) for a in settings["activations"]]
        scores: list[float | None] = []
        for result in train_epochs(X, Y, params, dev=dev, **settings):  # the fold train runs, one epoch at a time
            with np.errstate(under="ignore"):  # as the dev cost's forward pass
                AL = forward_output(X_dev, averaged_params(result.optimizer_state, result.params), records)
            scores.append(self._validation_score(Y_dev, AL, dev_weights))
        return result, tuple(scores)

    # -- fitting --------------------------------------------------------------------------

    def _fit(self, X: Any, y: Any, *, incremental: bool, classes: Any = None, sample_weight: Any = None) -> _BaseMLP:
        warm_start = self._warm_start()
        first = not hasattr(self, "params_") or (not warm_start and not incremental)
        hidden = self._hidden_sizes()
        dtype = self._float_dtype()
        resolve_activation("activation", self.activation)  # checked before the data; the output's comes with y
        optimizer = self._optimizer()  # None: L-BFGS
        keep_probs = self._keep_probs(len(hidden))
        if optimizer is None and keep_probs is not None:
            raise ValueError(
                f"dropout={self.dropout} draws new masks at every evaluation, but optimizer='lbfgs' needs the same cost "
                "at the same weights (its line search compares them): set dropout=0.0, or choose another optimizer"
            )
        early_stopping = self._early_stopping()
        init = check_scheme("init", self.init)
        epochs = check.check_positive_int("epochs", self.epochs)
        if incremental:  # one epoch without early stopping, but settings partial_fit ignores are still checked
            early_stopping, epochs = None, 1
        if optimizer is None:  # checked above, ignored by L-BFGS as by scikit-learn's solver='lbfgs'
            early_stopping = None
        if isinstance(self.batch_size, str) and self.batch_size == "auto":
            raise TypeError(
                "batch_size must be an integer or None, got str 'auto': scikit-learn's 'auto', min(200, n_samples), "
                "is this estimator's default batch_size=200 (a data set smaller than a batch is one batch)"
            )
        batch_size = None if self.batch_size is None else check.check_positive_int("batch_size", self.batch_size)
        lambd = check.check_positive_float("alpha", self.alpha, allow_zero=True)
        setting = repr(self.optimizer) if isinstance(self.optimizer, str) or optimizer is None else f"an Optimizer named {optimizer.name!r}"
        if first:  # a fit afresh that fails on its data leaves an unfitted estimator, not half of two fits
            for name in [name for name in vars(self) if name.endswith("_") and not name.startswith("_")]:
                delattr(self, name)
        elif optimizer is not None and not self._fitted_by_lbfgs():  # L-BFGS takes no state, and leaves none to continue
            self._check_same_optimizer(optimizer, setting, incremental)
        given = X
        # a regressor's y is read as numbers by its _targets (not y_numeric), which names a value that is not one
        try:
            X, y = validate_data(
                self, X, y, reset=first, dtype=dtype, order="C", multi_output=self._multi_output(y),
            )  # fmt: skip
        except ValueError as error:
            _refuse_columns(given, y, error)
            raise
        weights = _weights(sample_weight, X)  # before _targets, which learns a first fit's classes
        Y = self._targets(y, first, classes, whole=not incremental)
        activations = self._activations(len(hidden))  # after _targets, which sets a classifier's output layer
        sizes = (X.shape[1], *hidden, self._n_outputs())
        check_softmax_units(  # train's own check, named by the settings: train would name params' W1 and activations[0]
            [resolve_activation("activation", a) for a in activations], sizes,
            named=lambda l: (f"hidden_layer_sizes[{l - 1}]", "activation"),
        )  # fmt: skip
        if first:
            rng = self._generator()
            params = initialize_parameters(sizes, rng, scheme=init, dtype=dtype)
            state: OptimizerState | None = None
            previous: tuple[EpochRecord, ...] = ()
            seen: int | None = 0
            scores: tuple[float | None, ...] | None = ()
        else:
            rng, state, previous = self.rng_, None if self._fitted_by_lbfgs() else self.optimizer_state_, self.history_
            seen, scores = self._samples_seen, self._validation_scores
            params = self._trained_params
            fitted_sizes = (params["W1"].shape[1], *(params[f"W{l}"].shape[0] for l in range(1, len(params) // 2 + 1)))
            if fitted_sizes != sizes or params["W1"].dtype != dtype:
                raise ValueError(
                    f"{'partial_fit' if incremental else 'warm_start'} continues the fitted network, layer sizes "
                    f"{fitted_sizes} in {params['W1'].dtype}, but the settings and data now ask for {sizes} in "
                    f"{np.dtype(dtype).name}: keep them, or fit afresh with warm_start=False"
                )
        columns = X.T  # the one transposition: rows of C-ordered X are the columns of X.T, Fortran-ordered
        dev = None
        dev_weights = None
        # a continued fit holds out the samples the fit it continues held out: its dev figures and best
        # epoch are then of data the network has not trained on, unless a fit in between held none out
        # (early_stopping=False, or optimizer="lbfgs") (None: no split drawn yet)
        split_seed = None if first else self._split_seed
        if early_stopping is not None:
            if split_seed is None:
                split_seed = int(rng.integers(2**31))
            columns, Y, dev, (weights, dev_weights) = self._split_dev(
                X, y, Y, split_seed, in_place=_made_from(X, given), weights=weights
            )  # fmt: skip
        try:
            if optimizer is None:
                result, new_scores = self._train_lbfgs(
                    columns, Y, params, activations=activations, epochs=epochs, lambd=lambd, weights=weights,
                    epochs_before=len(previous),
                )  # fmt: skip
            else:
                result, new_scores = self._train(
                    columns, Y, params, dev, activations=activations, loss=self._loss, epochs=epochs, optimizer=optimizer,
                    batch_size=batch_size, rng=rng, lambd=lambd, keep_probs=keep_probs,
                    early_stopping=early_stopping, optimizer_state=state, sample_weight=weights,
                    dev_sample_weight=dev_weights,
                )  # fmt: skip
        except TrainingDivergedError as error:  # train's words name its arguments (W1, float64 params): say the settings
            raise error.worded(self._divergence_words(len(sizes) - 1, len(previous))) from error
        if result.best_params is None:
            # an ema optimizer's average is what train's dev figures are of; training goes on from the weights averaged
            self.params_ = _own(averaged_params(result.optimizer_state, result.params))
            self._trained_params = result.params
        else:
            self.params_ = self._trained_params = _own(result.best_params)
        self.activations_ = activations
        self.optimizer_state_ = result.optimizer_state
        self.history_ = previous + tuple(r._replace(epoch=len(previous) + r.epoch) for r in result.history)
        self.n_iter_ = len(self.history_)
        # as scikit-learn's t_: each epoch adds the samples it trained on, not the held-out ones (but
        # those of sample_weight 0 too, which train leaves out: scikit-learn counts samples, not weight)
        self._samples_seen = None if seen is None else seen + len(result.history) * columns.shape[1]
        self._validation_scores = None if scores is None else scores + new_scores
        self.rng_ = rng
        self._fitted_optimizer = setting
        self._split_seed = split_seed
        self._best_epoch = None if result.best_epoch is None else len(previous) + result.best_epoch
        return self

    def _train_lbfgs(
        self, X: FloatArray, Y: FloatArray, params: dict[str, FloatArray], *, activations: Sequence[Activation | ActivationFunction],
        epochs: int, lambd: float, weights: Weights | None, epochs_before: int,
    ) -> tuple[TrainResult, tuple[float | None, ...]]:  # fmt: skip
        """``train_lbfgs``'s result as the fold's last state: its iterations as epochs
        (``history_``), no optimizer state (an empty one: L-BFGS's memory of its steps stays
        within scipy) and no held-out scores. A ``ConvergenceWarning`` when it stopped before
        converging, as scikit-learn's MLP warns."""
        result = train_lbfgs(
            X, Y, params, activations=activations, loss=self._loss, lambd=lambd, max_iter=epochs,
            tol=check.check_positive_float("tol", self.tol, allow_zero=True), sample_weight=weights,
        )  # fmt: skip
        if not result.converged:
            bound = f"; raise epochs (now {epochs}), the iteration bound, or" if result.n_iter >= epochs else ";"
            reason = result.message
            if reason.startswith("ABNORMAL"):  # scipy >= 1.15 says only "ABNORMAL: "
                reason = (
                    f"its line search found no lower cost along the gradient ({reason.strip()} "
                    "the cost is flat where its gradient is not, as when the outputs saturate on large inputs)"
                )
            warnings.warn(
                f"optimizer='lbfgs' stopped before converging after {result.n_iter} iteration(s)"
                + (f" of this fit ({epochs_before} before it)" if epochs_before else "")
                + f": {reason}{bound} scale the data (e.g. sklearn.preprocessing.StandardScaler)",
                ConvergenceWarning,
                stacklevel=4,
            )
        state = TrainResult(result.n_iter, result.params, OptimizerState(0, {}), result.history)
        return state, (None,) * len(result.history)

    def _fitted_by_lbfgs(self) -> bool:
        """Whether the last fit was L-BFGS's, whose empty ``optimizer_state_`` a continued fit
        does not continue: another optimizer starts its state afresh."""
        return getattr(self, "_fitted_optimizer", None) == repr("lbfgs")

    def _divergence_words(self, L: int, epochs_before: int) -> DivergenceWords:
        """A ``TrainingDivergedError``'s words for the settings of a network of ``L`` layers: the
        step size is ``learning_rate`` (an ``Optimizer`` given keeps its own), a parameter is
        named as ``coefs_`` and ``intercepts_`` hold it, float64 is ``dtype='float64'``, and the
        epoch is counted on from the ``epochs_before`` of the fits this one continues, as ``history_`` counts."""
        if isinstance(self.optimizer, Optimizer):
            rate = f"learning rate in the Optimizer given as optimizer ({self.optimizer.name!r}; learning_rate does not set it)"
        elif isinstance(self.learning_rate, (int, float)) and not isinstance(self.learning_rate, bool):
            rate = f"learning_rate (now {self.learning_rate:g})"
        else:
            rate = "learning_rate"

        def parameter(key: str) -> str:
            l = int(key[1:])
            layer = "the output layer" if l == L else f"hidden layer {l}"
            return f"coefs_[{l - 1}] (the weights into {layer})" if key[0] == "W" else f"intercepts_[{l - 1}] (the biases of {layer})"

        return DivergenceWords(rate, parameter, "fit with dtype='float64'", "X and y", epochs_before)

    def _check_same_optimizer(self, optimizer: Optimizer, setting: str, incremental: bool) -> None:
        """Refuse to continue the fitted optimizer state with an ``optimizer`` that keeps another.

        ``partial_fit`` and ``warm_start`` hand ``optimizer_state_`` to the optimizer of the
        current settings; one whose state has other slots (Adam's moments, momentum's velocity,
        none for SGD) cannot take it over. ``train`` would refuse it too, but only after the data
        were checked, and in terms of its own arguments rather than of the settings.
        """
        if slot_names(optimizer, self.params_) == set(self.optimizer_state_.slots):
            return
        before = getattr(self, "_fitted_optimizer", None)  # absent from an estimator pickled by an older version
        changed = (
            f"optimizer changed from {before} to {setting} since the last fit"
            if before is not None and before != setting
            else f"optimizer {setting} keeps another state than the optimizer of the last fit"
        )
        continuing = (
            "partial_fit continues the last fit's optimizer state, so the optimizer must stay the same; "
            "fit with warm_start=False to start afresh"
            if incremental
            else "with warm_start=True, fit continues the last fit's optimizer state, so the optimizer must stay "
            "the same; set warm_start=False to start afresh"
        )
        raise ValueError(f"{changed}: {continuing}")

    def _split_dev(
        self, X: FloatArray, y: Any, Y: FloatArray, seed: int, *, in_place: bool = False, weights: Weights | None = None
    ) -> tuple[FloatArray, FloatArray, tuple[FloatArray, FloatArray], tuple[Weights | None, Weights | None]]:
        """Hold out ``validation_fraction`` of the samples for early stopping: stratified for a
        classifier of 1-D labels (``_strata``) when every class can be, else (too few samples of some class, a
        multilabel ``y``, a regressor) at random, as
        ``train_test_split`` draws them from ``seed``.

        ``in_place``: ``X`` is a copy of the data no one else holds (``validate_data`` converted
        it), so the training rows are moved up within it instead of copied, and the fit holds one
        converted copy of the data plus the held-out rows, not two copies: the same arrays'
        values, laid out alike (a C-ordered block of rows, transposed).

        ``weights`` (``sample_weight``) go with their samples, the held-out ones becoming
        ``train``'s ``dev_sample_weight``, as scikit-learn's MLP splits them; the split is drawn
        as without them, so weights all 1 hold out the samples an unweighted fit does. Refused,
        naming both settings, when either part's weights are all 0."""
        indices = np.arange(X.shape[0])
        stratify = self._strata(y)
        try:
            try:
                train_rows, dev_rows = train_test_split(indices, test_size=self.validation_fraction, random_state=seed, stratify=stratify)
            except ValueError:
                if stratify is None:
                    raise
                train_rows, dev_rows = train_test_split(indices, test_size=self.validation_fraction, random_state=seed)
        except ValueError as error:
            raise ValueError(f"early_stopping could not hold out validation_fraction={self.validation_fraction}: {error}") from error
        train_rows, dev_rows = np.sort(train_rows), np.sort(dev_rows)
        parts: tuple[Weights | None, Weights | None] = (None, None)
        if weights is not None:
            train_weights, dev_weights = weights[train_rows], weights[dev_rows]
            parts = train_weights, dev_weights
            for part, rows, role in (
                (train_weights, train_rows, "it leaves to train on"), (dev_weights, dev_rows, "it holds out to score the epochs"),
            ):  # fmt: skip
                if not part.any():
                    # a classifier's classes say why stratifying did not help: a class of weight 0 throughout, say
                    classes = "" if stratify is None else (
                        f"; those samples are of the classes {np.unique(stratify[rows]).tolist()}, and the samples of "
                        f"weight above 0 anywhere of the classes {np.unique(stratify[weights > 0]).tolist()}"
                    )  # fmt: skip
                    raise ValueError(
                        f"sample_weight is 0 for every one of the {part.shape[0]} samples early_stopping {role} "
                        f"(validation_fraction={self.validation_fraction} of the {X.shape[0]} samples, drawn as "
                        f"without weights{classes}): give more samples a weight above 0, or change "
                        "validation_fraction or random_state, or fit with early_stopping=False"
                    )
        dev = (X[dev_rows].T, Y[:, dev_rows])
        return (_rows_moved_up(X, train_rows) if in_place else X[train_rows]).T, Y[:, train_rows], dev, parts

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, filling in what an estimator fitted and pickled by an older version lacks:
        ``_trained_params`` (its ``params_``, which a continued fit then went on from) and
        ``_split_seed`` (``None``: a continued fit with early stopping draws its split, as
        those versions did), so that ``partial_fit`` and ``warm_start`` continue it, and
        ``_best_epoch`` (``None``: ``best_validation_score_`` is then ``None``), ``_samples_seen``
        (``None``: ``t_`` says it was not counted) and ``_validation_scores`` (the held-out
        accuracies ``history_`` holds; unknown for a regressor's held-out epochs, whose R^2
        was not kept)."""
        if "params_" in state:
            history: tuple[EpochRecord, ...] = state["history_"]
            unknown = any(record.dev_cost is not None and record.dev_accuracy is None for record in history)
            scores = None if unknown else tuple(record.dev_accuracy for record in history)
            state = {
                "_trained_params": state["params_"], "_split_seed": None, "_best_epoch": None, "_samples_seen": None,
                "_validation_scores": scores, **state,
            }  # fmt: skip
        super().__setstate__(state)

    def set_params(self, **params: Any) -> Self:
        """scikit-learn's ``set_params``, refusing scikit-learn's MLP parameters that are named
        otherwise here as the constructor does (a grid search over ``max_iter``, say), with
        ``set_params``' ``ValueError``."""
        refusal = _scikit_learn_names_refused(type(self), params)
        if refusal is not None:
            raise ValueError(refusal)
        return super().set_params(**params)

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once training has made ``params_`` (``n_features_in_`` alone comes from a fit that failed)."""
        return hasattr(self, "params_")

    # -- scikit-learn's names for what training made (read-only views of the attributes above) --

    def _fitted(self, attribute: str) -> dict[str, FloatArray]:
        """``params_``, or the AttributeError an unfitted estimator gives for ``attribute``, as
        scikit-learn's own does before ``fit``."""
        try:
            return self.params_
        except AttributeError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attribute!r}: it is set by fit") from None

    @property
    def coefs_(self) -> list[FloatArray]:
        """The weight matrices in scikit-learn's layout, as its MLP's ``coefs_``: ``coefs_[i]`` is
        ``params_[f"W{i + 1}"].T``, shape ``(n_i, n_{i+1})``, so ``coefs_[0]`` is
        ``(n_features, hidden_layer_sizes[0])`` and holds a column per first-layer unit.

        Views of ``params_`` (writing into them changes the network). A classifier of two
        classes has one logistic output unit, as scikit-learn's, so its last matrix is
        ``(n_{L-1}, 1)``.
        """
        params = self._fitted("coefs_")
        return [params[f"W{l}"].T for l in range(1, len(params) // 2 + 1)]

    @property
    def intercepts_(self) -> list[FloatArray]:
        """The bias vectors in scikit-learn's layout, as its MLP's ``intercepts_``: ``intercepts_[i]``
        is ``params_[f"b{i + 1}"]`` ``(n_{i+1}, 1)`` flattened, shape ``(n_{i+1},)``; views of ``params_``."""
        params = self._fitted("intercepts_")
        return [params[f"b{l}"][:, 0] for l in range(1, len(params) // 2 + 1)]

    @property
    def n_layers_(self) -> int:
        """Number of layers counting the input layer, as scikit-learn's: ``len(hidden_layer_sizes) + 2``."""
        return len(self._fitted("n_layers_")) // 2 + 1

    @property
    def out_activation_(self) -> str:
        """The output activation by scikit-learn's name, as scikit-learn's: ``"softmax"`` for the
        classifier of 1-D labels of three classes or more, ``"logistic"`` for one of two classes
        (one unit) or a multilabel one, ``"identity"`` for the regressor."""
        self._fitted("out_activation_")
        name = self._output_activation
        return {"linear": "identity", "sigmoid": "logistic"}.get(name, name)

    @property
    def t_(self) -> int:
        """The number of training samples seen since the network was initialised, as scikit-learn's
        ``t_``: each epoch adds the samples it trained on (with ``early_stopping`` those not held
        out), so a ``fit`` of ``n_iter_`` epochs on ``n_samples`` counts ``n_iter_ * n_samples``,
        a warm start adds to it and ``partial_fit`` adds its batch."""
        self._fitted("t_")
        if self._samples_seen is None:
            raise AttributeError(
                f"t_ is unknown: this {type(self).__name__} was fitted and pickled by a version of functional_nn "
                "that did not count the samples it trained on; fit it afresh (warm_start=False) to count them"
            )
        return self._samples_seen

    def _scores(self, attribute: str) -> tuple[float | None, ...]:
        self._fitted(attribute)
        if self._validation_scores is None:
            raise AttributeError(
                f"{attribute} is unknown: this {type(self).__name__} was fitted with early_stopping and pickled by a "
                "version of functional_nn that did not keep its held-out R^2 scores; fit it afresh (warm_start=False)"
            )
        return self._validation_scores

    @property
    def validation_scores_(self) -> list[float | None] | None:
        """The held-out score of each epoch, as scikit-learn's ``validation_scores_``: the
        classifier's accuracy of its ``predict`` (exact-match accuracy for a multilabel one),
        the regressor's R^2 (``sklearn.metrics.r2_score``);
        after a ``fit`` with ``sample_weight``, weighted by the held-out samples' weights.
        Length ``n_iter_``, ``None`` for an epoch that held no samples out (such as a
        ``partial_fit``'s), or ``None`` when no epoch held samples out (``early_stopping=False``).
        The classifier's equal ``history_``'s ``dev_accuracy`` but where a sigmoid output is
        exactly 0.5: ``train`` counts that as class 1 (label on), ``predict`` as scikit-learn's
        does, as ``classes_[0]`` (label off), and these scores are ``predict``'s."""
        scores = self._scores("validation_scores_")
        return None if all(score is None for score in scores) else list(scores)

    @property
    def best_validation_score_(self) -> float | None:
        """The held-out score (``validation_scores_``) of the epoch ``params_`` are of, when the
        last fit stopped on held-out samples (``early_stopping``), else ``None``, as
        scikit-learn's ``best_validation_score_``. The best epoch is the one of the lowest
        held-out cost (see ``early_stopping``), so this is that epoch's score, not always
        ``max(validation_scores_)``."""
        self._fitted("best_validation_score_")
        return None if self._best_epoch is None else self._scores("best_validation_score_")[self._best_epoch - 1]

    @property
    def loss_curve_(self) -> list[float]:
        """The training cost of each epoch, ``[record.cost for record in history_]``: length
        ``n_iter_``, as scikit-learn's ``loss_curve_`` (each the mean over the epoch's
        mini-batches, with the L2 penalty; with ``sample_weight``, the mean weighted by each
        batch's total weight, where scikit-learn's weighs the batches by their sizes). The regressor's error term is the squared error summed
        over the outputs, twice scikit-learn's with one output (see ``MLPRegressor``)."""
        self._fitted("loss_curve_")
        return [record.cost for record in self.history_]

    @property
    def loss_(self) -> float:
        """The last epoch's training cost, ``loss_curve_[-1]``, as scikit-learn's ``loss_``."""
        self._fitted("loss_")
        return self.history_[-1].cost

    @property
    def best_loss_(self) -> float | None:
        """The lowest training cost, ``min(loss_curve_)``, or ``None`` when the last fit held
        samples out (``early_stopping``, whose best epoch ``params_`` are of), as scikit-learn's
        ``best_loss_``."""
        self._fitted("best_loss_")
        # the last fit's records hold dev figures when it held samples out, also in an estimator
        # pickled before _best_epoch was kept (then None, as best_validation_score_ is)
        return None if self.history_[-1].dev_cost is not None else min(record.cost for record in self.history_)

    def _output(self, X: Any) -> FloatArray:
        """The network's output for row-per-sample ``X``: ``(n_samples, n_L)``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self.params_["W1"].dtype)
        if X.flags.c_contiguous or X.shape[0] <= PREDICT_CHUNK:
            output: FloatArray = network_output(np.ascontiguousarray(X).T, self.params_, self.activations_).T
            return output
        # Rows in C order give the same bits whatever X's order (BLAS may sum a Fortran-ordered
        # X.T otherwise), made here a chunk of predict_proba's at a time: a copy of all of a
        # Fortran-ordered X (a DataFrame's values) would cost as much again as the data set.
        AL = np.empty((self.params_[f"W{len(self.activations_)}"].shape[0], X.shape[0]), dtype=X.dtype)
        for start in range(0, X.shape[0], PREDICT_CHUNK):
            rows = np.ascontiguousarray(X[start : start + PREDICT_CHUNK])
            AL[:, start : start + PREDICT_CHUNK] = network_output(rows.T, self.params_, self.activations_)
        return AL.T


_TargetKind: TypeAlias = Literal["binary", "multiclass", "multilabel-indicator"]
_OUTPUT_LAYERS: Final[dict[_TargetKind, tuple[Activation, Loss]]] = {
    "binary": ("sigmoid", "binary_cross_entropy"),  # one unit: the probability of classes_[1]
    "multiclass": ("softmax", "categorical_cross_entropy"),  # a unit per class
    "multilabel-indicator": ("sigmoid", "binary_cross_entropy"),  # a unit per label, each a yes or no of its own
}
"""The classifier's output layer for each kind of ``y`` (``type_of_target``'s names), as
scikit-learn's ``MLPClassifier`` chooses its ``out_activation_`` and loss."""


class MLPClassifier(ClassifierMixin, _BaseMLP):
    r"""A multilayer perceptron classifier: ``train`` behind scikit-learn's estimator API.

    The network is ``(n_features, *hidden_layer_sizes, n_classes)`` with ``activation`` on
    the hidden layers and a softmax output trained with categorical cross-entropy. Two
    classes have one logistic (sigmoid) unit instead, as in scikit-learn's ``MLPClassifier``,
    trained with binary cross-entropy on targets 1 for ``classes_[1]`` and 0 for
    ``classes_[0]``: ``predict_proba`` gives ``[1 - p, p]`` and ``predict`` gives
    ``classes_[1]`` where ``p > 0.5`` (``classes_[0]`` at exactly 0.5, as scikit-learn's).
    The first fit decides the layout by the number of classes (``partial_fit``'s ``classes``);
    a continued fit keeps it. Labels of any type are encoded into ``classes_``.

    ``y`` may also be a multilabel indicator matrix ``(n_samples, n_labels)`` of 0s and 1s (a
    row may hold several 1s, or none; ``type_of_target`` says ``"multilabel-indicator"``), as
    scikit-learn's ``MLPClassifier`` takes it: the output is then ``n_labels`` sigmoid units
    trained with binary cross-entropy, ``classes_`` is ``arange(n_labels)``, ``predict``
    gives the ``(n_samples, n_labels)`` indicator matrix (1 where a probability exceeds 0.5),
    ``predict_proba`` each label's probability, and ``score`` and the held-out accuracies
    count a sample right when all of its labels are (exact-match accuracy). A sparse ``y``
    is read densely, and ``predict`` is dense.

    Parameters
    ----------
    hidden_layer_sizes : int, sequence of int or 1-d integer array, default (100,)
        Units of each hidden layer; ``()`` is multinomial logistic regression.
    activation : str or ActivationFunction, default "relu"
        The hidden layers' activation: a built-in name (``"relu"``, ``"gelu"``, ``"tanh"``, ...;
        see ``functional_nn.ACTIVATIONS``) or a record of your own.
    optimizer : {"adam", "adamw", "sgd", "momentum", "nesterov", "rmsprop", "lbfgs"} or Optimizer, default "adam"
        A name, built with ``learning_rate`` and the optimizer's other defaults, or any
        ``Optimizer`` (e.g. ``adam(cosine_decay(1e-2, decay_steps=5000))``; ``learning_rate`` is then
        unused). An estimator holding an ``Optimizer`` cannot be pickled (its functions are
        closures); one holding a name can.

        ``"lbfgs"`` is scikit-learn's ``solver="lbfgs"``, good for small data sets: scipy's
        L-BFGS-B minimises the full-batch cost (``functional_nn.lbfgs.train_lbfgs``), with
        ``epochs`` as its bound on iterations (scikit-learn's ``max_iter``), ``tol`` as its
        gradient tolerance and scikit-learn's default bound of 15,000 evaluations of the cost
        (``max_fun``). As scikit-learn's, it ignores ``learning_rate``, ``batch_size`` and
        ``early_stopping`` (these, ``validation_fraction`` and ``n_iter_no_change`` are still
        checked), has no ``partial_fit`` (``hasattr(clf, "partial_fit")`` is false), and warns
        (``sklearn.exceptions.ConvergenceWarning``) when it stops before converging, at the
        iteration bound or otherwise. ``dropout`` is refused with it: a line search needs the
        same cost at the same weights. Each iteration counts as an epoch: ``history_``,
        ``loss_curve_`` (which scikit-learn's lacks for L-BFGS) and ``n_iter_`` count them, and
        ``t_`` adds ``n_samples`` for each (scikit-learn leaves ``t_`` at 0); a fit that stops
        where it started (within ``tol`` already, or a line search that found no lower cost)
        records that point as one.
    learning_rate : float > 0 or schedule, default 1e-3
    batch_size : int >= 1 or None, default 200
        Mini-batch size (the whole data set when it has fewer samples); ``None``: full-batch
        gradient descent.
    epochs : int >= 1, default 200
        Passes over the data per ``fit`` (``partial_fit`` runs one); with ``optimizer="lbfgs"``,
        the most iterations per ``fit``.
    alpha : float >= 0, default 1e-4
        L2 strength :math:`\lambda`: the cost gains :math:`\frac{\lambda}{2m}\sum_l \lVert W_l\rVert_F^2`
        (``train``'s ``lambd``; the same penalty as scikit-learn's ``alpha``).
    dropout : float in [0, 1), default 0
        Probability of dropping each hidden unit during training (inverted dropout); above 0 it
        needs a hidden layer: with ``hidden_layer_sizes=()`` it is refused, there being nothing to drop.
    init : {"he", "xavier", "scaled_normal", "standard_normal", "uniform"}, default "he"
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the samples (stratified when every class has
        enough samples, else at random, and for a multilabel ``y``) and stop when their cost has not improved by more
        than ``tol`` for ``n_iter_no_change`` epochs; ``params_`` are then those of the best
        epoch, the last whose cost improved by more than ``tol`` (not the lowest cost, which
        a smaller gain may have reached since). A fit with ``warm_start=True`` holds out the
        same samples of the same data as the fit it continues, but its best epoch and
        patience count its own epochs only: its ``params_`` are its best epoch's even if an
        earlier fit's held-out cost was lower (scikit-learn's ``MLPClassifier`` carries both
        over). Ignored by ``partial_fit``. Its three settings below are checked by ``fit``
        and ``partial_fit`` whether it is on or off.
    validation_fraction : float in (0, 1), default 0.1
    n_iter_no_change : int >= 1, default 10
    tol : float >= 0, default 1e-4
        Early stopping's least improvement; with ``optimizer="lbfgs"``, the gradient tolerance
        (scipy's ``gtol``: converged once no component of the gradient exceeds it).
    warm_start : bool, default False
        ``fit`` continues from the fitted parameters, ``optimizer_state_`` and ``rng_`` for
        ``epochs`` more epochs, instead of starting afresh. The classes and layer sizes must
        stay the same, and so must the optimizer, as far as its state goes: ``"adamw"`` may
        continue ``"adam"``'s moments, ``"sgd"`` cannot (nor can ``partial_fit``).
        ``"lbfgs"`` takes no state and leaves none (its memory of past steps stays within
        scipy): it continues from the fitted parameters after any optimizer, and any optimizer
        continues from its parameters with a state of its own made afresh.
    random_state : int, numpy.random.Generator, SeedSequence, BitGenerator, RandomState or None, default None
        Seeds the ``numpy.random.Generator`` that draws the initial weights, the
        mini-batches and the dropout masks, as ``numpy.random.default_rng(random_state)``
        does; a Generator given here is used (and advanced). A legacy ``RandomState`` (as
        scikit-learn's own estimators take) gives the seed: one integer drawn from it.
    dtype : {"float64", "float32"}, default "float64"
        The network's dtype (or ``numpy.float64``, ``numpy.float32``, or their ``numpy.dtype``,
        as ``initialize_parameters`` takes it); inputs are converted to it.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted; ``arange(n_labels)`` after a fit on a multilabel ``y``.
    params_ : dict of str to ndarray
        ``"W1"`` ``(n_1, n_features)``, ``"b1"`` ``(n_1, 1)``, ...: the core's parameters, ready for
        ``functional_nn.predict_proba``, ``save_parameters`` or ``export_onnx``; the estimator's own,
        writable. With an ``ema`` optimizer, a copy of their moving average (``averaged_params``,
        whose arrays are read-only), which ``predict`` uses, as ``train``'s dev figures do; a
        continued fit goes on from the weights averaged, not from the average
        (with ``early_stopping``, from the best epoch's ``params_``, whichever they are).
    activations_ : tuple of str or ActivationFunction
        One per layer, as given by ``activation``, the last ``"softmax"`` (``"sigmoid"`` for two
        classes or a multilabel ``y``).
    optimizer_state_ : OptimizerState
        The optimizer's state after the last step (with early stopping: of the last epoch run);
        after an ``"lbfgs"`` fit an empty one, ``OptimizerState(0, {})``.
    history_ : tuple of EpochRecord
        One record per epoch since the network was initialised (cost, accuracy, and with
        early stopping the held-out cost and accuracy); an ``"lbfgs"`` fit adds one per
        iteration, of the cost and accuracy at the point the iteration ended at.
    n_iter_ : int
        Epochs run since the network was initialised.
    t_ : int
        Training samples seen since the network was initialised, as scikit-learn's ``t_``: each
        epoch adds those it trained on (not the ones ``early_stopping`` holds out), so
        ``n_iter_ * n_samples`` after one ``fit``; ``partial_fit`` adds its batch. Samples, not
        weight: one of ``sample_weight`` 0 counts too.
    n_features_in_ : int
    feature_names_in_ : ndarray of str objects, shape (n_features_in_,)
        The column names, after a fit on a DataFrame whose column names are all strings.
    rng_ : numpy.random.Generator
        The generator training drew from; ``partial_fit`` and warm starts continue it.
    coefs_ : list of ndarray, shapes (n_features, n_1), ..., (n_{L-1}, n_outputs_)
        scikit-learn's layout of the weights: ``params_["W1"].T``, ... (views; read-only property);
        the last ``(n_{L-1}, 1)`` for two classes, as scikit-learn's.
    intercepts_ : list of ndarray, shapes (n_1,), ..., (n_outputs_,)
        The biases ``params_["b1"][:, 0]``, ... (views).
    n_layers_ : int
        ``len(hidden_layer_sizes) + 2``, counting the input layer.
    n_outputs_ : int
        Output units, as scikit-learn's: ``n_classes``, but 1 for two classes; ``n_labels`` for
        a multilabel ``y``.
    out_activation_ : str
        ``"softmax"``; ``"logistic"`` for two classes or a multilabel ``y``.
    loss_curve_ : list of float, length n_iter_
        ``history_``'s training costs, one per epoch; ``loss_`` is the last.
    loss_ : float
        The last epoch's training cost, ``loss_curve_[-1]``.
    best_loss_ : float or None
        ``min(loss_curve_)``; ``None`` after a fit with ``early_stopping``.
    validation_scores_ : list of float or None
        The held-out accuracy of ``predict``, one per epoch (exact-match for a multilabel ``y``;
        weighted by the held-out samples' ``sample_weight`` after a weighted ``fit``);
        ``None`` without ``early_stopping``. ``history_``'s ``dev_accuracy`` but for
        sigmoid outputs of exactly 0.5, which ``train`` counts as on and ``predict`` as off.
    best_validation_score_ : float or None
        The held-out accuracy of the epoch ``params_`` are of, after a fit with ``early_stopping``.

    ``fit`` and ``partial_fit`` take ``sample_weight`` as scikit-learn's ``MLPClassifier`` does
    (see ``fit``).

    scikit-learn's own names for settings named otherwise here (``max_iter``, ``solver``,
    ``learning_rate_init``, ...) are refused with a TypeError naming the setting to use.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier((16,), epochs=100, learning_rate=1e-2, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _output_activation: Activation = "softmax"
    _loss: Loss = "categorical_cross_entropy"
    # the kind of y the first fit found, which decides the output layer (_OUTPUT_LAYERS); "multiclass"
    # with two classes: two softmax units, as fitted before binary y had one logistic unit (__setstate__)
    _target_kind: _TargetKind = "multiclass"
    classes_: npt.NDArray[Any]  # learned in fit: the labels, of whatever dtype y had

    if TYPE_CHECKING:  # made at runtime by scikit-learn's metadata routing, from fit's and partial_fit's signatures

        def set_fit_request(self, *, sample_weight: bool | str | None = "$UNCHANGED$") -> Self: ...
        def set_partial_fit_request(
            self, *, classes: bool | str | None = "$UNCHANGED$", sample_weight: bool | str | None = "$UNCHANGED$"
        ) -> Self: ...

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Train on ``X`` ``(n_samples, n_features)`` and labels ``y`` ``(n_samples,)``, or a
        multilabel indicator matrix ``y`` ``(n_samples, n_labels)`` of 0s and 1s.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), default None
            How much each sample counts, as in scikit-learn's ``MLPClassifier`` (checked by its
            ``_check_sample_weight``: finite, not negative, not all 0; a list, a pandas Series or
            one number for all). Each mini-batch's cost is the weighted mean of its samples'
            losses, the L2 penalty divided by the batch's total weight instead of its size, so
            an integer weight counts a sample as that many copies of it in the same batch would
            (exactly so with ``batch_size=None``); a sample of weight 0 is left out of training,
            as if it were not there, but for ``t_``, which counts samples, as scikit-learn's.
            ``loss_curve_`` holds the weighted costs. With ``early_stopping`` the weights are
            split with their samples (the split is the unweighted one) and the held-out cost that
            stops training, ``validation_scores_`` and ``best_validation_score_`` are weighted
            by the held-out ones (``accuracy_score(..., sample_weight=)``); refused if those (or the rest) are all 0.

        Returns
        -------
        self : MLPClassifier
        """
        self._fit(X, y, incremental=False, sample_weight=sample_weight)
        return self

    @_stochastic_only
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> Self:
        """Run exactly one epoch over ``X``, ``y``, continuing the fitted network and optimizer state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), default None
            How much each sample counts in this epoch, as in ``fit`` (scikit-learn's
            ``partial_fit`` takes it in this place too, before ``classes``).
        classes : array-like of shape (n_classes,), default None
            Every label that will ever be seen, 1-D, as ``y`` may hold them (NaN and
            continuous values are refused); required on the first call. For a multilabel
            ``y`` ``(n_samples, n_labels)``, the label indices ``range(n_labels)``, as
            scikit-learn's ``MLPClassifier.partial_fit`` takes them.

        Returns
        -------
        self : MLPClassifier
        """
        if classes is None and not hasattr(self, "params_"):
            raise ValueError(
                "classes must be passed on the first call to partial_fit: every label that will ever be seen"
                + ("" if sample_weight is None else (
                    "; the third argument is sample_weight, as in scikit-learn's partial_fit(X, y, sample_weight=None, "
                    "classes=None): pass classes=..."
                ))  # fmt: skip
            )
        self._fit(X, y, incremental=True, classes=classes, sample_weight=sample_weight)
        return self

    def _multi_output(self, y: Any) -> bool:
        """Whether ``y`` has several columns, a multilabel indicator matrix, which ``validate_data``
        is to keep 2-D (a single column it makes 1-D, warning, as scikit-learn's ``MLPClassifier``)."""
        shape = getattr(y, "shape", None)  # an array, a DataFrame, a sparse matrix
        if shape is None:
            try:
                shape = np.shape(y)
            except (TypeError, ValueError):  # ragged: validate_data's error stands
                return False
        return len(shape) == 2 and shape[1] != 1

    @property
    def _multilabel(self) -> bool:
        return self._target_kind == "multilabel-indicator"

    def _learn_target_kind(self, kind: _TargetKind, classes: npt.NDArray[Any]) -> None:
        """On a first fit: ``classes_`` and the output layer for ``kind`` of ``y`` (``_OUTPUT_LAYERS``),
        the one place that decides it; a continued fit keeps both."""
        self.classes_ = classes
        self._target_kind = kind
        self._output_activation, self._loss = _OUTPUT_LAYERS[kind]

    def _strata(self, y: Any) -> Any:
        """1-D labels (two classes too), by which the early-stopping split is stratified; ``None``
        for a multilabel ``y``, split at random."""
        return None if self._multilabel else y

    def _label_matrix(self, y: Any, first: bool, classes: Any, whole: bool) -> FloatArray:
        """A multilabel indicator ``y`` ``(n_samples, n_labels)`` as the targets of ``n_labels``
        sigmoid units with binary cross-entropy; ``classes_`` is ``arange(n_labels)``."""
        if not isinstance(y, np.ndarray):  # a sparse matrix, which validate_data keeps
            y = y.toarray()
        kind = type_of_target(y)
        if kind != "multilabel-indicator":
            raise ValueError(
                f"y of shape {y.shape} is {kind!r} (scikit-learn's type_of_target): MLPClassifier takes 1-D labels "
                "or a multilabel indicator matrix, a column per label holding 0 or 1 (a row may hold several 1s)"
            )
        values = np.unique(y)  # type_of_target takes any two integers for indicators: -1/1, 0/2, ...
        if not np.isin(values, (0, 1)).all():
            raise ValueError(
                f"y is a multilabel indicator matrix of the values {values.tolist()}, but MLPClassifier trains a sigmoid "
                "unit per column on targets 0 and 1: map them to 0 and 1 (for -1/1 labels, (y == 1).astype(int))"
            )
        n_labels = int(y.shape[1])
        if classes is not None and not np.array_equal(np.unique(_check_classes(classes)), np.arange(n_labels)):
            raise ValueError(
                f"classes={np.asarray(classes).tolist()!r} for a multilabel y of {n_labels} columns must be their "
                f"indices {list(range(n_labels))}, as scikit-learn's MLPClassifier.partial_fit takes them"
            )
        if first:
            self._learn_target_kind("multilabel-indicator", np.arange(n_labels))
        elif not self._multilabel or n_labels != self.classes_.shape[0]:
            self._refuse_other_targets(f"a multilabel indicator matrix of {n_labels} labels", whole)
        return np.ascontiguousarray(y.T, dtype=self._float_dtype())

    def _refuse_other_targets(self, given: str, whole: bool) -> None:
        fitted = (
            f"a multilabel indicator matrix of {self.classes_.shape[0]} labels" if self._multilabel
            else f"1-D labels of the classes {self.classes_.tolist()}"
        )  # fmt: skip
        continuing = "with warm_start=True, fit" if whole else "partial_fit"
        raise ValueError(
            f"y is {given}, but the fitted network was fitted on {fitted}: {continuing} continues it, so y must be "
            "of the same kind and number of labels; fit with warm_start=False to start afresh"
        )

    def _targets(self, y: Any, first: bool, classes: Any = None, *, whole: bool = False) -> FloatArray:
        if y.ndim == 2:  # validate_data made a single column 1-D, warning, as scikit-learn's MLPClassifier does
            return self._label_matrix(y, first, classes, whole)
        if not first and self._multilabel:
            self._refuse_other_targets("1-D labels", whole)
        # validate_data made y 1-D; integer or boolean labels are always binary or multiclass, which
        # check_classification_targets (type_of_target's passes over y) would find on every partial_fit
        if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iub"):
            check_classification_targets(y)
        given = None if classes is None else _check_classes(classes)
        if first:
            known = np.unique(y if given is None else given)
            if known.shape[0] < 2:
                raise ValueError(f"MLPClassifier needs samples of at least 2 classes, got 1 class: {known.tolist()}")
            self._learn_target_kind("binary" if known.shape[0] == 2 else "multiclass", known)
        elif given is not None and not np.array_equal(np.unique(given), self.classes_):
            raise ValueError(f"classes={given.tolist()} differs from the classes of the fitted network {self.classes_.tolist()}")
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(
                f"y holds labels {unseen.tolist()} that are not among the fitted classes {self.classes_.tolist()}"
            )
        if not first and whole:
            absent = np.setdiff1d(self.classes_, y)
            if absent.size:  # as scikit-learn's warm start refuses it; partial_fit takes a batch of some classes
                raise ValueError(
                    f"with warm_start=True, fit continues the fitted network, so y must hold every class of it "
                    f"{self.classes_.tolist()}, but has none of {absent.tolist()}: fit with warm_start=False to start "
                    "afresh, or partial_fit to train on batches of some classes"
                )
        indices = np.searchsorted(self.classes_, y)
        if self._target_kind == "binary":  # one unit's targets: 1.0 for classes_[1], 0.0 for classes_[0]
            targets: FloatArray = indices.astype(self._float_dtype()).reshape(1, -1)
            return targets
        return one_hot(indices, self.classes_.shape[0], dtype=self._float_dtype())

    def _n_outputs(self) -> int:
        return 1 if self._target_kind == "binary" else int(self.classes_.shape[0])

    @property
    def n_outputs_(self) -> int:
        """Number of output units: ``len(classes_)``, one for two classes, as scikit-learn's."""
        params = self._fitted("n_outputs_")
        return int(params[f"W{len(params) // 2}"].shape[0])

    def _decisions(self, outputs: FloatArray) -> npt.NDArray[np.intp] | BoolArray:
        """``predict``'s rule on the outputs ``(n_samples, n_L)``, as scikit-learn's
        ``LabelBinarizer.inverse_transform``: the index into ``classes_`` of each sample's class
        ``(n_samples,)``, the largest softmax output's, or for one logistic unit 1 where its
        probability exceeds 0.5 (so exactly 0.5 is ``classes_[0]``); for a multilabel fit, the
        indicator matrix ``(n_samples, n_labels)``, on where a label's probability exceeds 0.5."""
        if self._multilabel:
            on: BoolArray = outputs > 0.5
            return on
        if self._target_kind == "binary":
            return (outputs[:, 0] > 0.5).astype(np.intp)
        indices: npt.NDArray[np.intp] = np.argmax(outputs, axis=1)
        return indices

    def _validation_score(self, Y: FloatArray, AL: FloatArray, weights: Weights | None) -> float:
        """The held-out accuracy (exact-match for a multilabel fit), weighted by ``weights`` when
        given: ``accuracy_score(y, predict(X), sample_weight=weights)``, as scikit-learn's."""
        right = self._decisions(AL.T) == self._decisions(Y.T)  # targets 0 and 1 (one-hot) decide as themselves
        if right.ndim == 2:
            right = right.all(axis=1)
        return float(np.mean(right)) if weights is None else weighted_mean(weights, right)

    def predict_proba(self, X: Any) -> FloatArray:
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``;
        for two classes ``[1 - p, p]``, ``p`` the one logistic unit's probability of ``classes_[1]``;
        for a multilabel fit, each label's probability ``(n_samples, n_labels)`` (rows need not sum to 1)."""
        output = self._output(X)
        if self._target_kind == "binary":
            columns: FloatArray = np.hstack([1 - output, output])
            return columns
        return output

    def predict_log_proba(self, X: Any) -> FloatArray:
        """The logarithm of ``predict_proba`` ``(n_samples, n_classes)``, as scikit-learn's (for
        two classes ``log(1 - p)``, which loses the digits of ``p`` close to 1)."""
        with np.errstate(divide="ignore"):  # a probability that underflowed to 0 has log -inf
            log: FloatArray = np.log(self.predict_proba(X))
        return log

    def predict(self, X: Any) -> npt.NDArray[Any]:
        """The most probable class of each sample, ``(n_samples,)``, taken from ``classes_``
        (so of their dtype): for two classes ``classes_[1]`` where its probability exceeds 0.5,
        else ``classes_[0]`` (also at exactly 0.5, as scikit-learn's); for a multilabel fit, the indicator matrix ``(n_samples, n_labels)``
        of ``classes_``'s integer dtype: 1 where a label's probability exceeds 0.5, as scikit-learn's."""
        check_is_fitted(self)
        decisions = self._decisions(self._output(X))
        if self._multilabel:
            return decisions.astype(self.classes_.dtype)
        labels: npt.NDArray[Any] = self.classes_[decisions]
        return labels

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle as ``_BaseMLP.__setstate__`` does, giving a classifier pickled before it kept
        the kind of ``y`` its output layer is for the kind its output says: a sigmoid output
        was a multilabel fit's, a softmax one ``"multiclass"``, also with two units for two
        classes, the layout of those versions. Such a network keeps its two softmax units: it
        predicts through them (the larger wins, as before), and ``partial_fit`` or a warm
        start continue them; a fit afresh makes one logistic unit."""
        if "params_" in state and "_target_kind" not in state:
            sigmoid = state.get("_output_activation") == "sigmoid"
            state = {**state, "_target_kind": "multilabel-indicator" if sigmoid else "multiclass"}
        super().__setstate__(state)


def _check_classes(classes: Any) -> npt.NDArray[Any]:
    """``partial_fit``'s ``classes`` as an array: 1-D labels as ``y`` may hold them (no NaN, not
    continuous), as scikit-learn's own ``partial_fit`` takes them; ``np.unique`` would flatten a
    2-D one, and make a class of NaN, which no ``y`` can hold."""
    given = np.asarray(classes)
    if given.ndim != 1:
        raise ValueError(f"classes must be 1-D, every label that will ever be seen, got shape {given.shape}: {given.tolist()!r}")
    if given.dtype.kind == "f" and np.isnan(given).any():  # refused here: scikit-learn's check warns casting it first
        raise ValueError(f"classes holds NaN, which no label of y can be: {given.tolist()!r}")
    try:
        check_classification_targets(given)
    except ValueError as error:
        raise ValueError(f"classes must be labels such as y holds: {error}") from error
    return given


def _r2(Y: FloatArray, AL: FloatArray, weights: Weights | None = None) -> float:
    """The coefficient of determination of outputs ``AL`` for targets ``Y``, both ``(n_outputs, m)``,
    as scikit-learn's ``MLPRegressor`` scores its held-out samples (``r2_score``'s defaults, without
    its per-call validation, which cost more than a small network's epoch): ``1 - SS_res / SS_tot``
    per output, 1 for a constant output predicted exactly and 0 for one missed, averaged over the
    outputs; NaN for outputs that are not finite (as its scores are) or fewer than 2 samples.
    With ``weights`` ``(m,)`` (not all 0), ``r2_score(..., sample_weight=weights)``: both sums
    weighted, about the weighted mean of ``Y``."""
    if Y.shape[1] < 2 or not np.isfinite(AL).all():
        return float("nan")
    if weights is None:
        residual = np.sum((Y - AL) ** 2, axis=1)
        total = np.sum((Y - Y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    else:
        residual = np.sum(weights * (Y - AL) ** 2, axis=1)
        total = np.sum(weights * (Y - np.average(Y, axis=1, weights=weights)[:, None]) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(total != 0, 1 - residual / total, np.where(residual == 0, 1.0, 0.0))
    return float(np.mean(scores))


def _not_a_number(y: Any) -> object:
    """The first value of ``y`` that ``float`` cannot read (``y`` failed to convert to floats)."""
    for value in np.asarray(y, dtype=object).ravel():
        try:
            float(value)
        except (TypeError, ValueError):
            return value
    return y  # pragma: no cover - every value read alone: the array as a whole is what failed


class MLPRegressor(RegressorMixin, _BaseMLP):
    r"""A multilayer perceptron regressor: ``train`` behind scikit-learn's estimator API.

    The network is ``(n_features, *hidden_layer_sizes, n_outputs)`` with ``activation`` on
    the hidden layers and a linear output trained on the mean squared error (summed over the
    outputs). ``y`` may be ``(n_samples,)`` or ``(n_samples, n_outputs)``. The parameters,
    attributes and continuation rules are ``MLPClassifier``'s (without ``classes_``;
    ``out_activation_`` is ``"identity"``); early stopping holds out an unstratified
    ``validation_fraction``, and ``validation_scores_`` and ``best_validation_score_`` are the
    held-out R^2 (``sklearn.metrics.r2_score``, averaged over the outputs; weighted by the
    held-out samples' ``sample_weight`` after a weighted ``fit``), as scikit-learn's.

    ``alpha`` is the same penalty as scikit-learn's, but the cost it is added to is not:
    :math:`\frac{1}{m}\sum_i \lVert a_i - y_i\rVert^2` here, half the mean over samples
    and outputs in scikit-learn's ``MLPRegressor``. So the same ``alpha`` weighs half as much
    against the error here with one output, and ``1 / (2 n_outputs)`` as much with more: a
    value tuned there is ``2 * n_outputs * alpha`` here.

    Examples
    --------
    >>> X = np.linspace(-1, 1, 200).reshape(-1, 1)
    >>> reg = MLPRegressor((32,), activation="tanh", epochs=300, learning_rate=1e-2, random_state=0)
    >>> reg.fit(X, X[:, 0] ** 2).score(X, X[:, 0] ** 2) > 0.95
    True
    """

    _output_activation: Activation = "linear"
    _loss: Loss = "mean_squared_error"
    n_outputs_: int  # learned in fit

    if TYPE_CHECKING:  # made at runtime by scikit-learn's metadata routing, from fit's and partial_fit's signatures

        def set_fit_request(self, *, sample_weight: bool | str | None = "$UNCHANGED$") -> Self: ...
        def set_partial_fit_request(self, *, sample_weight: bool | str | None = "$UNCHANGED$") -> Self: ...

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Train on ``X`` ``(n_samples, n_features)`` and targets ``y`` ``(n_samples,)`` or ``(n_samples, n_outputs)``;
        targets beyond the range of ``dtype`` (``float32``: about 3.4e38) are refused.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default None
            How much each sample counts, as in scikit-learn's ``MLPRegressor``, and as
            ``MLPClassifier.fit`` takes it; with ``early_stopping`` the held-out R^2 is weighted
            by the held-out samples' weights (``r2_score(..., sample_weight=)``).

        Returns
        -------
        self : MLPRegressor
        """
        self._fit(X, y, incremental=False, sample_weight=sample_weight)
        return self

    @_stochastic_only
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Run exactly one epoch over ``X``, ``y``, continuing the fitted network and optimizer state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default None
            How much each sample counts in this epoch, as in ``fit``.

        Returns
        -------
        self : MLPRegressor
        """
        self._fit(X, y, incremental=True, sample_weight=sample_weight)
        return self

    def _validation_score(self, Y: FloatArray, AL: FloatArray, weights: Weights | None) -> float:
        """The held-out R^2 (``_r2``), as scikit-learn's ``MLPRegressor`` scores them."""
        return _r2(Y, AL, weights)

    def _targets(self, y: Any, first: bool, classes: Any = None, *, whole: bool = False) -> FloatArray:
        dtype = self._float_dtype()
        if not isinstance(y, np.ndarray):  # a sparse y, which validate_data takes for several outputs
            y = y.toarray()
        with np.errstate(over="ignore"):  # the overflow is refused below, naming y
            try:
                if y.dtype.kind == "O":  # numbers held as objects: float64 first, as validate_data's y_numeric made them
                    y = y.astype(np.float64)
                Y = np.asarray(y, dtype=dtype)
            except (TypeError, ValueError) as error:  # class labels, say: NumPy's message names neither y nor the way out
                raise ValueError(
                    f"y must hold numbers, the targets a regressor fits, but holds {_not_a_number(y)!r} "
                    f"(dtype {np.asarray(y).dtype}); for class labels use MLPClassifier"
                ) from error
        if not np.isfinite(Y).all():
            # validate_data refuses a y holding NaN or infinity, unless scikit-learn's assume_finite
            # config skips that check: then say so rather than call it too large for dtype
            count = int(np.size(y) - np.count_nonzero(np.isfinite(y)))
            if count:
                raise ValueError(f"y contains {count} NaN or infinite value(s)")
            top = np.max(np.abs(np.asarray(y, dtype=np.longdouble)))  # a long double y can be beyond even float64
            fits = top <= np.finfo(np.float64).max
            largest = f"{float(top):.4g}" if fits else np.format_float_scientific(top, precision=3, trim="-")
            wider = "" if dtype == np.float64 else ", or fit with dtype='float64'"
            raise ValueError(
                f"y holds values up to {largest} in magnitude, beyond the range of the network's dtype "
                f"{np.dtype(dtype).name} (largest {float(np.finfo(dtype).max):.4g}): rescale y{wider}"
            )
        Y = Y.reshape(1, -1) if Y.ndim == 1 else Y.T
        if first:
            self.n_outputs_ = int(Y.shape[0])
        elif Y.shape[0] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[0]} outputs but the fitted network predicts {self.n_outputs_}")
        return np.ascontiguousarray(Y)

    def _n_outputs(self) -> int:
        return self.n_outputs_

    def predict(self, X: Any) -> FloatArray:
        """Predictions ``(n_samples,)`` for one output, else ``(n_samples, n_outputs)``."""
        output = self._output(X)
        return output.ravel() if output.shape[1] == 1 else output

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
