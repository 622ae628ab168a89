"""Every mistake in a priors folder is one line naming the file and key, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayes_cmo import BayesCMOError, load_theory
from bayes_cmo.cli import main


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


CASES = [
    ("nodes.yaml", "role: context\n", "role: contxt\n", r"nodes.yaml: node 'legal_agreements': role .*did you mean 'context'"),
    ("nodes.yaml", "states: [absent, present]", "states: [absent, present", r"nodes.yaml:\d+: malformed YAML"),
    ("nodes.yaml", "baseline: {present: 0.4}", "baseline: {present: 1.4}", r"baseline.present: probability must be in \[0, 1\], got 1.4"),
    ("nodes.yaml", "baseline: {present: 0.4}", "baseline: {present: likely}", r"anchor word.*got 'likely'"),
    ("nodes.yaml", "baseline: [0.5, 0.5]", "baseline: [0.5, 0.6]", r"node 'synergy', baseline: probabilities must sum to 1, got 1.1"),
    ("nodes.yaml", "baseline: {present: 0.4}", "baseline: {presnt: 0.4}", r"unknown state 'presnt'.*did you mean 'present'"),
    ("nodes.yaml", "  - id: mandated", "  - id: legal_agreements", r"duplicate node id 'legal_agreements'"),
    ("nodes.yaml", "  - id: mandated", "  - id: Mandated", r"id must be snake_case"),
    ("nodes.yaml", "    role: outcome\n", "    role: outcome\n    colour: red\n", r"unknown field 'colour'"),
    ("links.yaml", "  - from: mandated", "  - from: mandate", r"links.yaml: links\[1\].from: unknown node 'mandate'; did you mean 'mandated'"),
    ("links.yaml", "    to: synergy", "    to: synergies", r"unknown node 'synergies'; did you mean 'synergy'"),
    ("links.yaml", "strength: strong        # 2.0 log-odds pole to pole", "strength: stron", r"strength must be one of .*did you mean 'strong'"),
    ("links.yaml", 'sign: "-"', "sign: down", r"link mandated -> initial_trust: sign must be '\+' or '-'"),
    ("links.yaml", "confidence: low", "confidence: lo", r"confidence must be one of .*did you mean 'low'"),
    ("links.yaml", "links:\n", "links:\n  - {from: synergy, to: legal_agreements, sign: '+', strength: weak}\n", r"cycle: .*legal_agreements -> initial_trust -> synergy -> legal_agreements|cycle: .*synergy -> legal_agreements"),
    ("links.yaml", "links:\n", "links:\n  - {from: mandated, to: initial_trust, sign: '+', strength: weak}\n", r"duplicate link"),
    ("links.yaml", "links:\n", "links:\n  - {from: synergy, to: synergy, sign: '+', strength: weak}\n", r"own parent"),
    ("claims.yaml", "target: initial_trust", "target: initial_trus", r"claims.yaml: claim 'legal_raises_trust'.target: unknown node 'initial_trus'; did you mean 'initial_trust'"),
    ("claims.yaml", "expect: increase", "expect: increse", r"did you mean 'increase'"),
    ("scenarios.yaml", "legal_agreements: absent", "legal_agreements: absnt", r"scenarios.yaml: scenario 'enforced'.evidence.legal_agreements: unknown state 'absnt'"),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), CASES)
def test_bad_file_is_one_line_error(toy_copy, name, old, new, message):
    edit(toy_copy, name, old, new)
    with pytest.raises(BayesCMOError, match=message) as info:
        load_theory(toy_copy)
    assert "\n" not in str(info.value)
    assert name in str(info.value) or "cycle" in str(info.value)


def test_cycle_is_named(toy_copy):
    edit(toy_copy, "links.yaml", "links:\n", "links:\n  - {from: synergy, to: legal_agreements, sign: '+', strength: weak}\n")
    with pytest.raises(BayesCMOError) as info:
        load_theory(toy_copy)
    message = str(info.value)
    for node in ("legal_agreements", "initial_trust", "synergy"):
        assert node in message
    assert "lag: 1" in message


def test_lagged_feedback_link_is_allowed(toy_copy):
    edit(toy_copy, "links.yaml", "links:\n", "links:\n  - {from: synergy, to: initial_trust, sign: '+', strength: weak, lag: 1}\n")
    theory = load_theory(toy_copy)
    assert len(theory.links) == 4 and len(theory.dag_links) == 3


def test_missing_file_and_not_a_folder(tmp_path, toy_copy):
    (toy_copy / "links.yaml").unlink()
    with pytest.raises(BayesCMOError, match=r"links.yaml: file not found"):
        load_theory(toy_copy)
    with pytest.raises(BayesCMOError, match="not a priors folder"):
        load_theory(tmp_path / "nowhere")


def test_nominal_parent_needs_scores(toy_copy):
    edit(toy_copy, "nodes.yaml", "    states: [no, yes]", "    states: [no, yes]\n    ordered: false")
    with pytest.raises(BayesCMOError, match=r"'mandated' is nominal .* needs 'scores'"):
        load_theory(toy_copy)


TABLE_CASES = [
    ("initial_trust,inertia,synergy\nlow,0.9,0.1\nhigh,0.2,0.7\n", r"synergy.csv: row 3: probabilities of synergy must sum to 1, got 0.9"),
    ("initial_trust,inertia,synergy\nlow,1.2,-0.2\nhigh,0.2,0.8\n", r"row 2, column inertia: probability must be in \[0, 1\]"),
    ("initial_trust,inertia,synergy\nlow,0.9,0.1\nhgh,0.2,0.8\n", r"row 3, column initial_trust: unknown state 'hgh'.*did you mean 'high'"),
    ("initial_trust,inertia\nlow,1\nhigh,1\n", r"missing a probability column for state\(s\) synergy"),
    ("initial_trust,inertia,synergy\nlow,0.9,0.1\n", r"expected one row for each of the 2 parent configurations"),
    ("legal_agreements,inertia,synergy\nabsent,0.9,0.1\npresent,0.2,0.8\n", r"parent columns must match the links into synergy"),
    ("initial_trust,inertia,synergy\nlow,abc,0.1\nhigh,0.2,0.8\n", r"expected a probability, got 'abc'"),
]


@pytest.mark.parametrize(("text", "message"), TABLE_CASES)
def test_bad_explicit_table(toy_copy, text, message):
    (toy_copy / "tables").mkdir()
    (toy_copy / "tables" / "synergy.csv").write_text(text)
    with pytest.raises(BayesCMOError, match=message):
        load_theory(toy_copy)


def test_explicit_table_overrides_generated(toy_copy):
    from bayes_cmo import build_cpts

    (toy_copy / "tables").mkdir()
    (toy_copy / "tables" / "synergy.csv").write_text("initial_trust,inertia,synergy\nhigh,0.1,0.9\nlow,0.7,0.3\n")
    cpt = build_cpts(load_theory(toy_copy))["synergy"]
    assert cpt[:, 0].tolist() == [0.7, 0.3] and cpt[:, 1].tolist() == [0.1, 0.9]


def test_cli_bad_priors_exit_2_without_traceback(toy_copy, capsys):
    edit(toy_copy, "links.yaml", "  - from: mandated", "  - from: mandate")
    assert main(["check", "--model", str(toy_copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "did you mean 'mandated'" in err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.text(max_size=200))
def test_any_nodes_file_gives_theory_or_one_line_error(toy_copy, garbage):
    (toy_copy / "nodes.yaml").write_text(garbage)
    try:
        load_theory(toy_copy)
    except BayesCMOError as exc:
        assert "\n" not in str(exc)


link_entry = st.fixed_dictionaries(
    {
        "from": st.sampled_from(["legal_agreements", "mandated", "initial_trust", "synergy", "nobody"]),
        "to": st.sampled_from(["legal_agreements", "mandated", "initial_trust", "synergy"]),
        "sign": st.sampled_from(["+", "-", "up", 1, 0]),
        "strength": st.one_of(st.sampled_from(["weak", "strong", "huge"]), st.floats(-3, 5), st.just(float("nan"))),
    },
    optional={"lag": st.sampled_from([0, 1, 2]), "confidence": st.sampled_from(["low", "high", "meh"])},
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=st.lists(link_entry, max_size=6))
def test_any_links_file_gives_theory_or_one_line_error(toy_copy, links):
    import yaml

    (toy_copy / "links.yaml").write_text(yaml.safe_dump({"links": links}))
    try:
        theory = load_theory(toy_copy)
    except BayesCMOError as exc:
        assert "\n" not in str(exc)
    else:
        from bayes_cmo import build_cpts

        for cpt in build_cpts(theory).values():
            assert abs(cpt.sum(axis=0) - 1).max() < 1e-9


@pytest.mark.parametrize(
    ("word", "choices", "expected"),
    [
        ("presnt", ["absent", "present"], "; did you mean 'present'?"),
        ("legal", ["legal_agreements", "trust"], "; did you mean 'legal_agreements'?"),
        ("Trust", ["initial_trust", "trust"], "; did you mean 'trust'?"),
        ("trust", ["initial_trust", "trust_x"], "; did you mean 'trust_x'?"),  # two contain it: closest spelling
        ("zzz", ["trust"], ""),
    ],
)
def test_did_you_mean(word, choices, expected):
    from bayes_cmo._errors import did_you_mean

    assert did_you_mean(word, choices) == expected


# ---------------------------------------------------------------------------
# hand-edit mistakes that used to pass silently or end in a traceback

SILENT_CASES = [
    # a repeated key: YAML keeps the later value without a word
    ("claims.yaml", "    expect: increase\n", "    expect: increase\n    expect: decrease\n", r"claims.yaml:\d+: malformed YAML \(duplicate key 'expect'"),
    # a list where a mapping is expected: dict([{...}]) silently scrambled it
    ("links.yaml", 'citation: {section: toy, cmo: "Legal agreements -> greater initial trust"}', "citation: [toy]", r"links.yaml: link legal_agreements -> initial_trust: citation must be a mapping"),
    ("links.yaml", "    confidence: low\n", "    confidence: low\n    evidence: [{studies: 2}]\n", r"evidence must be a mapping"),
    ("links.yaml", "    confidence: low\n", "    confidence: low\n    lag: true\n", r"lag must be 0 .* got True"),
    ("nodes.yaml", "    label: Synergy\n", "    label: [Synergy, outcome]\n", r"node 'synergy': label must be text"),
    ("nodes.yaml", "states: [inertia, synergy]", "states: [inertia, [synergy]]", r"node 'synergy': each state must be a name"),
    ("claims.yaml", "- id: legal_raises_trust", "- id: [legal_raises_trust]", r"claims.yaml: claims\[0\]: id must be text"),
    ("scenarios.yaml", "  - id: enforced\n", "  - id: enforced\n    citation: page 3\n", r"scenario 'enforced': citation must be a mapping"),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), SILENT_CASES)
def test_hand_edit_mistake_is_one_line_error(toy_copy, name, old, new, message):
    edit(toy_copy, name, old, new)
    with pytest.raises(BayesCMOError, match=message) as info:
        load_theory(toy_copy)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["nodes.yaml", "claims.yaml"])
def test_folder_in_place_of_a_file(toy_copy, capsys, name):
    (toy_copy / name).unlink()
    (toy_copy / name).mkdir()
    assert main(["check", "--model", str(toy_copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{name}: is a folder" in err


def test_nodes_yml_is_named(toy_copy):
    (toy_copy / "nodes.yaml").rename(toy_copy / "nodes.yml")
    with pytest.raises(BayesCMOError, match=r"nodes.yaml: file not found; found nodes.yml, rename it nodes.yaml"):
        load_theory(toy_copy)


GOOD_TABLE = [0.7, 0.3, 0.1, 0.9]  # P(inertia), P(synergy) for initial_trust low, high

SPREADSHEET_TABLES = [
    ("bom", b"\xef\xbb\xbfinitial_trust,inertia,synergy\nlow,0.7,0.3\nhigh,0.1,0.9\n"),
    ("crlf", b"initial_trust,inertia,synergy\r\nlow,0.7,0.3\r\nhigh,0.1,0.9\r\n"),
    ("blank lines", b"initial_trust,inertia,synergy\n\nlow,0.7,0.3\n\n\nhigh,0.1,0.9\n\n"),
    ("empty trailing row and column", b"\xef\xbb\xbfinitial_trust,inertia,synergy,\r\nlow,0.7,0.3,\r\nhigh,0.1,0.9,\r\n,,,\r\n"),
    ("spaces", b" initial_trust , inertia , synergy \nlow , 0.7 , 0.3\nhigh, 0.1, 0.9\n"),
    # the one set of spreadsheet rules (bayes_cmo._tables), as for case and cost files:
    ("semicolons and decimal commas", b"initial_trust;inertia;synergy\nlow;0,7;0,3\nhigh;0,1;0,9\n"),
    ("tabs", b"initial_trust\tinertia\tsynergy\nlow\t0.7\t0.3\nhigh\t0.1\t0.9\n"),
    ("header and state case", b"Initial Trust,Inertia,SYNERGY\nLow,0.7,0.3\nHigh,0.1,0.9\n"),
]


@pytest.mark.parametrize(("label", "data"), SPREADSHEET_TABLES, ids=[c[0] for c in SPREADSHEET_TABLES])
def test_table_saved_by_a_spreadsheet_reads_as_shown(toy_copy, label, data):
    from bayes_cmo import build_cpts

    (toy_copy / "tables").mkdir()
    (toy_copy / "tables" / "synergy.csv").write_bytes(data)
    cpt = build_cpts(load_theory(toy_copy))["synergy"]
    assert cpt[:, 0].tolist() + cpt[:, 1].tolist() == GOOD_TABLE


BAD_SPREADSHEET_TABLES = [
    ("synergy.csv", b"initial_trust,inertia,synergy\n\nlow,0.7,0.3\n\nhigh,0.1,0.8\n", r"synergy.csv: row 5: probabilities of synergy must sum to 1"),
    ("synergy.csv", b"initial_trust;inertia;synergy\nlow;0,7;0,3\nhigh;0,1;0,8\n", r"synergy.csv: row 3: probabilities of synergy must sum to 1, got 0.9"),
    ("synergy.csv", b"initial_trust,inertia,synergy,\nlow,0.7,0.3,x\nhigh,0.1,0.9,\n", r"column 4: blank header above values"),
    ("synergy.csv", b"initial_trust,inertia,synergy,synergy\nlow,0.7,0.3,0.3\nhigh,0.1,0.9,0.9\n", r"column 'synergy' appears twice"),
    ("synergy.csv", b"initial_trust,inertai,synergy\nlow,0.7,0.3\nhigh,0.1,0.9\n", r"column 'inertai' looks like it: rename it 'inertia'"),
    ("synergy.csv", b"initial_trust,inertia,synergy\nlow,0.7,0.3\nhihg,0.1,0.9\n", r"row 3, column initial_trust: unknown state 'hihg'.*did you mean 'high'"),
    ("Synergy.CSV", b"initial_trust,inertia,synergy\nlow,0.7,0.3\nhigh,0.1,0.9\n", r"Synergy.CSV: file name: unknown node 'Synergy'; did you mean 'synergy'"),
    ("synergy.xlsx", b"PK\x03\x04", r"synergy.xlsx: a spreadsheet, not a CSV file"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_SPREADSHEET_TABLES)
def test_table_mistake_is_one_line_error(toy_copy, name, data, message):
    (toy_copy / "tables").mkdir()
    (toy_copy / "tables" / name).write_bytes(data)
    with pytest.raises(BayesCMOError, match=message) as info:
        load_theory(toy_copy)
    assert "\n" not in str(info.value)


def test_tables_must_be_a_folder(toy_copy):
    (toy_copy / "tables").write_text("synergy")
    with pytest.raises(BayesCMOError, match=r"tables: expected a folder of NODE.csv tables, found a file"):
        load_theory(toy_copy)
