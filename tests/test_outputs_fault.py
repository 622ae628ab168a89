"""Fault test: SIGKILL update, report and export at several moments; each output is whole or absent, inputs untouched.

Slow (each run starts a Python process that imports pandas, pgmpy and
matplotlib): ``python -m pytest -m slow tests/test_outputs_fault.py``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bayes_cmo import load_model, load_theory

DATA = Path(__file__).parent / "data"
CASES = "case_id,legal_agreements,initial_trust,synergy\n" + "".join(
    f"c{i},{'present' if i % 2 else 'absent'},{'high' if i % 3 else 'low'},{'synergy' if i % 4 else 'inertia'}\n" for i in range(40)
)
#: Seconds after the start at which each run is killed (import, work, and the final renames all get hit).
TIMINGS = (0.3, 1.0, 2.0, 3.0, 4.0, 5.5, 7.0, 9.0)

COMMANDS = {
    "update": (["update", "cases.csv", "--model", "pr", "--out", "OUT", "--report", "OUT.csv", "--quiet"], "OUT"),
    "report": (["report", "--model", "pr", "--out", "OUT", "-t", "synergy", "--draws", "20", "--rounds", "2"], "OUT"),
    "export": (["export", "--model", "pr", "--out", "OUT.xdsl"], "OUT.xdsl"),
}


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _whole(verb: str, out: Path) -> None:
    """The output is absent, or complete and loadable."""
    if not out.exists():
        return
    if verb == "update":
        load_theory(out)
        assert yaml.safe_load((out / "provenance.yaml").read_text())["created_by"].startswith("bayes_cmo")
    elif verb == "report":
        names = {p.name for p in out.iterdir()}
        assert {"report.md", "provenance.yaml", "claims.csv", "theory.png", "tornado.png"} <= names, names
        for png in out.glob("*.png"):
            data = png.read_bytes()
            assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82"), png
    else:
        load_model(out)
    report = out.parent / "OUT.csv"
    if verb == "update" and report.exists():
        assert report.read_text().startswith("link,")


def _run(argv: list[str], cwd: Path, kill_after: float | None) -> int | None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bayes_cmo", *argv], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if kill_after is None:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
        return 0
    try:
        process.wait(timeout=kill_after)
        return process.returncode  # finished before the kill
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return None


@pytest.mark.slow
@pytest.mark.parametrize("verb", sorted(COMMANDS))
def test_killed_runs_leave_outputs_whole_or_absent(tmp_path, verb):
    shutil.copytree(DATA / "toy", tmp_path / "pr")
    (tmp_path / "cases.csv").write_text(CASES)
    inputs = _hashes(tmp_path)
    argv, name = COMMANDS[verb]
    out = tmp_path / name
    for i, timing in enumerate(TIMINGS):
        force = ["--force"] if out.exists() else []  # later runs replace an earlier whole output
        _run(argv + force, tmp_path, timing)
        _whole(verb, out)
        assert {k: v for k, v in _hashes(tmp_path).items() if k in inputs} == inputs
    _run(argv + (["--force"] if out.exists() else []), tmp_path, None)  # a run to the end: whole, and it cleans up
    _whole(verb, out)
    assert out.exists()
    assert not [p.name for p in tmp_path.iterdir() if ".bayes-cmo-" in p.name]
