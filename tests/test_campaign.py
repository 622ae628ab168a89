"""The hostile-input campaign of issue 9, one test per case it found (table-driven, like test_bad_priors).

Each command-line case: exit 2, one line on stderr naming the option or file,
no traceback, and every file in the working folder byte-identical afterwards
(nothing the user gave is ever lost, whatever the options).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from bayes_cmo import BayesCMOError, load_model, load_theory, read_cases
from bayes_cmo.cli import main

DATA = Path(__file__).parent / "data"
CASES = "case_id,legal_agreements,initial_trust,synergy\nA,present,high,synergy\nB,absent,low,inertia\nC,present,,synergy\n"


@pytest.fixture()
def work(tmp_path, monkeypatch):
    """pr/ (toy priors with an expert table file), m.bif, cases.csv, costs.csv, and an unrelated folder thesis/."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(DATA / "toy", tmp_path / "pr")
    shutil.copy(DATA / "asia.bif", tmp_path / "m.bif")
    (tmp_path / "cases.csv").write_text(CASES)
    (tmp_path / "costs.csv").write_text("node,cost\nlegal_agreements,1\ninitial_trust,2\n")
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter1.tex").write_text("three years of work")
    return tmp_path


def hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def fails(argv, capsys, *fragments) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


TOY = ["--model", "pr"]
UPDATE = ["update", "cases.csv", *TOY]

# (command line, fragments of the one-line error): every one also leaves every file byte-identical
DATA_LOSS = [
    (["query", *TOY, "--target", "synergy", "--csv", "pr/nodes.yaml", "--force"], ["--csv pr/nodes.yaml", "inside the input folder pr"]),
    (["query", "--model", "m.bif", "--target", "dysp", "--csv", "m.bif", "--force"], ["--csv m.bif", "is the input m.bif"]),
    (["links", *TOY, "--csv", "pr/tables/synergy.csv", "--force"], ["inside the input folder pr"]),
    (["shift", *TOY, "-c", "legal_agreements", "-t", "synergy", "--csv", "pr/links.yaml", "--force"], ["inside the input folder"]),
    (["sweep", *TOY, "-t", "synergy", "--heatmap", "pr/claims.png", "--force"], ["--heatmap", "inside the input folder"]),
    (["scenarios", *TOY, "-t", "synergy", "--csv", "pr", "--force"], ["--csv pr", "is the input pr"]),
    (["rounds", *TOY, "--rounds", "2", "--samples", "200", "--csv", ".", "--force"], ["would replace the folder holding the input"]),
    (["export", "--model", "m.bif", "--out", "m.bif", "--force"], ["is the input m.bif"]),
    (["export", *TOY, "--out", "pr/nodes.bif", "--force"], ["inside the input folder pr"]),
    (["report", *TOY, "--out", "pr/tables"], ["--out pr/tables", "inside the input folder pr"]),
    (["report", *TOY, "--out", "pr/tables", "--force"], ["inside the input folder pr"]),
    (["report", *TOY, "--out", "pr", "--force"], ["is the input pr"]),
    ([*UPDATE, "--out", "thesis", "--force"], ["--out thesis", "bayes-cmo did not write", "provenance.yaml"]),
    ([*UPDATE, "--out", "new", "--report", "cases.csv", "--force"], ["--report cases.csv", "is the input cases.csv"]),
    ([*UPDATE, "--out", "new", "--report", "r.csv", "--conflict-report", "r.csv", "--force"], ["named by both --report and --conflict-report"]),
    ([*UPDATE, "--out", "new", "--report", "r.csv", "--conflict-report", "r.csv"], ["named by both"]),
    ([*UPDATE, "--out", "new", "--plot", "new/forest.png"], ["--plot new/forest.png", "lies inside --out new"]),
    (["plan", "voi", *TOY, "-t", "synergy", "--costs", "costs.csv", "--csv", "costs.csv", "--force"], ["is the input costs.csv"]),
    (["compare", "pr", "m.bif", "--csv", "m.bif", "--force"], ["is the input m.bif"]),
    (["simulate", *TOY, "--n", "3", "--out", "pr/cases.csv", "--force"], ["inside the input folder pr"]),
    # --force replaces only an output of the same kind
    (["query", *TOY, "--target", "synergy", "--csv", "thesis/chapter1.tex", "--force"], ["--force replaces only a file of the kind"]),
    (["links", *TOY, "--plot", "fig.png", "--force"], ["--force replaces only a file of the kind"]),  # fig.png is a CSV
    (["report", *TOY, "--out", "thesis", "--force"], ["bayes-cmo did not write"]),
    # silent before: --draws 1 gave a zero-width "90% interval"
    (["query", *TOY, "--target", "synergy", "--draws", "1"], ["argument --draws", "at least 2 parameter draws, got 1"]),
    (["report", *TOY, "--out", "rep", "--draws", "1"], ["at least 2"]),
]


