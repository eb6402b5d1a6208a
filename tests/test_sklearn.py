"""chainrule.sklearn: scikit-learn's MLP estimators on chainrule's graph, and any chainrule model as an estimator."""
import pickle
import re
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("scipy")
import scipy.sparse as sp
from sklearn import neural_network
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from chainrule.layers import GRU, Conv1D, Dense, GlobalAveragePooling1D
from chainrule.models import Sequential
from chainrule.sklearn import KerasClassifier, KerasRegressor, MLPClassifier, MLPRegressor


def dense_classifier(n_features_in_, n_classes_, units=16):
    return Sequential([Dense(units, activation="relu", input_dim=n_features_in_),
                       Dense(n_classes_, activation="softmax")])


def dense_regressor(n_features_in_, n_outputs_, units=16):
    return Sequential([Dense(units, activation="relu", input_dim=n_features_in_), Dense(n_outputs_)])


def conv1d_classifier(X_shape_, n_classes_):
    return Sequential([Conv1D(4, 3, activation="relu", input_shape=X_shape_), GlobalAveragePooling1D(),
                       Dense(n_classes_, activation="softmax")])


def gru_regressor(X_shape_, n_outputs_):
    return Sequential([GRU(6, input_shape=X_shape_), Dense(n_outputs_)])


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def quiet(fit, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(*args, **kwargs)


@parametrize_with_checks([
    MLPClassifier(max_iter=100), MLPRegressor(max_iter=100),
    KerasClassifier(dense_classifier, optimizer="adam", optimizer__learning_rate=0.01, epochs=30,
                    random_state=0),
    KerasRegressor(dense_regressor, optimizer="adam", optimizer__learning_rate=0.01, epochs=30, random_state=0),
])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_every_estimator_passes_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_one_epoch_of_sgd_without_shuffling_gives_scikit_learns_weights_and_loss(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(20, 10), solver="sgd", learning_rate_init=0.1, max_iter=1, shuffle=False,
                  random_state=3, batch_size=50, alpha=0.01)
    ours = quiet(MLPClassifier(**params).fit, X, y)
    theirs = quiet(neural_network.MLPClassifier(**params).fit, X, y)
    for mine, reference in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("solver, learning_rate", [("adam", "constant"), ("sgd", "invscaling"), ("sgd", "adaptive")])
def test_shuffled_training_follows_scikit_learns_loss_curve(digits, solver, learning_rate):
    X, y = digits
    params = dict(hidden_layer_sizes=(15,), solver=solver, learning_rate=learning_rate, learning_rate_init=0.01,
                  max_iter=12, random_state=0, n_iter_no_change=2, tol=1e-2)
    ours = quiet(MLPClassifier(**params).fit, X, y)
    theirs = quiet(neural_network.MLPClassifier(**params).fit, X, y)
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_multi_output_regression_matches_scikit_learn(loss):
    X, y = make_regression(n_samples=120, n_features=5, n_targets=2, random_state=0)
    y = np.abs(y) / 100 if loss == "poisson" else y / 100
    params = dict(loss=loss, hidden_layer_sizes=(8,), max_iter=5, random_state=1, learning_rate_init=0.01)
    ours = quiet(MLPRegressor(**params).fit, X, y)
    theirs = quiet(neural_network.MLPRegressor(**params).fit, X, y)
    assert ours.out_activation_ == theirs.out_activation_ and ours.n_outputs_ == 2
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-7, atol=1e-10)


def test_lbfgs_converges_to_scikit_learns_solution_within_max_iter():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", alpha=0.01, random_state=0, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = MLPClassifier(**params).fit(X, y)
    assert ours.n_iter_ < 500 and not hasattr(ours, "loss_curve_")
    assert ours.loss_ < 0.1 and ours.score(X, y) >= 0.97
    early = dict(params, max_iter=2)   # the same first steps (later, rounding can tip a line search either way)
    ours, theirs = quiet(MLPClassifier(**early).fit, X, y), quiet(neural_network.MLPClassifier(**early).fit, X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 2
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-12)


