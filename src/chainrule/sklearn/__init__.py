"""scikit-learn estimators over chainrule: swap the import and keep the code.

``MLPClassifier`` and ``MLPRegressor`` take ``sklearn.neural_network``'s parameters and give its fitted
attributes; ``KerasClassifier`` and ``KerasRegressor`` (the names scikeras made familiar) make any
chainrule model an estimator. Needs scikit-learn and SciPy (``pip install chainrule[all]``).
"""
from .keras import KerasClassifier, KerasRegressor
from .mlp import MLPClassifier, MLPRegressor

__all__ = ["KerasClassifier", "KerasRegressor", "MLPClassifier", "MLPRegressor"]