@pytest.mark.parametrize(("argv", "fragments"), DATA_LOSS, ids=[" ".join(a)[:70] for a, _ in DATA_LOSS])
def test_no_option_changes_an_input(work, capsys, argv, fragments):
    (work / "fig.png").write_text("a,b\n1,2\n")  # named like a figure, but not one
    if any("pr/tables" in a for a in argv):  # an expert's table (the guard refuses before the priors are read)
        (work / "pr" / "tables").mkdir()
        (work / "pr" / "tables" / "synergy.csv").write_text("expert,table\n1,2\n")
    before = hashes(work)
    fails(argv, capsys, *fragments)
    assert hashes(work) == before
    assert not (work / "new").exists() and not (work / "rep").exists()


MESSAGES = [
    # (file to write, its text, command line, fragments)
    ("pr/nodes.yaml", None, ["check", "--model", "pr/nodes.yaml"], ["is one file of a priors folder", "give the folder itself (--model pr)"]),
    ("cases.csv", "case_id,legal_agreements,,synergy\nA,present,high,synergy\n", [*UPDATE, "--out", "new"], ["cases.csv: row 1, column 3: blank header"]),
    ("cases.csv", "case_id,legal_agreements,synergy\nNA,present,synergy\n", [*UPDATE, "--out", "new"], ["blank case id", "'NA' reads as blank"]),
    ("costs.csv", "node,cost\nsynergy,1\n", ["plan", "voi", *TOY, "-t", "synergy", "--costs", "costs.csv"], ["costs.csv: lists only synergy", "target 'synergy'"]),
    ("bad.xmlbif", "<BIF VERSION='0.3'><NETWORK><NAME>n</NAME><VARIABLE TYPE='nature'><OUTCOME>a</OUTCOME></VARIABLE></NETWORK></BIF>",
     ["check", "--model", "bad.xmlbif"], ["bad.xmlbif: <VARIABLE> number 1 has no <NAME>"]),
    ("bad.xdsl", "<smile version='1.0' id='n'><nodes><cpt><state id='a'/><state id='b'/><probabilities>0.5 0.5</probabilities></cpt></nodes></smile>",
     ["check", "--model", "bad.xdsl"], ["bad.xdsl: <cpt> number 1 in <nodes> has no id"]),
    ("noisy.xdsl", "<smile version='1.0' id='n'><nodes><noisymax id='trust'><state id='a'/><state id='b'/></noisymax></nodes></smile>",
     ["check", "--model", "noisy.xdsl"], ["node 'trust' is a GeNIe noisy-MAX node, which is not supported"]),
]


@pytest.mark.parametrize(("name", "text", "argv", "fragments"), MESSAGES, ids=[m[0] + " " + m[2][0] for m in MESSAGES])
def test_misleading_message_rewritten(work, capsys, name, text, argv, fragments):
    if text is not None:
        (work / name).write_text(text)
    fails(argv, capsys, *fragments)