def test_lbfgs_warns_when_max_iter_stops_it():
    X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge after 3 iteration"):
        MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=3, random_state=0).fit(X, y)


def test_partial_fit_streams_batches_and_needs_the_classes_first(digits):
    X, y = digits
    model = MLPClassifier(hidden_layer_sizes=(30,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        model.partial_fit(X[:100], y[:100])
    for epoch in range(5):
        for start in range(0, len(X), 100):
            model.partial_fit(X[start:start + 100], y[start:start + 100], classes=np.arange(10))
    assert len(model.loss_curve_) == 30 and model.n_iter_ == 1
    assert model.score(X, y) > 0.9


def test_partial_fit_is_not_offered_by_lbfgs():
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")


def test_training_continues_from_coefs_set_by_hand(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(12,), max_iter=2, random_state=0)
    ours = quiet(MLPClassifier(**params).fit, X, y)
    theirs = quiet(neural_network.MLPClassifier(**params).fit, X, y)
    chosen = np.random.default_rng(1)
    coefs = [chosen.normal(scale=0.1, size=c.shape) for c in theirs.coefs_]
    intercepts = [chosen.normal(scale=0.1, size=b.shape) for b in theirs.intercepts_]
    for model in (ours, theirs):
        model.coefs_ = [c.copy() for c in coefs]
        model.intercepts_ = [b.copy() for b in intercepts]
        model.partial_fit(X, y)
    for mine, reference in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, reference, rtol=1e-9, atol=1e-12)


def test_warm_start_fit_continues_from_the_current_weights(digits):
    X, y = digits
    model = quiet(MLPClassifier(hidden_layer_sizes=(12,), max_iter=3, random_state=0, warm_start=True).fit, X, y)
    first = model.loss_curve_[-1]
    quiet(model.fit, X, y)
    assert len(model.loss_curve_) == 6 and model.loss_curve_[3] < first


def test_early_stopping_keeps_validation_scores_and_the_best_weights(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(20,), early_stopping=True, n_iter_no_change=3, learning_rate_init=0.01,
                  random_state=0, max_iter=60)
    ours = quiet(MLPClassifier(**params).fit, X, y)
    theirs = quiet(neural_network.MLPClassifier(**params).fit, X, y)
    assert ours.best_loss_ is None and len(ours.validation_scores_) == ours.n_iter_ < 60
    assert ours.best_validation_score_ == max(ours.validation_scores_)
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=np.arange(10))


def test_multilabel_classification_predicts_indicator_rows():
    X, y = make_classification(n_samples=150, n_features=6, random_state=0)
    Y = np.column_stack([y, 1 - y, X[:, 0] > 0]).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", random_state=0, max_iter=300).fit(X, Y)
    assert model.out_activation_ == "logistic" and model.predict(X).shape == (150, 3)
    assert model.score(X, Y) > 0.8


def test_sparse_input_trains_as_the_dense_array_does(digits):
    X, y = digits
    params = dict(hidden_layer_sizes=(10,), max_iter=3, random_state=0)
    dense = quiet(MLPClassifier(**params).fit, X, y)
    sparse = quiet(MLPClassifier(**params).fit, sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-10)
    np.testing.assert_array_equal(sparse.predict(sp.csr_matrix(X)), dense.predict(X))


@pytest.mark.parametrize("params", [dict(solver="newton"), dict(alpha=-1), dict(batch_size=0),
                                    dict(hidden_layer_sizes=(3, 0)), dict(n_iter_no_change=0)])
def test_bad_parameters_raise_scikit_learns_errors(params):
    X, y = make_classification(n_samples=20, random_state=0)
    with pytest.raises(ValueError) as ours:
        MLPClassifier(**params).fit(X, y)
    with pytest.raises(ValueError) as theirs:
        neural_network.MLPClassifier(**params).fit(X, y)
    assert type(ours.value) is type(theirs.value) and _sorted_sets(ours.value) == _sorted_sets(theirs.value)


