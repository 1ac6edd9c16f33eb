"""Learning-curve predictors and the registry that builds them by name or import path.

``make_predictor("nusvr", tau=5, budget="cheap", seed=0)`` returns an unfitted estimator with
``fit``/``predict``/``predict_dist``. A user's own predictor plugs in as ``"package.module:Class"``
(constructed with the keyword arguments it accepts among ``seed``, ``tau``, ``n_search``, ``target``).

``target`` (``final`` | ``delta`` | ``auto``, see :data:`zoo.TARGETS`) applies to the searched models
(nusvr*, ols, blr, rf), whose features must start with the TS block so that column ``tau - 1`` is the
last seen value.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from .zoo import (
    SEARCH_BUDGETS,
    TARGETS,
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


def _t(kw: dict[str, Any]) -> dict[str, Any]:
    """Target mode of a searched model; the delta target reads the last seen value at column tau - 1."""
    return {"seed": kw["seed"], "target": kw["target"], "col": kw["tau"] - 1}


#: the searched models: they take a target mode
_SEARCHED: dict[str, Callable[..., Any]] = {
    "nusvr": lambda **kw: NuSVRPred(n_search=kw["n_search"], **_t(kw)),
    "nusvr_linear": lambda **kw: NuSVRPred(kernel="linear", n_search=kw["n_search"], **_t(kw)),
    "nusvr_rbf": lambda **kw: NuSVRPred(kernel="rbf", n_search=kw["n_search"], **_t(kw)),
    "ols": lambda **kw: OLSPred(n_search=max(5, kw["n_search"] // 10), **_t(kw)),
    "blr": lambda **kw: BLRPred(n_search=kw["n_search"], **_t(kw)),
    "rf": lambda **kw: RFPred(n_search=max(3, kw["n_search"] // 10), max_trees=800 if kw["n_search"] >= 1000 else 200,
                              **_t(kw)),
}
#: registry entries that take a target mode
TARGETED = frozenset(_SEARCHED)

PREDICTORS: dict[str, Callable[..., Any]] = {
    **_SEARCHED,
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


def make_predictor(name: str, *, tau: int = 1, budget: str | int = "cheap", seed: int = 0,
                   target: str = "final") -> Any:
    if target not in TARGETS:
        raise ValueError(f"target is {target!r}, but must be one of {TARGETS}")
    kw = {"tau": tau, "n_search": budget_size(budget), "seed": seed, "target": target}
    if name in PREDICTORS:
        if target != "final" and name not in TARGETED:
            raise ValueError(f"predictor {name!r} predicts y_T directly; target {target!r} is available for "
                             f"{sorted(TARGETED)}")
        return PREDICTORS[name](**kw)
    if ":" in name:
        mod, _, attr = name.partition(":")
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"predictor {name!r}: cannot import ({e})") from None
        accepted = inspect.signature(cls).parameters
        if target != "final" and "target" not in accepted:
            raise ValueError(f"predictor {name!r} takes no 'target' argument, so target {target!r} cannot apply")
        est = cls(**{k: v for k, v in kw.items() if k in accepted})
        for method in ("fit", "predict"):
            if not callable(getattr(est, method, None)):
                raise ValueError(f"predictor {name!r} has no {method}() method")
        return est if hasattr(est, "refit_fixed") and hasattr(est, "predict_dist") else Wrapped(estimator=est)
    raise ValueError(f"predictor is {name!r}, but must be one of {sorted(PREDICTORS)} or 'module:Class'")
