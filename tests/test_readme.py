"""The README's worked examples ("Add an algorithm", "Add a predictor") run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from harness.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _examples() -> list[tuple[str, str, list[str]]]:
    text = README.read_text()
    out = []
    for m in re.finditer(r"<!-- example: (\S+) -->\n```python\n(.*?)```(.*?)```bash\n(harness [^\n]+)\n", text, re.S):
        out.append((m.group(1), m.group(2), shlex.split(m.group(4))[1:]))
    return out


def test_readme_has_the_examples():
    assert [name for name, _, _ in _examples()] == ["median_stop.py", "greedy_thaw.py", "trend.py"]


@pytest.mark.parametrize("name,code,argv", _examples(), ids=lambda x: x if isinstance(x, str) and x.endswith(".py")
                         else "")
def test_readme_example_runs(name, code, argv, tmp_path, monkeypatch, capsys):
    (tmp_path / name).write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main([*argv, "--seeds", "0-1", "-q"]) == 0
    out = capsys.readouterr().out
    assert "dataset digits_cnn" in out
    row = next(line for line in out.splitlines() if line.startswith(f"| {argv[argv.index('-a') + 1].split(':')[0]}"))
    assert "| resume | 2 |" in row
