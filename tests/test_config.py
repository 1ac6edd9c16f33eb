"""Typed configs: built once at the entry point, checked on construction, one-line errors for every mistake."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from harness.algorithms import ALGORITHMS, FHyperband, SwiftASHA, SwiftHyperband, build_configs
from harness.cli import main
from harness.config import DEFAULT_ETA, ConfigError, parse_set

REPO = Path(__file__).resolve().parents[1]


def test_one_eta_default_for_every_algorithm():
    etas = {name: cls.Config().eta for name, cls in ALGORITHMS.items() if "eta" in cls.Config.names()}
    assert set(etas.values()) == {DEFAULT_ETA} and len(etas) == 7


@pytest.mark.parametrize("cls,settings,message", [
    (SwiftHyperband, {"q": "abc"}, "swift setting q is 'abc', but must be a number"),
    (SwiftHyperband, {"d": 2.5}, "swift setting d is 2.5, but must be an integer"),
    (SwiftHyperband, {"d": True}, "swift setting d is True, but must be an integer"),
    (SwiftASHA, {"rho": 7}, r"swift_asha setting rho is 7, but must be in \[0, 1\]"),
    (FHyperband, {"Delta": 1.0}, r"fhyperband setting Delta is 1.0, but must be in \(0, 1\)"),
    (FHyperband, {"predictor": "nosuch"}, "fhyperband setting predictor: predictor is 'nosuch', but must be one of"),
    (FHyperband, {"target": "delta", "features": "HP"}, "target is 'delta': it needs the TS feature set"),
    (SwiftHyperband, {"features": "fancy"}, "swift setting features is 'fancy', but must be one of raw, baker"),
    (SwiftHyperband, {"predictor": "qsvr", "predictor_options": {"num_sweep": 5}},
     "predictor 'qsvr' has no option 'num_sweep'; its options: "),
    (SwiftHyperband, {"eta": 1}, "swift setting eta is 1, but must be >= 2"),
    (SwiftHyperband, {"budget": "huge"}, "search budget is 'huge'"),
])
def test_bad_settings_name_value_and_rule(cls, settings, message):
    with pytest.raises(ConfigError, match=message):
        cls.Config.from_dict(settings)


def test_settings_from_yaml_like_mappings_and_python():
    cfg = SwiftHyperband.Config.from_dict({"d": 7.0, "q": 1, "predictor_options": {}})
    assert cfg.d == 7 and isinstance(cfg.d, int) and cfg.q == 1.0 and isinstance(cfg.q, float)
    assert SwiftHyperband(d=7, q=1.0).config == cfg
    assert cfg.to_dict()["d"] == 7 and json.dumps(cfg.to_dict())


def test_build_configs_applies_keys_where_they_belong():
    cfgs = build_configs(["hyperband", "swift", "swift@qsvr"],
                         {"d": 9, "swift@qsvr.predictor": "qsvr", "swift.q": 0.5}, {"eta": 2, "R": 20})
    assert cfgs["hyperband"].eta == 2 and not hasattr(cfgs["hyperband"], "d")
    assert cfgs["swift"].d == 9 and cfgs["swift"].q == 0.5 and cfgs["swift"].predictor == "swift_svr"
    assert cfgs["swift@qsvr"].predictor == "qsvr" and cfgs["swift@qsvr"].q == 0.5
    with pytest.raises(ValueError, match="'swfit' is not an algorithm of this run"):
        build_configs(["hyperband", "swift"], {"swfit.d": 7})
    with pytest.raises(ValueError, match="no algorithm of this run \\(hyperband\\) has a setting 'd'"):
        build_configs(["hyperband"], {"d": 7})
    with pytest.raises(ValueError, match="hyperband has no setting 'd'"):
        build_configs(["hyperband", "swift"], {"hyperband.d": 7})


def test_parse_set_errors():
    assert parse_set(["d=15", "swift.q=0.5", "predictor=qsvr", "x=[1, 2]"]) == {
        "d": 15, "swift.q": 0.5, "predictor": "qsvr", "x": [1, 2]}
    with pytest.raises(ConfigError, match="--set 'd15': expected KEY=VALUE"):
        parse_set(["d15"])


@pytest.mark.parametrize("argv,message", [
    (["--set", "swfit.d=7", "-a", "swift"], "error: --set swfit.d=7: 'swfit' is not an algorithm of this run"),
    (["--set", "predictor=nosuch", "-a", "swift"], "error: swift setting predictor: predictor is 'nosuch'"),
    (["--set", "q=abc", "-a", "swift"], "error: swift setting q is 'abc', but must be a number"),
    (["--set", "rho=7", "-a", "swift_asha"], "error: swift_asha setting rho is 7, but must be in [0, 1]"),
    (["--set", "foo=1"], "error: --set foo=1: no algorithm of this run (hyperband) has a setting 'foo'"),
    (["--set", 'predictor_options={"x": 1}', "-a", "swift"], "error: swift setting predictor: predictor "
                                                               "'swift_svr' has no option 'x'; its options: C, nu"),
    (["-a", "nosuch"], "error: algorithm is 'nosuch', but must be one of hyperband, "),
    (["-a", "nowhere.mod:Thing"], "error: algorithm 'nowhere.mod:Thing': cannot import module 'nowhere.mod'"),
    (["--seeds", "1..3"], "error: --seeds '1..3': cannot read '1..3'; expected N, N-M or a comma list"),
    (["--R", "25"], "error: --R is 25, but the curves record only 20 epochs; extend the curves with --pad-to 25"),
    (["--pad-to", "10"], "error: --pad-to is 10, but the curves already record 20 epochs"),
    (["--workers", "0"], "error: --workers is 0, but must be >= 1"),
])
def test_cli_setting_errors_are_one_line(argv, message, capsys):
    rc = main(["replay", "-d", "digits_cnn", "--seeds", "0", "-q", *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith(message) and "\n" not in err, err


def test_no_setting_is_silently_ignored(capsys):
    """Every algorithm rejects a key it does not have, by name, listing its settings."""
    for name in ALGORITHMS:
        rc = main(["replay", "-d", "digits_cnn", "--seeds", "0", "-q", "-a", name, "--baseline", "",
                   "--set", f"{name}.nope=1"])
        err = capsys.readouterr().err
        assert rc == 2 and "has no setting 'nope'; valid settings: " in err, (name, err)


def test_ab_without_eta_runs_both_at_one_eta(tmp_path, capsys):
    out = tmp_path / "ab.jsonl"
    rc = main(["ab", "-d", "digits_cnn", "--a", "hyperband", "--b", "swift", "--seeds", "0-1", "-q",
               "--out", str(out)])
    assert rc == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["params"]["eta"] for r in recs} == {DEFAULT_ETA} and {r["algorithm"] for r in recs} == {"hyperband",
                                                                                                     "swift"}


def test_user_subclass_by_import_path_gives_the_same_epochs(tmp_path, monkeypatch, capsys):
    (tmp_path / "mymodule.py").write_text(
        "from harness.algorithms import Hyperband\n\n\nclass MyHB(Hyperband):\n    '''My Hyperband.'''\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "r.jsonl"
    assert main(["replay", "-d", "digits_cnn", "-a", "mymodule:MyHB", "--eta", "2", "--seeds", "0-2", "-q",
                 "--out", str(out)]) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    mine = [r["epochs"] for r in recs if r["algorithm"] == "mymodule:MyHB"]
    base = [r["epochs"] for r in recs if r["algorithm"] == "hyperband"]
    assert mine == base and len(mine) == 3
    assert "mymodule:MyHB" in capsys.readouterr().out


def _module_imports(path: Path, package: str, lazy: bool = False) -> set[str]:
    """harness.* modules imported at module level by ``path``; with ``lazy``, inside functions too."""
    tree = ast.parse(path.read_text())
    out = set()
    for node in (ast.walk(tree) if lazy else tree.body):
        if isinstance(node, ast.If) and not lazy:  # TYPE_CHECKING blocks never run
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            if base.startswith("harness"):
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    out.add(sub if (REPO / (sub.replace(".", "/") + ".py")).is_file()
                            or (REPO / sub.replace(".", "/") / "__init__.py").is_file() else base)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("harness"))
    return out


@pytest.mark.parametrize("lazy", [False, True], ids=["module-level", "with-lazy-imports"])
def test_no_import_cycles(lazy):
    """No two harness modules import each other, directly or round a circle; with ``lazy``, imports inside
    functions count too (issue #35: bench <-> reproduce was such a circle)."""
    graph = {}
    for path in (REPO / "harness").rglob("*.py"):
        rel = path.relative_to(REPO).with_suffix("")
        mod = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = mod if rel.name == "__init__" else mod.rsplit(".", 1)[0]
        graph[mod] = _module_imports(path, package, lazy) - {mod}
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in graph.get(m, ()):
            if state.get(n) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n, stack + [n])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
