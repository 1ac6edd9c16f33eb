"""Hydra entry point: ``python -m generate population=digits_cnn [key=value ...]``.

Scale-out: ``python -m generate -m population=cifar10_metaqnn n_shards=4 shard=0,1,2,3
hydra/launcher=joblib`` (or ``hydra/launcher=submitit_slurm`` on a cluster) trains the shards in
parallel into one shared run directory; ``python -m generate.export runs/<name>`` merges them.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("generate")


def check_export_target(out: Path, overwrite: bool) -> None:
    """Refuse, before any training, to replace a stored dataset (an embedded default above all)."""
    if (out / "metadata.json").is_file() and not overwrite:
        raise ValueError(f"{out} already holds a dataset; this run would replace it on export. Pass overwrite=true "
                         f"to replace it, export=<another folder>, or export=false")


def check_clean_tree(allow_dirty: bool, root: Path | None = None) -> None:
    """Refuse, before any training, a run that would export a dataset made from uncommitted code."""
    from harness.provenance import git_state

    st = git_state(root)
    if st["git_clean"] is False and not allow_dirty:
        files = st["git_dirty_files"]
        raise ValueError(f"the code has uncommitted changes ({', '.join(files[:3])}{', ...' if len(files) > 3 else ''}); "
                         "a dataset exported from it could not be regenerated from its commit. Commit first, or pass "
                         "allow_dirty=true (the diff's hash is recorded), or export=false")


def to_config(cfg: DictConfig) -> Any:
    from .engine import DataConfig, GenerateConfig
    from .spaces import SpaceConfig

    d: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    pop = d.pop("population")
    space = {k: tuple(v) if isinstance(v, list) else v for k, v in pop.pop("space", {}).items()}
    data = pop.pop("data", {})
    merged = {**pop, **{k: v for k, v in d.items()
                        if k not in ("export", "overwrite", "allow_dirty", "hydra") and v is not None}}
    return GenerateConfig(space=SpaceConfig(**space), data=DataConfig(**data), **merged)


@hydra.main(version_base=None, config_path="../conf", config_name="generate")
def main(cfg: DictConfig) -> None:
    from harness.store import save

    from .engine import Run, RunLocked
    from .export import export

    try:
        gc = to_config(cfg)
        out = Path("datasets") / gc.name if cfg.export is True else Path(str(cfg.export))
        if cfg.export and gc.n_shards == 1:
            check_export_target(out, bool(cfg.overwrite))
            check_clean_tree(bool(cfg.get("allow_dirty", False)))
        run = Run(gc)
        n = run.execute()
    except (ValueError, TypeError, FileNotFoundError, RunLocked) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("interrupted: every finished epoch is saved; rerun the same command to resume", file=sys.stderr)
        raise SystemExit(130) from None
    log.info("trained %d epochs in %s", n, run.dir)
    if cfg.export and gc.n_shards == 1:
        cs = export(run.dir, allow_dirty=bool(cfg.get("allow_dirty", False)))
        save(cs, out)
        print(f"exported {cs.n_configs} configs x {cs.n_epochs} epochs -> {out}")


if __name__ == "__main__":
    main()
