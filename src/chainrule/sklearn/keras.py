"""KerasClassifier and KerasRegressor: any chainrule model as a scikit-learn estimator (scikeras' names).

``model=`` is a chainrule model, or a callable returning one (compiled or not). The callable receives the
``model__...`` parameters and, when its signature names them, what the data tells: ``n_features_in_``,
``X_shape_`` (the shape of one sample), ``n_outputs_`` and, for a classifier, ``n_classes_``. A model that
is not compiled is compiled with ``optimizer`` (a name, an Optimizer class or instance; ``optimizer__...``
parameters go to its constructor), ``loss`` and ``metrics``. ``fit__...`` parameters go to ``Model.fit``.

Weights are float64 (the model is built under ``default_dtype(float64)``). A pickled estimator holds its
models as the bytes of chainrule's model file (weights, optimizer state, config as JSON), not as objects.
"""
import copy
import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import optimizers, saving
from ..models import Model
from ..tensor import default_dtype
from ..utils import set_random_seed

_ROUTES = ("model", "optimizer", "fit")


class _ModelBytes(bytes):
    """A model in a pickled estimator's state: the bytes of its chainrule model file."""


class BaseWrapper(BaseEstimator):
    """What KerasClassifier and KerasRegressor share: routed parameters, building, fitting, pickling."""

    default_loss = None

    def __init__(self, model=None, *, optimizer="rmsprop", loss=None, metrics=None, batch_size=None, epochs=1,
                 verbose=0, callbacks=None, validation_split=0.0, shuffle=True, random_state=None, warm_start=False,
                 **kwargs):
        arguments = dict(locals())
        for name in ("self", "kwargs", "__class__"):
            arguments.pop(name, None)
        for name, value in arguments.items():
            setattr(self, name, value)
        self._routed_params = dict(kwargs)   # checked in fit, as every parameter is

    # ----- routed parameters ------------------------------------------------
    def _routed(self, route):
        prefix = route + "__"
        return {name[len(prefix):]: value for name, value in self._routed_params.items() if name.startswith(prefix)}

    def _check_routed(self):
        for name in self._routed_params:
            if "__" not in name or name.split("__", 1)[0] not in _ROUTES:
                raise ValueError(f"{name}: unexpected parameter; routed parameters start with "
                                 f"{', '.join(route + '__' for route in _ROUTES)}")

    def get_params(self, deep=True):
        return {**super().get_params(deep=deep), **self._routed_params}

    def set_params(self, **params):
        """Set parameters; names that are not the constructor's own (``model__units``, ...) are routed ones."""
        own = self._get_param_names()
        for name in [name for name in params if name not in own]:
            self._routed_params[name] = params.pop(name)
        return super().set_params(**params)

    # ----- building -----------------------------------------------------------
    def _meta(self, X):
        return {"n_features_in_": self.n_features_in_, "X_shape_": X.shape[1:], "n_outputs_": self.n_outputs_}

    def _build(self, X):
        """model_: the callable's model (or a copy of the given one), compiled when it was not."""
        if self.model is None:
            raise ValueError("model: expected a chainrule model or a callable returning one, got None")
        if isinstance(self.model, Model):
            model = copy.deepcopy(self.model)
        elif callable(self.model):
            arguments = self._routed("model")
            meta = self._meta(X)
            parameters = inspect.signature(self.model).parameters
            takes_all = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
            arguments.update({k: v for k, v in meta.items() if takes_all or k in parameters})
            model = self.model(**arguments)
            if not isinstance(model, Model):
                raise TypeError(f"model: the callable must return a chainrule Model, got {type(model).__name__}")
        else:
            raise TypeError(f"model: expected a chainrule model or a callable returning one, "
                            f"got {type(self.model).__name__}")
        if model.optimizer is None:
            model.compile(optimizer=self._optimizer(), loss=self.loss or self.default_loss, metrics=self.metrics)
        return model

    def _optimizer(self):
        arguments = self._routed("optimizer")
        optimizer = self.optimizer
        if isinstance(optimizer, type):
            return optimizer(**arguments)
        if isinstance(optimizer, str):
            return type(optimizers.get(optimizer))(**arguments)
        return copy.deepcopy(optimizer)

    # ----- fitting ------------------------------------------------------------
    def _fit(self, X, y, epochs, reset):
        self._check_routed()
        if self.random_state is not None:
            set_random_seed(int(check_random_state(self.random_state).randint(2 ** 31 - 1)))
        with default_dtype(np.float64):
            if reset or not hasattr(self, "model_"):
                self.model_ = self._build(X)
            fit_arguments = {"batch_size": self.batch_size or 32, "epochs": epochs, "verbose": self.verbose,
                             "callbacks": self.callbacks, "validation_split": self.validation_split,
                             "shuffle": self.shuffle, **self._routed("fit")}
            history = self.model_.fit(X, y, **fit_arguments)
        self.history_ = {key: list(values) for key, values in history.history.items()}
        return self

    def _predict_raw(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, allow_nd=True, dtype=np.float64, reset=False)
        with default_dtype(np.float64):
            return self.model_.predict(X, batch_size=self.batch_size or 32)

    # ----- pickling: models as their file's bytes -----------------------------
    def __getstate__(self):
        state = super().__getstate__()
        return {key: _ModelBytes(saving.model_to_bytes(value)) if isinstance(value, Model) and value.built else value
                for key, value in state.items()}

    def __setstate__(self, state):
        state = {key: saving.model_from_bytes(bytes(value)) if isinstance(value, _ModelBytes) else value
                 for key, value in state.items()}
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


