"""HPO algorithms, each a :class:`harness.scheduler.Scheduler`, and the registry that names them.

``ALGORITHMS`` maps a name to a class (explicit; nothing registers itself on import). A user's own
scheduler runs by import path: ``harness replay -a mypkg.schedulers:MyHB`` (see :func:`resolve`).
Adding an algorithm here is one module and one line below.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from ..config import AlgorithmConfig
from ..scheduler import Scheduler
from .asha import ASHA, SwiftASHA
from .dpl import DPL
from .dyhpo import DyHPO
from .fhyperband import EarlyStopSim, FHyperband
from .hyperband import Hyperband, RandomSearch, SuccessiveHalving
from .swift import SwiftHyperband

ALGORITHMS: dict[str, type[Scheduler]] = {
    "hyperband": Hyperband,
    "successive_halving": SuccessiveHalving,
    "random": RandomSearch,
    "swift": SwiftHyperband,
    "fhyperband": FHyperband,
    "earlystop": EarlyStopSim,
    "asha": ASHA,
    "swift_asha": SwiftASHA,
    "dpl": DPL,
    "dyhpo": DyHPO,
}

__all__ = ["ALGORITHMS", "ASHA", "DPL", "DyHPO", "EarlyStopSim", "FHyperband", "Hyperband", "RandomSearch", "SuccessiveHalving",
           "SwiftASHA", "SwiftHyperband", "build_configs", "resolve"]


def resolve(name: str) -> type[Scheduler]:
    """A registry name or a ``module:Class`` import path (``@LABEL`` ignored) -> the scheduler class."""
    name = split_instance(name)[0]
    from ..adapters import is_adapter

    if is_adapter(name):
        from ..adapters import resolve as resolve_adapter

        return resolve_adapter(name)
    if name in ALGORITHMS:
        return ALGORITHMS[name]
    if ":" in name:
        mod, _, attr = name.partition(":")
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except ImportError as e:
            raise ValueError(f"algorithm {name!r}: cannot import module {mod!r} ({e})") from None
        except AttributeError:
            raise ValueError(f"algorithm {name!r}: module {mod!r} has no {attr!r}") from None
        if not (isinstance(cls, type) and issubclass(cls, Scheduler)):
            raise ValueError(f"algorithm {name!r} is not a harness.Scheduler subclass")
        if not hasattr(cls, "Config"):
            raise ValueError(f"algorithm {name!r} declares no Config (a frozen AlgorithmConfig dataclass)")
        return cls
    raise ValueError(f"algorithm is {name!r}, but must be one of {', '.join(ALGORITHMS)} or 'module:Class'")


def split_instance(name: str) -> tuple[str, str]:
    """``swift@qsvr`` -> (``swift``, ``swift@qsvr``); ``hyperband`` -> (``hyperband``, ``hyperband``)."""
    base = name.split("@", 1)[0]
    return base, name


def build_configs(algorithms: list[str], settings: Mapping[str, Any], run_level: Mapping[str, Any] | None = None,
                  option: str = "--set") -> dict[str, AlgorithmConfig]:
    """The checked config of every algorithm instance of a run.

    ``run_level`` (``--R``, ``--eta``) and un-prefixed keys apply to every algorithm that has the setting;
    ``NAME.key`` to every instance of NAME, ``NAME@LABEL.key`` to that instance. A key no algorithm of the
    run has, or a prefix naming no algorithm of the run, is a one-line error.
    """
    classes = {a: resolve(split_instance(a)[0]) for a in algorithms}
    names = {a: set(cls.Config.names()) for a, cls in classes.items()}
    per: dict[str, dict[str, Any]] = {a: {k: v for k, v in (run_level or {}).items() if k in names[a]}
                                      for a in algorithms}
    plain = {k: v for k, v in settings.items() if "." not in k}
    prefixed = dict(sorted(((k, v) for k, v in settings.items() if "." in k), key=lambda kv: "@" in kv[0]))
    for key, v in plain.items():
        targets = [a for a in algorithms if key in names[a]]
        if not targets:
            valid = sorted(set().union(*names.values()))
            raise ValueError(f"{option} {key}={v!r}: no algorithm of this run ({', '.join(algorithms)}) has a "
                             f"setting {key!r}; valid settings: {', '.join(valid)}")
        for a in targets:
            per[a][key] = v
    for key, v in prefixed.items():  # NAME.key / NAME@LABEL.key win over un-prefixed keys
        prefix, k = key.rsplit(".", 1)
        targets = [a for a in algorithms if prefix in _prefixes(a, classes[a])]
        if not targets:
            raise ValueError(f"{option} {key}={v!r}: {prefix!r} is not an algorithm of this run "
                             f"({', '.join(algorithms)})")
        for a in targets:
            if k not in names[a]:
                raise ValueError(f"{option} {key}={v!r}: {classes[a].Config.algorithm} has no setting {k!r}; "
                                 f"valid settings: {', '.join(classes[a].Config.names())}")
            per[a][k] = v
    return {a: classes[a].Config.from_dict(per[a], where=f"settings of {a}") for a in algorithms}


def _prefixes(instance: str, cls: type[Scheduler]) -> set[str]:
    """What ``PREFIX.key`` may name: the instance (``swift@qsvr``), its algorithm (``swift``) and, for a class
    run by import path, the ``name`` it declares itself (``median_stop`` for ``median_stop:MedianStop``)."""
    out = {instance, split_instance(instance)[0]}
    if ":" in instance and "name" in vars(cls):
        out.add(cls.name)
    return out