CLAIMS = [
    ("against: {legal_agreements: absent}", "against: {mandated: 'no'}", r"claims.yaml: claim 'legal_raises_trust': compare and against must set the same node"),
    ("against: {legal_agreements: absent}", "against: {legal_agreements: present}", r"claims.yaml: claim 'legal_raises_trust': compare and against are the same"),
]


@pytest.mark.parametrize(("old", "new", "message"), CLAIMS)
def test_claim_mistake_is_an_error_in_claims_yaml(toy_copy, old, new, message):
    path = toy_copy / "claims.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(BayesCMOError, match=message):
        load_theory(toy_copy)


def test_yaml_alias_bomb_is_refused_quickly_with_a_short_message(toy_copy):
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for level in "bcdefghij":
        prev = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    (toy_copy / "nodes.yaml").write_text(bomb + "nodes: *j\n")
    with pytest.raises(BayesCMOError, match=r"nodes.yaml:\d+: YAML aliases \(\*name\) expand to more than 100,000 values") as info:
        load_theory(toy_copy)
    assert len(str(info.value)) < 300


def test_shown_values_are_bounded(toy_copy):
    huge = "x" * 100_000
    text = (toy_copy / "nodes.yaml").read_text().replace("states: [absent, present]", f"states: [[{huge}], present]", 1)
    (toy_copy / "nodes.yaml").write_text(text)
    with pytest.raises(BayesCMOError, match="each state must be a name") as info:
        load_theory(toy_copy)
    assert len(str(info.value)) < 400


def test_deep_yaml_is_one_line(toy_copy, capsys):
    (toy_copy / "links.yaml").write_text("links: " + "[" * 3000 + "]" * 3000 + "\n")
    with pytest.raises(BayesCMOError, match=r"links.yaml.*nested too deeply"):
        load_theory(toy_copy)
    fails(["check", "--model", str(toy_copy)], capsys, "nested too deeply")


def test_node_with_30_parents_names_node_and_parents(toy_copy):
    nodes = (toy_copy / "nodes.yaml").read_text()
    extra = "".join(f"  - id: c{i}\n    label: C {i}\n    role: context\n    states: [a, b]\n    baseline: [0.5, 0.5]\n" for i in range(30))
    (toy_copy / "nodes.yaml").write_text(nodes.replace("nodes:\n", "nodes:\n" + extra, 1))
    links = (toy_copy / "links.yaml").read_text()
    more = "".join(f"  - {{from: c{i}, to: synergy, sign: '+', strength: weak}}\n" for i in range(30))
    (toy_copy / "links.yaml").write_text(links.replace("links:\n", "links:\n" + more, 1))
    with pytest.raises(BayesCMOError, match=r"node 'synergy' has 31 parents \(c0, c1, .*\): its probability table would have 4,294,967,296 cells"):
        load_model(toy_copy)


def test_mathtext_label_is_drawn_as_written(toy_copy, tmp_path, capsys):
    text = (toy_copy / "nodes.yaml").read_text().replace("label: Legal agreements", r"label: 'Legal $\notacommand{x}$ agreements'")
    (toy_copy / "nodes.yaml").write_text(text)
    out = tmp_path / "theory.png"
    assert main(["links", "--model", str(toy_copy), "--plot", str(out)]) == 0, capsys.readouterr().err
    assert out.read_bytes().startswith(b"\x89PNG")
    assert main(["shift", "--model", str(toy_copy), "-c", "legal_agreements", "-t", "synergy", "--plot", str(tmp_path / "s.png")]) == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_case_file_is_read_by_its_bom(tmp_path, toy_model, encoding):
    path = tmp_path / "cases.csv"
    data = CASES.replace(",", "\t").encode(encoding)
    if encoding != "utf-16":  # the plain codec writes its own BOM
        data = ("\ufeff".encode(encoding)) + data
    path.write_bytes(data)
    cases = read_cases(path, toy_model)
    assert list(cases["case_id"]) == ["A", "B", "C"]
    assert list(cases["legal_agreements"]) == ["present", "absent", "present"]


