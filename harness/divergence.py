"""Diverged configurations and the scale regret is measured on.

A pool can hold configurations whose curves explode (TaskSet's IMDB RNNs reach final losses of 67.6 and 191.6
where the median is 0.69). Kept in the normalising range, two of them make every other configuration look
optimal. Each family names the rule the field uses for its data (``CurveSet.provenance["divergence"]``):

* ``dpl`` (TaskSet): the rule of the DPL code's TaskSet loader (releaunifreiburg/DPL, ``benchmarks/taskset.py``,
  ``filter_curves``): a configuration is kept when every value of its validation-loss curve is finite and below
  the smallest, over epochs, of the per-epoch 0.95-quantiles of the pool. Applied here to the curves as this
  harness stores them (epochs 1..T; the DPL loader also sees index 0, the evaluation before training, which lies
  below the quantiles of every task here, so the kept set is the same). Rows the ``--nan-policy`` already
  dropped are not seen again.
* ``none`` (every other family): only non-finite values count (``--nan-policy``).

:func:`pool_scale` gives what regret is normalised by: the best final value of the pool's non-diverged
configurations and their median (choice: best to median, so 1.0 is "as good as a typical configuration of the
pool" whatever the worst ones did; the worst non-diverged value is given too, for the DPL-style best-to-worst
scale).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .store import CurveSet

RULES = ("none", "dpl")


def rule_of(cs: CurveSet) -> str:
    """The divergence rule of a dataset (its family's, stored in its provenance), ``none`` when it names none."""
    rule = (cs.provenance or {}).get("divergence", "none")
    return rule if rule in RULES else "none"


def diverged(losses: np.ndarray, rule: str) -> np.ndarray:
    """Boolean mask of the rows of an (N, T) loss table (minimised) that ``rule`` calls diverged."""
    if rule not in RULES:
        raise ValueError(f"divergence rule is {rule!r}, but must be one of {', '.join(RULES)}")
    finite = np.isfinite(losses).all(axis=1)
    if rule == "none" or not finite.any():
        return ~finite
    with np.errstate(invalid="ignore"):
        q = np.nanquantile(np.where(np.isfinite(losses), losses, np.nan), 0.95, axis=0)  # pandas' linear rule
    threshold = float(np.nanmin(q))
    with np.errstate(invalid="ignore"):
        below = (losses < threshold).all(axis=1)
    return ~(finite & below)


def pool_scale(cs: CurveSet) -> dict[str, Any]:
    """The regret scale of a dataset: ``best``, ``median`` and ``worst`` final loss (minimised; a maximised metric
    negated) over its non-diverged configurations, the rule, and how many configurations it left out
    (``diverged``) and the nan policy dropped before (``dropped``, with the policy)."""
    loss = cs.loss()
    info = cs.info or {}
    already = "diverged_ids" in info  # dropped at load (diverged=drop): the rule is not applied twice
    bad = diverged(loss, "none" if already else rule_of(cs))
    final = loss[~bad, -1]
    final = final[np.isfinite(final)]
    if not final.size:  # every configuration diverged: the range of what is finite
        final = loss[:, -1][np.isfinite(loss[:, -1])]
    return {"best": float(final.min()), "median": float(np.median(final)), "worst": float(final.max()),
            "rule": rule_of(cs), "diverged": len(info["diverged_ids"]) if already else int(bad.sum()),
            "diverged_dropped": already, "configs": cs.n_configs,
            "dropped": len(info.get("dropped_ids", [])), "nan_policy": info.get("nan_policy", "drop")}


def drop_diverged(cs: CurveSet) -> CurveSet:
    """``cs`` without the configurations its rule calls diverged (their ids in ``info['diverged_ids']``)."""
    from dataclasses import replace

    bad = diverged(cs.loss(), rule_of(cs))
    if not bad.any():
        return replace(cs, info={**(cs.info or {}), "diverged_ids": []})
    keep = np.flatnonzero(~bad)
    return replace(cs.subset(keep), info={**(cs.info or {}), "diverged_ids": [str(i) for i in cs.ids[bad]]})
