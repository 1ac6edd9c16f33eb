"""The predictor contract, and a small base that supplies what point predictors share.

A predictor maps feature rows (Baker's TS/AP/HP features, or a raw curve prefix) to the value a curve
will reach at a target epoch. It follows the scikit-learn estimator contract (keyword-only ``__init__``
without logic, ``fit`` returns self, learned attributes end in ``_``) plus two methods the algorithms
and the SRM error model need:

* ``predict_dist(X) -> (mean, std)``: ``std`` is the model's own predictive standard deviation, or NaN
  where it has none (the SRM then supplies the LOOCV Gaussian error model, SPEC 2.4);
* ``refit_fixed(X, y)``: a new predictor fitted with the hyperparameters already selected (no search),
  used by the LOOCV / K-fold error model.

Construction goes through one factory, :func:`harness.predictors.make_predictor`, which passes each
class the keyword arguments it accepts among ``seed``, ``tau``, ``n_search``, ``target`` and ``col``
(the last-seen-value column, ``tau - 1``), plus the user's ``predictor_options``. A class may
customise this with a ``from_context`` classmethod of the same signature as :func:`default_build`
(without ``cls``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone


@runtime_checkable
class Predictor(Protocol):
    def fit(self, X: np.ndarray, y: np.ndarray) -> Predictor: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def refit_fixed(self, X: np.ndarray, y: np.ndarray) -> Predictor: ...


class PointPredictor(BaseEstimator, RegressorMixin):
    """Base of predictors without their own uncertainty: ``predict_dist`` returns NaN std, ``refit_fixed``
    refits a clone (a subclass with a hyperparameter search overrides it to skip the search)."""

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = np.asarray(self.predict(X), float)
        return m, np.full_like(m, np.nan)

    def refit_fixed(self, X: np.ndarray, y: np.ndarray) -> Any:
        return clone(self).fit(X, y)


from .contract import CONTEXT_ARGS, constructor_args, default_build  # noqa: E402,F401  (re-exported)
