"""Learning-curve predictors: the registry (name -> class) and the one factory that builds them.

``make_predictor("nusvr", tau=5, budget="cheap", seed=0)`` returns an unfitted predictor following
:class:`harness.predictors.base.Predictor` (``fit`` / ``predict`` / ``predict_dist`` / ``refit_fixed``).
A user's own predictor plugs in as ``"package.module:Class"``: any scikit-learn-style regressor works
(one without ``predict_dist`` / ``refit_fixed`` is wrapped), constructed with the keyword arguments it
accepts among ``seed``, ``tau``, ``n_search``, ``target``, ``col``, plus ``options`` (a class may
take over with a ``from_context(*, tau, seed, n_search, target, options)`` classmethod).

``target`` (``final`` | ``delta`` | ``auto``, see :data:`zoo.TARGETS`) applies to the searched models
(nusvr*, ols, blr, rf), whose features must start with the TS block so that column ``tau - 1`` is the
last seen value.

The registry imports a predictor's module only when it is looked up, so ``import harness.predictors``
stays cheap (no scikit-learn until a predictor is built).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from .budgets import SEARCH_BUDGETS, TARGETS  # noqa: F401  (the registry's names for them)


class _LazyRegistry(Mapping[str, type]):
    """name -> class, importing ``module:Class`` on first lookup."""

    def __init__(self, paths: dict[str, str]):
        self._paths = dict(paths)
        self._loaded: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        if name not in self._loaded:
            mod, _, attr = self._paths[name].partition(":")
            self._loaded[name] = getattr(importlib.import_module(mod), attr)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, name: object) -> bool:
        return name in self._paths

    def module_of(self, name: str) -> str:
        """The module that defines a registered name (without importing it)."""
        return self._paths[name].partition(":")[0]


_Z = "harness.predictors.zoo"
#: name -> predictor class (explicit; no registration on import)
PREDICTORS: Mapping[str, type] = _LazyRegistry({
    "nusvr": f"{_Z}:NuSVRPred",
    "nusvr_linear": f"{_Z}:NuSVRLinear",
    "nusvr_rbf": f"{_Z}:NuSVRRBF",
    "ols": f"{_Z}:OLSPred",
    "blr": f"{_Z}:BLRPred",
    "rf": f"{_Z}:RFPred",
    "lastseen": f"{_Z}:LastSeenPred",
    "mean": f"{_Z}:MeanPred",
    "swift_svr": f"{_Z}:SwiftSVR",
    "qsvr": "harness.predictors.qsvr:QSVRPred",
})
#: registry entries that take a regression target (the searched models)
TARGETED = frozenset({"nusvr", "nusvr_linear", "nusvr_rbf", "ols", "blr", "rf"})


def budget_size(budget: str | int) -> int:
    """Draws of a search budget: a name of :data:`SEARCH_BUDGETS` or a positive integer (also as a string, as
    ``--budget 50`` gives it)."""
    if isinstance(budget, str) and budget.strip().lstrip("+-").isdigit():
        budget = int(budget)
    if isinstance(budget, int) and not isinstance(budget, bool):
        if budget < 1:
            raise ValueError(f"search budget is {budget}, but must be >= 1")
        return budget
    if budget not in SEARCH_BUDGETS:
        raise ValueError(f"search budget is {budget!r}, but must be an integer or one of {sorted(SEARCH_BUDGETS)}")
    return SEARCH_BUDGETS[budget]


def resolve(name: str | type) -> type:
    """A registry name, a ``module:Class`` import path, or a class -> the predictor class."""
    if isinstance(name, type):
        return name
    if name in PREDICTORS:
        return PREDICTORS[name]
    if isinstance(name, str) and ":" in name:
        mod, _, attr = name.partition(":")
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"predictor {name!r}: cannot import ({e})") from None
        if not isinstance(cls, type):
            raise ValueError(f"predictor {name!r} is not a class")
        return cls
    raise ValueError(f"predictor is {name!r}, but must be one of {sorted(PREDICTORS)} or 'module:Class'")


def check(name: str | type, options: Mapping[str, Any] | None = None, target: str = "final") -> type | None:
    """Check that ``name``'s constructor takes ``options`` and ``target`` (one-line errors); returns its class, or
    None for a registry name (checked from :data:`contract.REGISTRY_ARGS`, its module not imported)."""
    from .contract import CONTEXT_ARGS, REGISTRY_ARGS, constructor_args

    if target not in TARGETS:
        raise ValueError(f"target is {target!r}, but must be one of {TARGETS}")
    registered = isinstance(name, str) and name in REGISTRY_ARGS
    cls = None if registered else resolve(name)  # a registry name is checked without importing its module
    accepted = REGISTRY_ARGS[name] if registered else constructor_args(cls)
    if target != "final":
        if isinstance(name, str) and name in PREDICTORS and name not in TARGETED:
            raise ValueError(f"predictor {name!r} predicts y_T directly; target {target!r} is available for "
                             f"{sorted(TARGETED)}")
        if "target" not in accepted and "*" not in accepted:
            raise ValueError(f"predictor {name!r} takes no 'target' argument, so target {target!r} cannot apply")
    bad = [k for k in (options or {}) if k not in accepted and "*" not in accepted]
    if bad:
        valid = sorted(accepted - set(CONTEXT_ARGS))
        raise ValueError(f"predictor {name!r} has no option {bad[0]!r}; its options: {', '.join(valid) or 'none'}")
    if cls is None:
        return None
    for method in ("fit", "predict"):
        if not callable(getattr(cls, method, None)):
            raise ValueError(f"predictor {name!r} has no {method}() method")
    return cls


def make_predictor(name: str | type, *, tau: int = 1, budget: str | int = "cheap", seed: int = 0,
                   target: str = "final", options: Mapping[str, Any] | None = None) -> Any:
    """The one factory: an unfitted predictor following :class:`~harness.predictors.base.Predictor`."""
    from .contract import default_build

    cls = check(name, options, target) or resolve(name)
    ctx = {"tau": tau, "seed": seed, "n_search": budget_size(budget), "target": target, "options": dict(options or {})}
    build = getattr(cls, "from_context", None)
    est = build(**ctx) if callable(build) else default_build(cls, **ctx)
    if callable(getattr(est, "predict_dist", None)) and callable(getattr(est, "refit_fixed", None)):
        return est
    from .zoo import Wrapped

    return Wrapped(estimator=est)
