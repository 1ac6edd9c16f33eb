"""``harness datasets list|describe|validate|import|export``: the catalogue of benchmark families and the
datasets stored here."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

NAN_POLICIES = ("drop", "pad", "keep", "error")

HELP = """\
list      the catalogue: every dataset by family, with its kind (recorded runs, surrogate predictions, made here
          by generate), configurations x epochs, licence and whether its files are on this machine
describe  one dataset: shape, metrics, features, best final value, content hash, family, kind, licence, provenance
validate  load a dataset or folder and check it (--strict: any non-finite objective value is an error)
import    store a dataset under datasets/: a folder with dataset.json, a Syne Tune blackbox folder, a TaskSet
          task file (or a folder of them), or synetune:<name> from Syne Tune's local blackbox repository
export    write a dataset to a folder, in this project's format or as a Syne Tune blackbox (--format synetune)
fetch     download a family's public files (taskset, lcbench, or one of their datasets), checked by sha256, into
          the data home ($LC_HARNESS_HOME; harness datasets list says where)"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("datasets", help="the catalogue of benchmark datasets: list, describe, validate, import, export",
                       description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("action", choices=["list", "describe", "validate", "import", "export", "fetch"])
    d.add_argument("name", nargs="?", help="dataset name or folder; import: a folder, a TaskSet .json file, or "
                                           "synetune:<name>")
    d.add_argument("target", nargs="?", help="export: destination folder")
    d.add_argument("--nan-policy", default="drop", choices=NAN_POLICIES)
    d.add_argument("--strict", action="store_true", help="validate: any non-finite objective value is an error")
    d.add_argument("--out", "--to", dest="out", help="import: destination folder (default: <data home>/datasets/<name>)")
    d.add_argument("--overwrite", action="store_true", help="import/export: replace a dataset stored there "
                                                            "(never an embedded default)")
    d.add_argument("--family", help="list: only this family")
    d.add_argument("--format", default="lc-harness", choices=["lc-harness", "synetune"],
                   help="export: this project's format or a Syne Tune blackbox")
    d.add_argument("--tunable-ap", action="store_true",
                   help="export --format synetune: put architecture (ap) columns in the config space (default: they "
                        "describe configurations but are not tuned)")
    d.add_argument("--task", help="import of a blackbox: which task (default: the first)")
    d.add_argument("--seed", type=int, default=0, help="import of a blackbox: which seed (default 0)")
    d.add_argument("--objective", help="import of a blackbox: the objective (default: its metadata's, else the first)")
    d.add_argument("--mode", choices=["min", "max"], help="import of a blackbox: the objective's direction")
    d.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        return list_catalogue(args.family)
    if not args.name:
        raise ValueError(f"harness datasets {args.action} needs a dataset name or folder")
    if args.action in ("describe", "validate"):
        return describe(args)
    if args.action == "export":
        return export(args)
    if args.action == "fetch":
        return fetch_command(args)
    return import_(args)


def fetch_command(args: argparse.Namespace) -> int:
    from ..fetch import fetch

    src, files, new = fetch(args.name, progress=True)
    root = files[0].parents[len(Path(src.files[0].path).parts) - 1] if files else None
    print(f"{src.family}: {len(files)} file(s) in {root} ({new} downloaded now, {len(files) - new} already there "
          f"and intact); licence {src.licence}; source {src.source}")
    return 0


# --- list / describe ----------------------------------------------------------------------------