class KerasClassifier(ClassifierMixin, BaseWrapper):
    """A chainrule model as a classifier: labels encoded as 0..n_classes_-1 (``classes_`` keeps them);
    the default loss is sparse categorical cross-entropy on n_classes_ softmax outputs."""

    default_loss = "sparse_categorical_crossentropy"

    def _meta(self, X):
        return {**super()._meta(X), "n_classes_": len(self.classes_)}

    def _encode(self, X, y, reset):
        X, y = validate_data(self, X, y, allow_nd=True, dtype=np.float64, reset=reset)
        check_classification_targets(y)
        self.n_outputs_ = 1
        return X, y

    def fit(self, X, y):
        """Build (unless warm_start and fitted) and train for ``epochs`` epochs."""
        reset = not (self.warm_start and hasattr(self, "model_"))
        X, y = self._encode(X, y, reset=reset)
        if reset:
            self._encoder = LabelEncoder().fit(y)
            self.classes_ = self._encoder.classes_
        return self._fit(X, self._encoder.transform(y), self.epochs, reset)

    def partial_fit(self, X, y, classes=None):
        """One epoch; the first call needs ``classes`` unless y holds every class."""
        first = not hasattr(self, "model_")
        X, y = self._encode(X, y, reset=first)
        if first:
            self._encoder = LabelEncoder().fit(unique_labels(y) if classes is None else classes)
            self.classes_ = self._encoder.classes_
        return self._fit(X, self._encoder.transform(y), 1, first)

    def predict_proba(self, X):
        """The model's outputs as class probabilities (one sigmoid output p becomes [1 - p, p])."""
        proba = self._predict_raw(X)
        if proba.shape[1] == 1 and len(self.classes_) == 2:
            return np.column_stack([1 - proba[:, 0], proba[:, 0]])
        return proba

    def predict(self, X):
        """The class of highest probability."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


class KerasRegressor(RegressorMixin, BaseWrapper):
    """A chainrule model as a regressor; the default loss is the mean squared error."""

    default_loss = "mse"

    def _encode(self, X, y, reset):
        X, y = validate_data(self, X, y, allow_nd=True, dtype=np.float64, multi_output=True, y_numeric=True,
                             reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        return X, y.reshape(len(y), -1)

    def fit(self, X, y):
        """Build (unless warm_start and fitted) and train for ``epochs`` epochs."""
        reset = not (self.warm_start and hasattr(self, "model_"))
        X, y = self._encode(X, y, reset=reset)
        return self._fit(X, y, self.epochs, reset)

    def partial_fit(self, X, y):
        """One epoch."""
        first = not hasattr(self, "model_")
        X, y = self._encode(X, y, reset=first)
        return self._fit(X, y, 1, first)

    def predict(self, X):
        """The model's outputs, (n_samples,) for one output."""
        output = self._predict_raw(X)
        return output.ravel() if output.shape[1] == 1 else output
