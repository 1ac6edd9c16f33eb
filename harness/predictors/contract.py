"""What building a predictor needs to know without importing it (no scikit-learn): the context arguments the
factory offers, how to read a constructor's arguments, and the registry classes' arguments.

:data:`REGISTRY_ARGS` lets a settings check (``--set predictor=blr --set predictor_options=...``) name a bad
option before anything heavy is imported; tests/predictors/test_zoo.py keeps it equal to the classes' signatures.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

#: the context the factory offers a predictor's constructor
CONTEXT_ARGS = ("seed", "tau", "n_search", "target", "col")

_SEARCHED = frozenset({"n_search", "cv", "seed", "target", "col", "clip_features", "level_tol", "keep_collapsed"})
#: constructor arguments of the registry's classes (harness.predictors.PREDICTORS)
REGISTRY_ARGS: dict[str, frozenset[str]] = {
    "nusvr": _SEARCHED | {"kernel"},
    "nusvr_linear": _SEARCHED | {"kernel"},
    "nusvr_rbf": _SEARCHED | {"kernel"},
    "ols": _SEARCHED,
    "blr": _SEARCHED | {"halflife"},
    "rf": _SEARCHED | {"max_trees"},
    "lastseen": frozenset({"col"}),
    "mean": frozenset({"col"}),
    "swift_svr": frozenset({"C", "nu"}),
    "qsvr": frozenset({"B", "C", "K", "backend", "beta", "bias_mode", "combo_mode", "epsilon", "gamma", "k0",
                       "max_qubits", "num_reads", "num_sweeps", "rule", "seed", "xi"}),
}


@functools.cache
def constructor_args(cls: type) -> frozenset[str]:
    """Keyword arguments ``cls`` accepts (``{"*"}`` for ``**kwargs``); cached per class."""
    params = inspect.signature(cls).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return frozenset({"*"})
    return frozenset(params)


def default_build(cls: type, *, tau: int, seed: int, n_search: int, target: str,
                  options: dict[str, Any]) -> Any:
    """Pass ``cls`` the context arguments its constructor accepts, then the user's options."""
    accepted = constructor_args(cls)
    context = {"seed": seed, "tau": tau, "n_search": n_search, "target": target, "col": tau - 1}
    kw = {k: v for k, v in context.items() if k in accepted or "*" in accepted}
    kw.update(options)
    return cls(**kw)