def list_catalogue(only: str | None = None) -> int:
    from ..datasets import list_datasets

    entries = list_datasets()
    families = list(dict.fromkeys(e.family for e in entries))
    if only is not None and only not in families:
        raise ValueError(f"--family {only!r}: no such family; families: {', '.join(families)}")
    for fam in families:
        if only is not None and fam != only:
            continue
        rows = [e for e in entries if e.family == fam]
        present = sum(e.available for e in rows)
        kinds = sorted({e.kind for e in rows})
        licences = sorted({e.licence for e in rows})
        print(f"{fam}  ({'/'.join(kinds)}; {len(rows)} dataset{'s' if len(rows) != 1 else ''}, {present} present; "
              f"licence: {'; '.join(licences)})")
        names = [e.alias or e.name for e in rows]
        width = max(len(n) for n in names)
        for n, e in zip(names, rows, strict=True):
            status = "present" if e.available else "missing"
            note = f"  [{e.stored}]" if e.stored else f"  (= {e.name})" if e.alias else ""
            print(f"  {n:{width}s}  {e.shape:>12s}  {status}{note}")
        missing = [e for e in rows if not e.available]
        if missing:
            print(f"  {how_to_get(fam, missing[0].location)}")
        print()
    print("kind: recorded = curves of real training runs; surrogate = a model's predictions (YAHPO Gym), not runs; "
          "made here = populations trained by this repository's generate (CPU-sized). Shapes are configurations x "
          "epochs ('?' until loaded).")
    return 0


def how_to_get(family: str, location: Path) -> str:
    """One line: how to get a family's missing files (a fetch, or where to put them by hand)."""
    from ..datahome import data_home
    from ..fetch import BY_HAND, REGISTRY

    if family in REGISTRY:
        return f"fetch with: harness datasets fetch {family}   (into {data_home()}; licence {REGISTRY[family].licence})"
    if family in BY_HAND:
        return f"get from: {BY_HAND[family]}; place under {location.parent}"
    return f"expected at {location}"


def catalogue_facts(name: str) -> dict[str, Any]:
    """Family, kind, licence and location of a dataset name (empty for a folder path)."""
    from ..datasets import resolve_name

    try:
        task = resolve_name(name)
    except Exception:  # noqa: BLE001 (a path, not a name)
        return {}
    if task is None:
        return {}
    fam = task.family
    row = fam.catalogue_row(task.task)
    return {"family": row["family"], "kind": row["kind"], "licence": row["licence"], "location": row["location"],
            **({"stored": row["stored"]} if row.get("stored") else {})}


def describe(args: argparse.Namespace) -> int:
    from ..datasets import load_dataset
    from ..store import DatasetError

    policy = "error" if args.action == "validate" and args.strict else args.nan_policy
    try:
        cs = load_dataset(args.name, nan_policy=policy)
    except DatasetError as e:
        p = Path(args.name)
        if p.exists() and str(p) not in str(e):
            raise DatasetError(f"{p}: {e}") from None  # errors about a folder's contents name the folder
        raise
    if args.action == "validate":
        print(f"{args.name}: ok ({cs.n_configs} configs x {cs.n_epochs} epochs, {cs.content_hash()[:19]}, "
              f"nan_policy={policy}, non-finite ids: {len(cs.info.get('non_finite_ids', []))})")
        return 0
    facts = catalogue_facts(args.name)
    prov = cs.provenance or {}
    kind = facts.get("kind") or prov.get("kind") or "recorded"
    rows = dict(cs.describe())
    rows.update({k: v for k, v in facts.items() if k != "location"})
    rows["kind"] = kind + (" (model predictions, not recorded runs)" if kind == "surrogate" else "")
    if cs.surrogate is not None:
        rows["surrogate"] = f"{cs.surrogate.description}; any configuration of its space can be asked"
    if "generate_settings" in prov:
        from ..provenance import describe_git, describe_sessions

        rows["code"] = describe_git(prov)
        rows["sessions"] = describe_sessions(prov)
        rows["command"] = prov.get("command", "")
    from ..divergence import pool_scale

    scale = pool_scale(cs)
    policy = scale["nan_policy"]
    n_div = scale["diverged"] if scale["diverged_dropped"] else 0
    rows["dropped_configs"] = (f"{scale['dropped']} (non-finite {cs.objective}, nan_policy={policy}); "
                               f"{cs.n_configs} of {cs.n_configs + scale['dropped'] + n_div} configurations kept")
    if scale["rule"] != "none":
        rows["diverged_configs"] = (f"{scale['diverged']} by the {scale['rule']} rule (harness.divergence; "
                                    + ("dropped: option diverged=drop)" if scale["diverged_dropped"]
                                       else "kept in the pool, left out of the regret scale)"))
    rows["regret_scale"] = (f"best {scale['best']:.6g}, median {scale['median']:.6g}, worst {scale['worst']:.6g} "
                            f"(final {'-' if cs.mode == 'max' else ''}{cs.objective}, non-diverged configurations)")
    for k, v in rows.items():
        print(f"{k:20s} {v}")
    if prov:
        print(f"{'provenance':20s} {json.dumps(prov, default=str)[:400]}")
    return 0


