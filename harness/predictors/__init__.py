"""Learning-curve predictors and the registry that builds them by name or import path.

``make_predictor("nusvr", tau=5, budget="cheap", seed=0)`` returns an unfitted estimator with
``fit``/``predict``/``predict_dist``. A user's own predictor plugs in as ``"package.module:Class"``
(constructed with the keyword arguments it accepts among ``seed``, ``tau``, ``n_search``).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from .zoo import (
    SEARCH_BUDGETS,
    BLRPred,
    LastSeenPred,
    MeanPred,
    NuSVRPred,
    OLSPred,
    RFPred,
    SwiftSVR,
    Wrapped,
)


def _qsvr(**kw: Any) -> Any:
    from .qsvr import QSVRPred

    return QSVRPred(seed=kw.get("seed", 0))


PREDICTORS: dict[str, Callable[..., Any]] = {
    "nusvr": lambda **kw: NuSVRPred(n_search=kw["n_search"], seed=kw["seed"]),
    "nusvr_linear": lambda **kw: NuSVRPred(kernel="linear", n_search=kw["n_search"], seed=kw["seed"]),
    "nusvr_rbf": lambda **kw: NuSVRPred(kernel="rbf", n_search=kw["n_search"], seed=kw["seed"]),
    "ols": lambda **kw: OLSPred(n_search=max(5, kw["n_search"] // 10), seed=kw["seed"]),
    "blr": lambda **kw: BLRPred(n_search=kw["n_search"], seed=kw["seed"]),
    "rf": lambda **kw: RFPred(n_search=max(3, kw["n_search"] // 10), max_trees=800 if kw["n_search"] >= 1000 else 200,
                              seed=kw["seed"]),
    "lastseen": lambda **kw: LastSeenPred(col=kw["tau"] - 1),
    "mean": lambda **kw: MeanPred(),
    "swift_svr": lambda **kw: SwiftSVR(),
    "qsvr": _qsvr,
}


def budget_size(budget: str | int) -> int:
    if isinstance(budget, int):
        return budget
    if budget not in SEARCH_BUDGETS:
        raise ValueError(f"search budget is {budget!r}, but must be an integer or one of {sorted(SEARCH_BUDGETS)}")
    return SEARCH_BUDGETS[budget]


def make_predictor(name: str, *, tau: int = 1, budget: str | int = "cheap", seed: int = 0) -> Any:
    kw = {"tau": tau, "n_search": budget_size(budget), "seed": seed}
    if name in PREDICTORS:
        return PREDICTORS[name](**kw)
    if ":" in name:
        mod, _, attr = name.partition(":")
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"predictor {name!r}: cannot import ({e})") from None
        accepted = inspect.signature(cls).parameters
        est = cls(**{k: v for k, v in kw.items() if k in accepted})
        for method in ("fit", "predict"):
            if not callable(getattr(est, method, None)):
                raise ValueError(f"predictor {name!r} has no {method}() method")
        return est if hasattr(est, "refit_fixed") and hasattr(est, "predict_dist") else Wrapped(estimator=est)
    raise ValueError(f"predictor is {name!r}, but must be one of {sorted(PREDICTORS)} or 'module:Class'")
