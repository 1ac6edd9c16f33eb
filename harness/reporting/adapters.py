"""results/adapters.md: where the libraries' algorithms depart from the paper's arithmetic, with numbers."""

from __future__ import annotations

from typing import Any

from ..hb import asha_rungs, brackets, max_bracket


def _li(R: int, eta: int) -> list[str]:
    rows = []
    for b in brackets(R, eta):
        rows.append(f"s={b.s}: {b.n} configs, rungs " + " → ".join(str(r.r_i) for r in b.rungs))
    return rows


def _optuna_hyperband(R: int, eta: int) -> tuple[int, list[str]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    p = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=R, reduction_factor=eta)
    study = optuna.create_study(pruner=p)
    t = study.ask()
    t.report(0.0, 1)
    t.should_prune()  # initialises the brackets
    budgets = list(p._trial_allocation_budgets)
    total = sum(budgets)
    rows = []
    for k, (sub, share) in enumerate(zip(p._pruners, budgets, strict=True)):
        r, rungs = sub._min_resource * eta ** sub._min_early_stopping_rate, []
        while r < R:
            rungs.append(str(r))
            r *= eta
        rows.append(f"bracket {k}: {100 * share / total:.1f}% of trials, rungs " + " → ".join(rungs + [f"{R} (end)"]))
    return p._n_brackets, rows


def arithmetic_section(cfg: dict[str, Any]) -> str:
    """Brackets, rungs and trial shares of each algorithm at the experiment's R (each dataset's T) and eta."""
    from ..datasets import load_dataset

    eta = int(cfg["params"].get("eta", 3))
    lines = ["## Where the libraries depart from the paper's arithmetic", ""]
    for ds in cfg["datasets"]:
        R = int(cfg["params"].get("R") or load_dataset(ds).n_epochs)
        li = brackets(R, eta)
        shares = [b.n / sum(x.n for x in li) for x in li for b in [x]]
        lines += [f"### {ds}: R = {R}, eta = {eta}", "",
                  f"- **Hyperband (Li et al., SPEC 1)**: s_max + 1 = {max_bracket(R, eta) + 1} brackets; "
                  "rungs at round(R / eta^(s - i)), the last one exactly R; configs per bracket "
                  "ceil((s_max + 1) eta^s / (s + 1)):",
                  *(f"  - {row} ({100 * sh:.1f}% of configs)" for row, sh in zip(_li(R, eta), shares, strict=True))]
        try:
            n, rows = _optuna_hyperband(R, eta)
            lines += [f"- **optuna:HyperbandPruner**: {n} brackets (Li et al.: {max_bracket(R, eta) + 1}); each "
                      "bracket is an asynchronous successive-halving pruner whose rungs are powers of eta from "
                      "min_resource (not R / eta^k), with no rung at R: a trial past the last rung runs to R; trials "
                      "go to brackets by a hash of the study name and trial number, in these shares:",
                      *(f"  - {row}" for row in rows)]
        except ImportError:
            lines.append("- optuna:HyperbandPruner: Optuna not installed here.")
        lines += [f"- **optuna:SuccessiveHalvingPruner** (min_resource=1, reduction_factor={eta}): rungs "
                  + " → ".join(str(r) for r in asha_rungs(R, eta)[:-1]) + "; a trial is pruned at a rung unless it "
                  "is in the top 1/eta of the trials that reached that rung so far (asynchronous, stopping type).",
                  f"- **asha (here)**: rungs {' → '.join(map(str, asha_rungs(R, eta)))}; a free worker promotes the "
                  "best not-yet-promoted trial of the top 1/eta of the highest rung (promotion type: paused trials "
                  "resume).",
                  f"- **synetune:ASHA** (grace_period=1, reduction_factor={eta}, max_t={R}): rungs "
                  + " → ".join(str(r) for r in asha_rungs(R, eta)[:-1]) + f" and {R}; stopping type: a trial "
                  "continues or stops when it reports at a rung; it is never paused and resumed.", ""]
    lines += keep_rules_section(eta)
    return "\n".join(lines) + "\n"


KEEP_RULE_VALUES = (1.0, 2.0, 1.5)


def keep_rules(eta: int = 3, values: tuple[float, ...] = KEEP_RULE_VALUES) -> dict[str, list[bool]]:
    """Which of ``values`` (losses reported one after the other at the first rung) each library lets continue:
    Optuna's SuccessiveHalvingPruner and Syne Tune's ASHA, asked directly (measured, not assumed)."""
    out: dict[str, list[bool]] = {}
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="minimize",
                                    pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=eta))
        keep = []
        for v in values:
            t = study.ask()
            t.report(v, 1)
            pruned = t.should_prune()
            keep.append(not pruned)
            study.tell(t, state=optuna.trial.TrialState.PRUNED) if pruned else study.tell(t, v)
        out["optuna:SuccessiveHalvingPruner"] = keep
    except ImportError:
        pass
    try:
        import datetime
        import logging

        from syne_tune.backend.trial_status import Trial
        from syne_tune.config_space import randint
        from syne_tune.optimizer.baselines import ASHA

        logging.getLogger("syne_tune").setLevel(logging.ERROR)
        sch = ASHA(config_space={"x": randint(0, 10)}, metric="loss", do_minimize=True, time_attr="epoch",
                   max_t=eta**3, grace_period=1, reduction_factor=eta, random_seed=0)
        keep = []
        for i, v in enumerate(values):
            tr = Trial(trial_id=i, config=dict(sch.suggest().config), creation_time=datetime.datetime(2020, 1, 1))
            sch.on_trial_add(tr)
            keep.append(str(sch.on_trial_result(tr, {"loss": v, "epoch": 1})).upper() == "CONTINUE")
        out["synetune:ASHA"] = keep
    except ImportError:
        pass
    return out


def keep_rules_section(eta: int) -> list[str]:
    """The two libraries' keep rules at a rung, with what they decide on three reported losses."""
    got = keep_rules(eta)
    if not got:
        return []
    vals = ", ".join(f"{v:g}" for v in KEEP_RULE_VALUES)

    def said(keep: list[bool]) -> str:
        return "; ".join(f"{v:g} {'continues' if k else 'stops'}" for v, k in zip(KEEP_RULE_VALUES, keep, strict=True))

    lines = ["### Keep rules at a rung, measured", "",
             f"Losses {vals} reported one after the other at the first rung (eta = {eta}), each library asked:", ""]
    if "synetune:ASHA" in got:
        lines.append(f"- **synetune:ASHA**: a trial continues if the share of the rung's values strictly better than "
                     f"its own is at most 1/eta: {said(got['synetune:ASHA'])}.")
    if "optuna:SuccessiveHalvingPruner" in got:
        lines.append(f"- **optuna:SuccessiveHalvingPruner**: a trial continues only if it is among the best "
                     f"max(1, n // eta) of the n values at the rung: {said(got['optuna:SuccessiveHalvingPruner'])}.")
    return [*lines, ""]