# --- import / export ------------------------------------------------------------------------------

def import_(args: argparse.Namespace) -> int:
    from ..adapters.blackbox import import_blackbox, is_blackbox, repository_path
    from ..importers import ImportSpec, import_long

    src = args.name
    if src.startswith("synetune:"):
        name = src[len("synetune:"):]
        folder = repository_path(name)
        cs = import_blackbox(folder, task=args.task, seed=args.seed, objective=args.objective, mode=args.mode,
                             name=f"synetune_{name}_{args.task}" if args.task else None)
        return _store(cs, args, f"Syne Tune repository blackbox {name}")
    path = Path(src)
    if path.is_file() and path.suffix == ".json":
        return _import_taskset([path], args)
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found (harness datasets import takes a folder holding dataset.json, a "
                                "Syne Tune blackbox folder, a TaskSet .json file or folder, or synetune:<name>)")
    if is_blackbox(path):
        cs = import_blackbox(path, task=args.task, seed=args.seed, objective=args.objective, mode=args.mode)
        return _store(cs, args, f"Syne Tune blackbox {path}")
    if (path / "dataset.json").is_file():
        cs = import_long(ImportSpec.from_json(path / "dataset.json"), path)
        return _store(cs, args, str(path))
    tasks = sorted(path.glob("*.json")) if path.is_dir() else []
    if tasks:
        return _import_taskset(tasks, args)
    raise FileNotFoundError(f"{path / 'dataset.json'}: not found (harness datasets import needs a folder holding "
                            "dataset.json, a Syne Tune blackbox folder, a TaskSet .json file or folder of them, or "
                            "synetune:<name>)")


def _import_taskset(files: list[Path], args: argparse.Namespace) -> int:
    from ..families.taskset import read_taskset_json

    if args.out and len(files) > 1:
        raise ValueError(f"--out names one folder, but {len(files)} TaskSet task files would be imported; drop --out "
                         "(each goes to datasets/taskset_<task>)")
    for f in files:
        _store(read_taskset_json(f), args, f"TaskSet task file {f}")
    return 0


def _store(cs: Any, args: argparse.Namespace, what: str) -> int:
    from ..datasets import EMBEDDED_ROOT
    from ..store import save
    from ..write import check_dataset_name, check_replace

    if args.out:
        out = Path(args.out)
    else:
        from ..datahome import imported_root
        from ..families.stored import EMBEDDED_DEFAULTS

        check_dataset_name(cs.name, where=what)
        if cs.name in EMBEDDED_DEFAULTS or (EMBEDDED_ROOT / cs.name / "metadata.json").is_file():
            raise ValueError(f"{what}: {cs.name!r} is the name of a dataset shipped with the harness, which an "
                             "import never shadows; import it under another name (--out DIR) ")
        out = imported_root() / cs.name
    check_replace(out, overwrite=args.overwrite)
    saved = save(cs, out)
    print(f"imported {what} as {cs.name}: {cs.n_configs} configs x {cs.n_epochs} epochs -> {saved}")
    return 0


def export(args: argparse.Namespace) -> int:
    from ..datasets import load_dataset
    from ..store import save
    from ..write import check_replace

    if not args.target:
        raise ValueError("harness datasets export NAME OUT: the destination folder OUT is missing")
    cs = load_dataset(args.name, nan_policy=args.nan_policy)
    out = Path(args.target)
    check_replace(out, overwrite=args.overwrite)
    if args.format == "synetune":
        from ..adapters.blackbox import export_blackbox

        out = export_blackbox(cs, out, tunable_ap=args.tunable_ap)
    else:
        out = save(cs, out)
    print(f"exported {cs.name}: {cs.n_configs} configs x {cs.n_epochs} epochs -> {out} ({args.format})")
    return 0