def test_csv_injection_is_escaped_in_the_conflict_report(work, capsys):
    evil = ["=HYPERLINK(\"http://x\";\"y\")", "+cmd|' /C calc'!A0", "@SUM(1+1)"]
    rows = "".join(f"\"{e.replace(chr(34), chr(34) * 2)}\",present,high,synergy\n" for e in evil)
    (work / "cases.csv").write_text("case_id,legal_agreements,initial_trust,synergy\n" + rows)
    assert main([*UPDATE, "--out", "new", "--conflict-report", "conflict.csv", "--report", "links.csv"]) == 0, capsys.readouterr().err
    import csv

    with open(work / "conflict.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert sorted(r["case_id"] for r in table) == sorted("'" + e for e in evil)
    for row in table:  # the numbers stay numbers, negative ones too
        float(row["conflict"])
    with open(work / "links.csv", newline="") as handle:
        weights = [float(r["prior_weight"]) for r in csv.DictReader(handle)]
    assert any(w < 0 for w in weights)  # a plain negative number is not escaped


def test_state_names_from_a_network_file_are_escaped(tmp_path, capsys):
    (tmp_path / "evil.xmlbif").write_text(
        "<BIF VERSION='0.3'><NETWORK><NAME>e</NAME><VARIABLE TYPE='nature'><NAME>x</NAME>"
        "<OUTCOME>=cmd|' /C calc'!A0</OUTCOME><OUTCOME>-2+3</OUTCOME></VARIABLE>"
        "<DEFINITION><FOR>x</FOR><TABLE>0.25 0.75</TABLE></DEFINITION></NETWORK></BIF>"
    )
    assert load_model(tmp_path / "evil.xmlbif").states("x") == ("=cmd|' /C calc'!A0", "-2+3")
    out = tmp_path / "q.csv"
    assert main(["query", "--model", str(tmp_path / "evil.xmlbif"), "-t", "x", "--csv", str(out)]) == 0, capsys.readouterr().err
    import csv

    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["state"] for r in rows] == ["'=cmd|' /C calc'!A0", "'-2+3"]
    assert [float(r["p"]) for r in rows] == [0.25, 0.75]  # numbers stay numbers


def test_report_refuses_a_file_made_in_its_folder_during_the_run(toy_model, tmp_path, monkeypatch):
    from bayes_cmo.report import write as markdown

    out = tmp_path / "R"
    real = markdown.check_output

    def racing(*args, **kwargs):  # another program makes R while the report is computed
        planned = real(*args, **kwargs)
        out.mkdir()
        (out / "theirs.txt").write_text("keep")
        return planned

    monkeypatch.setattr(markdown, "check_output", racing)
    with pytest.raises(BayesCMOError, match="R: appeared while this ran"):
        markdown.write_report(toy_model.with_draws(5), out, targets=["synergy"])
    assert [p.name for p in out.iterdir()] == ["theirs.txt"] and (out / "theirs.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["R"]  # no temporary folder left


def test_report_force_replaces_its_own_folder_only(toy_model, tmp_path):
    from bayes_cmo.report.write import write_report

    out = tmp_path / "R"
    write_report(toy_model.with_draws(5), out, targets=["synergy"])
    assert (out / "provenance.yaml").read_text().startswith("created_by: bayes_cmo")
    write_report(toy_model.with_draws(5), out, targets=["synergy"], force=True)  # its own: replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.md").write_text("keep")
    with pytest.raises(BayesCMOError, match="did not write"):
        write_report(toy_model.with_draws(5), tmp_path / "mine", targets=["synergy"], force=True)
    assert (tmp_path / "mine" / "notes.md").read_text() == "keep"
