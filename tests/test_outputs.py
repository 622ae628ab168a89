"""The one output guard and the one atomic writer: whole or absent, the umask's modes, never an input."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayes_cmo import BayesCMOError
from bayes_cmo import _files
from bayes_cmo._files import folder_atomically, recover, spreadsheet_safe, write_atomically, write_text
from bayes_cmo._outputs import check_output, plan_outputs
from bayes_cmo.cli import main

DATA = Path(__file__).parent / "data"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".bayes-cmo-" in p.name)


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_files_and_folders_get_the_umasks_mode(tmp_path, umask_022):
    write_text(tmp_path / "a.csv", "x\n")
    with folder_atomically(tmp_path / "out") as tmp:
        (tmp / "f.txt").write_text("y")
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    os.umask(0o027)
    write_text(tmp_path / "b.csv", "x\n")
    assert (tmp_path / "b.csv").stat().st_mode & 0o777 == 0o640


def test_force_keeps_the_replaced_files_mode(tmp_path, umask_022):
    target = tmp_path / "t.csv"
    target.write_text("old")
    target.chmod(0o600)
    write_text(target, "new")
    assert target.read_text() == "new" and target.stat().st_mode & 0o777 == 0o600


def test_a_failed_write_leaves_no_temp_file_and_the_old_file_whole(tmp_path):
    target = tmp_path / "fig.png"
    target.write_bytes(b"\x89PNG old figure")

    class FullDisk:
        def savefig(self, tmp, **_):
            Path(tmp).write_bytes(b"\x89PNG half")
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(BayesCMOError, match=r"fig.png: cannot write it \(the disk is full\)"):
        _files.save_figure(FullDisk(), target)
    assert target.read_bytes() == b"\x89PNG old figure"
    assert leftovers(tmp_path) == []


def test_a_failed_folder_leaves_nothing_and_the_old_folder_whole(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(BayesCMOError, match="the disk is full"):
        with folder_atomically(out) as tmp:
            (tmp / "half.txt").write_text("x")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert [p.name for p in out.iterdir()] == ["old.txt"] and leftovers(tmp_path) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "fallback-swap"])
def test_folder_replaced_in_one_step(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(_files, "_rename2", lambda *a: False)
    elif not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux only")
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with folder_atomically(out) as tmp:
        (tmp / "new.txt").write_text("new")
    assert [p.name for p in out.iterdir()] == ["new.txt"] and leftovers(tmp_path) == []


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_next_run_restores_an_old_copy_a_killed_swap_left_aside(tmp_path):
    out = tmp_path / "out"
    aside = tmp_path / f".out.bayes-cmo-{_dead_pid()}-abcd.old"  # killed between the fallback's two renames
    aside.mkdir()
    (aside / "old.txt").write_text("old")
    half = tmp_path / f".out.bayes-cmo-{_dead_pid()}-efgh.tmp"
    half.mkdir()
    recover(out)
    assert (out / "old.txt").read_text() == "old" and leftovers(tmp_path) == []


def test_next_write_removes_a_killed_runs_temp_files_but_not_a_live_ones(tmp_path):
    dead = tmp_path / f".t.csv.bayes-cmo-{_dead_pid()}-x1.tmp"
    live = tmp_path / f".t.csv.bayes-cmo-{os.getpid()}-x2.tmp"
    dead.write_text("half")
    live.write_text("being written")
    write_text(tmp_path / "t.csv", "x\n")
    assert not dead.exists() and live.exists()


def test_no_replace_refuses_a_file_that_appeared_meanwhile(tmp_path):
    target = tmp_path / "t.csv"

    def someone_else():
        target.write_text("theirs")

    with pytest.raises(BayesCMOError, match="appeared while this ran"):
        write_atomically(target, lambda tmp: Path(tmp).write_text("mine"), replace=False, guard=someone_else)
    assert target.read_text() == "theirs" and leftovers(tmp_path) == []


def test_guard_rechecks_before_the_rename(tmp_path):
    planned = check_output("--csv", tmp_path / "t.csv", "csv")
    (tmp_path / "t.csv").write_text("made during the run")
    with pytest.raises(BayesCMOError, match=r"--csv .*t.csv: appeared while this ran"):
        planned.write_text("x")
    assert (tmp_path / "t.csv").read_text() == "made during the run"


CELLS = [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(1+1)", "'@SUM(1+1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("-0.5", "-0.5"),
    ("+1e-3", "+1e-3"),
    ("plain", "plain"),
    ("", ""),
]


def test_spreadsheet_safe_escapes_formulas_not_numbers():
    frame = pd.DataFrame({"text": [c for c, _ in CELLS], "number": [-1.5] * len(CELLS), "=head": [1] * len(CELLS)})
    safe = spreadsheet_safe(frame)
    assert list(safe["text"]) == [e for _, e in CELLS]
    assert list(safe["number"]) == [-1.5] * len(CELLS) and safe["number"].dtype == float
    assert list(safe.columns) == ["text", "number", "'=head"]
    assert frame["text"].iloc[0] == CELLS[0][0]  # the caller's frame is untouched


def test_two_options_one_path_refused_before_any_work(tmp_path):
    with pytest.raises(BayesCMOError, match="named by both --report and --conflict-report"):
        plan_outputs([("--report", tmp_path / "r.csv", "csv"), ("--conflict-report", tmp_path / "./r.csv", "csv")])
    assert list(tmp_path.iterdir()) == []


def test_hard_link_to_an_input_is_the_input(tmp_path):
    (tmp_path / "cases.csv").write_text("case_id\n")
    os.link(tmp_path / "cases.csv", tmp_path / "alias.csv")
    with pytest.raises(BayesCMOError, match="is the input"):
        check_output("--csv", tmp_path / "alias.csv", "csv", inputs=[tmp_path / "cases.csv"], force=True)


def test_symlink_into_an_input_folder_is_inside_it(tmp_path):
    shutil.copytree(DATA / "toy", tmp_path / "pr")
    (tmp_path / "link").symlink_to(tmp_path / "pr")
    with pytest.raises(BayesCMOError, match="inside the input folder"):
        check_output("--csv", tmp_path / "link" / "x.csv", "csv", inputs=[tmp_path / "pr"])


def test_unwritable_folder_refused_before_the_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BayesCMOError, match="cannot write it"):
        check_output("--out", blocker / "out", "folder")
    with pytest.raises(BayesCMOError, match="does not exist"):
        check_output("--out", tmp_path / "no" / "out", "folder")


# random output paths never change an input (or anything else that was there) ----------------------------

def _tree(root: Path) -> None:
    shutil.copytree(DATA / "toy", root / "pr")
    shutil.copy(DATA / "asia.bif", root / "m.bif")
    (root / "cases.csv").write_text("case_id,legal_agreements,initial_trust,synergy\nA,present,high,synergy\nB,absent,low,inertia\n")
    (root / "thesis").mkdir()
    (root / "thesis" / "chapter1.tex").write_text("three years of work")
    (root / "thesis" / "data.csv").write_text("someone's,table\n1,2\n")


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


PATHS = [
    "pr", "pr/nodes.yaml", "pr/links.yaml", "m.bif", "cases.csv",  # the inputs
    "pr/new.csv", "pr/sub/new.csv", "pr/tables/x.csv", "pr/m.bif",  # inside an input folder
    ".", "thesis", "thesis/chapter1.tex", "thesis/data.csv", "thesis/new.csv",  # unrelated, existing
]
VERBS = [
    lambda o: ["query", "--model", "pr", "-t", "synergy", "--csv", o],
    lambda o: ["query", "--model", "m.bif", "-t", "dysp", "--csv", o],
    lambda o: ["export", "--model", "m.bif", "--out", o],
    lambda o: ["export", "--model", "pr", "--out", o],
    lambda o: ["simulate", "--model", "pr", "--n", "2", "--out", o],
    lambda o: ["compare", "pr", "m.bif", "-t", "dysp", "--csv", o],
]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(verb=st.sampled_from(VERBS), path=st.sampled_from(PATHS), force=st.booleans())
def test_random_output_paths_never_change_an_input(capsys, verb, path, force):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _tree(root)
        before = _hashes(root)
        cwd = os.getcwd()
        os.chdir(root)
        try:
            code = main(verb(path) + (["--force"] if force else []))
        finally:
            os.chdir(cwd)
        err = capsys.readouterr().err
        assert code in (0, 2) and "Traceback" not in err, err
        after = _hashes(root)
        changed = {name for name in before if after.get(name) != before[name]}
        if force:  # --force may replace an output of its own kind that is no input: thesis/data.csv
            changed.discard(path)
        assert not changed, (verb(path), err)
        assert not {"pr/nodes.yaml", "m.bif", "cases.csv"} & changed
        assert not [p for p in root.rglob("*") if ".bayes-cmo-" in p.name]


def test_force_replaces_a_workbook_this_wrote_but_not_a_text_file_named_xlsx(tmp_path):
    target = tmp_path / "links.xlsx"
    assert main(["links", "--model", str(DATA / "toy"), "--xlsx", str(target)]) == 0
    assert main(["links", "--model", str(DATA / "toy"), "--xlsx", str(target)]) == 2  # exists, no --force
    assert main(["links", "--model", str(DATA / "toy"), "--xlsx", str(target), "--force"]) == 0  # a zip archive: ours
    target.write_text("my notes")
    with pytest.raises(BayesCMOError, match="is not a workbook file"):
        check_output("--xlsx", target, "xlsx", force=True)
    assert target.read_text() == "my notes"


TOY = str(DATA / "toy")
#: One cheap call of every verb that takes --xlsx, on the toy theory.
XLSX_VERBS = {
    ("compare",): ["compare", TOY, TOY],
    ("explain",): ["explain", "--model", TOY, "--evidence", "legal_agreements=present"],
    ("links",): ["links", "--model", TOY],
    ("plan", "calibration"): ["plan", "calibration", "--model", TOY, "--n", "20", "--replicates", "2", "--quiet"],
    ("plan", "sample-size"): ["plan", "sample-size", "--model", TOY, "--link", "legal_agreements:initial_trust",
                              "--n", "10", "--replicates", "2", "--quiet"],
    ("plan", "sensitivity"): ["plan", "sensitivity", "--model", TOY, "--target", "synergy"],
    ("plan", "voi"): ["plan", "voi", "--model", TOY, "--target", "synergy"],
    ("query",): ["query", "--model", TOY, "--target", "synergy"],
    ("rounds",): ["rounds", "--rounds", "2"],  # the shipped priors: the toy theories name no absorbing outcome
    ("scenarios",): ["scenarios", "--model", TOY],
    ("shift",): ["shift", "--model", TOY, "--context", "legal_agreements"],
    ("sweep",): ["sweep", "--model", TOY],
    ("update",): ["update", "CASES.csv", "--model", TOY, "--quiet"],  # the case file and --out made in the test
}


def _verbs_with(option: str) -> set[tuple[str, ...]]:
    import argparse

    from bayes_cmo.cli import build_parser

    def walk(parser, prefix=()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, (*prefix, name))
        if any(option in a.option_strings for a in parser._actions):
            yield prefix

    return set(walk(build_parser()))


def test_every_verb_with_xlsx_is_listed():
    assert _verbs_with("--xlsx") == set(XLSX_VERBS)


@pytest.mark.parametrize("verb", sorted(XLSX_VERBS), ids=" ".join)
def test_xlsx_is_written_not_silently_ignored(tmp_path, verb, capsys):
    target, argv = tmp_path / "out.xlsx", list(XLSX_VERBS[verb])
    if verb == ("update",):
        (tmp_path / "cases.csv").write_text("case_id,legal_agreements,initial_trust,synergy\nA,present,high,synergy\n"
                                            "B,absent,low,inertia\nC,present,,synergy\n")
        argv[1:2] = [str(tmp_path / "cases.csv"), "--out", str(tmp_path / "new")]
    assert main([*argv, "--xlsx", str(target)]) == 0
    assert target.read_bytes().startswith(b"PK\x03\x04")  # links and explain used to drop it