def _sorted_sets(error):
    """The message with the options inside {...} in sorted order (a set's order varies between sets)."""
    return re.sub(r"\{([^}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", str(error))


def test_bad_input_raises_scikit_learns_errors():
    X, y = make_classification(n_samples=20, n_features=4, random_state=0)
    fitted = quiet(MLPClassifier(solver="lbfgs", max_iter=5).fit, X, y)
    reference = quiet(neural_network.MLPClassifier(solver="lbfgs", max_iter=5).fit, X, y)
    for bad in (X[:, :3], np.full_like(X, np.nan)):
        with pytest.raises(ValueError) as ours:
            fitted.predict(bad)
        with pytest.raises(ValueError) as theirs:
            reference.predict(bad)
        assert str(ours.value) == str(theirs.value)


def test_chainrule_activation_names_work_as_hidden_activations(digits):
    X, y = digits
    model = quiet(MLPClassifier(hidden_layer_sizes=(16,), activation="gelu", max_iter=50,
                                learning_rate_init=0.01, random_state=0).fit, X, y)
    assert model.score(X, y) > 0.85


def test_pipeline_grid_search_and_parallel_cross_validation(digits):
    X, y = digits
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), max_iter=50,
                                                                     learning_rate_init=0.01, random_state=0))
    search = quiet(GridSearchCV(pipeline, {"mlpclassifier__alpha": [1e-4, 1e-1]}, cv=2).fit, X, y)
    assert search.best_score_ > 0.75 and set(search.cv_results_["param_mlpclassifier__alpha"]) == {1e-4, 1e-1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(pipeline, X, y, cv=2, n_jobs=2)
    assert scores.min() > 0.75


def test_pickled_estimators_predict_the_same_and_hold_model_bytes(digits):
    X, y = digits
    mlp = quiet(MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit, X, y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(mlp)).predict_proba(X), mlp.predict_proba(X))
    keras = KerasClassifier(dense_classifier, model__units=8, epochs=2, random_state=0).fit(X, y)
    state = keras.__getstate__()
    assert isinstance(state["model_"], bytes)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(keras)).predict_proba(X), keras.predict_proba(X))


def test_routed_parameters_reach_the_model_and_the_optimizer(digits):
    X, y = digits
    model = KerasClassifier(dense_classifier, model__units=5, optimizer="sgd", optimizer__learning_rate=0.3,
                            optimizer__momentum=0.5, epochs=1, random_state=0)
    assert model.get_params()["model__units"] == 5
    model.set_params(model__units=7).fit(X, y)
    assert model.model_.layers[0].units == 7
    assert model.model_.optimizer.learning_rate == 0.3 and model.model_.optimizer.momentum == 0.5
    with pytest.raises(ValueError, match="routed parameters start with"):
        KerasClassifier(dense_classifier, units=5).fit(X, y)


def test_keras_classifier_wraps_a_conv1d_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12, 1))
    y = np.where(X.mean(axis=(1, 2)) > 0, "up", "down")
    model = KerasClassifier(conv1d_classifier, optimizer="adam", optimizer__learning_rate=0.02, epochs=30,
                            batch_size=32, random_state=0).fit(X, y)
    assert set(model.classes_) == {"down", "up"} and model.predict_proba(X).shape == (200, 2)
    assert model.score(X, y) > 0.8


def test_keras_regressor_wraps_a_gru_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 6, 2))
    y = X[:, :, 0].sum(axis=1) * 0.3
    model = KerasRegressor(gru_regressor, optimizer="adam", optimizer__learning_rate=0.02, epochs=25,
                           random_state=0).fit(X, y)
    assert model.predict(X).shape == (150,) and model.score(X, y) > 0.8
    assert len(model.history_["loss"]) == 25
