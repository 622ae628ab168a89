"""Network files that open looking right in GeNIe and Hugin, and the table conventions of each format.

The conventions are pinned on small hand-written files whose meaning cannot be
misread: a node C that copies its second parent B (3 states) whatever its first
parent A (2 states) says. Read with the wrong parent order, C no longer copies B.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from bayes_cmo import export_model, load_model, posterior
from bayes_cmo.network.model import max_abs_difference

# GeNIe writes a CPT row by row over the parent configurations with the LAST parent varying fastest.
GENIE_XDSL = """<?xml version="1.0" encoding="UTF-8"?>
<smile version="1.0" id="copy" numsamples="10000" discsamples="10000">
  <nodes>
    <cpt id="A"><state id="a0" /><state id="a1" /><probabilities>0.3 0.7</probabilities></cpt>
    <cpt id="B"><state id="b0" /><state id="b1" /><state id="b2" /><probabilities>0.2 0.3 0.5</probabilities></cpt>
    <cpt id="C">
      <state id="c0" /><state id="c1" /><state id="c2" />
      <parents>A B</parents>
      <probabilities>1 0 0 0 1 0 0 0 1 1 0 0 0 1 0 0 0 1</probabilities>
    </cpt>
  </nodes>
  <extensions>
    <genie version="1.0" app="GeNIe 4.1" name="copy">
      <node id="A"><name>Parent A</name><position>10 10 90 50</position></node>
      <node id="B"><name>Parent B</name><position>110 10 190 50</position></node>
      <node id="C"><name>Child copying B</name><position>60 100 140 140</position></node>
    </genie>
  </extensions>
</smile>
"""

# Hugin NET: data nested by parent in the potential's order, the last parent innermost.
HUGIN_NET = """net { }
node A { label = "Parent A"; position = (50 30); states = ("a0" "a1"); }
node B { label = "Parent B"; position = (150 30); states = ("b0" "b1" "b2"); }
node C { label = "Child copying B"; position = (100 120); states = ("c0" "c1" "c2"); }
potential (A) { data = (0.3 0.7); }
potential (B) { data = (0.2 0.3 0.5); }
potential (C | A B) {
 data = (((1 0 0) (0 1 0) (0 0 1))
         ((1 0 0) (0 1 0) (0 0 1)));
}
"""

# BIF: one row per parent configuration, named, so the order is explicit.
BIF = """network copy { }
variable A { type discrete [ 2 ] { a0, a1 }; }
variable B { type discrete [ 3 ] { b0, b1, b2 }; }
variable C { type discrete [ 3 ] { c0, c1, c2 }; }
probability ( A ) { table 0.3, 0.7; }
probability ( B ) { table 0.2, 0.3, 0.5; }
probability ( C | A, B ) {
  (a0, b0) 1, 0, 0;  (a0, b1) 0, 1, 0;  (a0, b2) 0, 0, 1;
  (a1, b0) 1, 0, 0;  (a1, b1) 0, 1, 0;  (a1, b2) 0, 0, 1;
}
"""


def _copies_b(model) -> None:
    net = model.network
    cpt = np.transpose(net.cpts["C"], [0, 1 + net.parents["C"].index("A"), 1 + net.parents["C"].index("B")])
    for a, b in itertools.product(range(2), range(3)):
        np.testing.assert_array_equal(cpt[:, a, b], np.eye(3)[b], err_msg=f"A={a}, B={b}")


@pytest.mark.parametrize(("name", "text"), [("copy.xdsl", GENIE_XDSL), ("copy.net", HUGIN_NET), ("copy.bif", BIF)])
def test_hand_written_files_read_with_their_tools_convention(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    model = load_model(path)
    _copies_b(model)
    if not name.endswith(".bif"):
        assert model.label("C") == "Child copying B" and model.label("A") == "Parent A"
    p = posterior(model, "C", {"A": "a1"})["C"]
    np.testing.assert_allclose(p, [0.2, 0.3, 0.5], atol=1e-12)


@pytest.mark.parametrize("suffix", [".xdsl", ".net", ".bif", ".xmlbif", ".bifxml"])
def test_export_of_the_hand_written_network_keeps_the_convention_and_labels(tmp_path, suffix):
    (tmp_path / "copy.xdsl").write_text(GENIE_XDSL, encoding="utf-8")
    model = load_model(tmp_path / "copy.xdsl")
    back = load_model(export_model(model, tmp_path / f"out{suffix}"))
    _copies_b(back)
    assert {v: back.label(v) for v in back.variables} == {"A": "Parent A", "B": "Parent B", "C": "Child copying B"}


def test_exported_xdsl_lists_the_last_parent_fastest(tmp_path, default_model):
    path = export_model(default_model, tmp_path / "cmo.xdsl")
    root = ET.parse(path).getroot()
    net = default_model.network
    checked = 0
    for cpt in root.find("nodes"):
        node = cpt.get("id")
        parents = (cpt.findtext("parents") or "").split()
        if len(parents) < 2:
            continue
        values = np.array(cpt.findtext("probabilities").split(), dtype=float)
        axes = [1 + net.parents[node].index(p) for p in parents] + [0]
        expected = np.transpose(net.cpts[node], axes).reshape(-1)  # C order: the last axis fastest
        np.testing.assert_allclose(values, expected, atol=1e-15, err_msg=node)
        checked += 1
    assert checked >= 10


def _boxes(root):
    return {n.get("id"): tuple(int(v) for v in n.findtext("position").split()) for n in root.findall("extensions/genie/node")}


def test_exported_xdsl_is_genie_ready(tmp_path, default_model):
    path = export_model(default_model, tmp_path / "cmo.xdsl")
    root = ET.parse(path).getroot()
    theory = default_model.theory
    genie = root.find("extensions/genie")
    names = {n.get("id"): n.findtext("name") for n in genie.findall("node")}
    assert names == {v: theory.nodes[v].label for v in default_model.variables}  # labels as names, ids stay ids
    assert {c.get("id") for c in root.find("nodes")} == set(default_model.variables)
    colours = {n.get("id"): n.find("interior").get("color") for n in genie.findall("node")}
    by_role = {}
    for v, colour in colours.items():
        by_role.setdefault(theory.nodes[v].role, set()).add(colour)
    assert all(len(c) == 1 for c in by_role.values()) and len(set().union(*by_role.values())) == len(by_role)
    boxes = _boxes(root)
    for (u, a), (v, b) in itertools.combinations(boxes.items(), 2):  # no two nodes overlap
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (u, v)
    for v in default_model.variables:  # every arc points down
        for p in default_model.network.parents[v]:
            assert boxes[p][3] < boxes[v][1], (p, v)
    role_rows = {role: [boxes[v][1] for v in default_model.variables if theory.nodes[v].role == role] for role in by_role}
    assert max(role_rows["mechanism"]) < min(role_rows["outcome"])  # outcomes at the bottom
    assert min(role_rows["context"]) < min(role_rows["mechanism"])
    comments = {n.get("id"): n.findtext("comment") or "" for n in genie.findall("node")}
    link = next(link for link in theory.links if link.citation.get("cmo") and not link.lag)
    assert link.citation["cmo"] in comments[link.target] and link.source in comments[link.target]
    assert theory.nodes["synergy"].description.strip()[:40] in comments["synergy"]
    assert "bayes_cmo" in (genie.findtext("comment") or "") and str(default_model.source) in genie.findtext("comment")


def test_net_has_labels_and_positions_and_round_trips(tmp_path, toy_model):
    # the toy theory: pgmpy's NET reader (pyparsing) takes minutes on the shipped priors' large tables
    path = export_model(toy_model, tmp_path / "cmo.net")
    text = path.read_text()
    assert 'label = "Legal agreements";' in text
    assert text.count("position = (") == len(toy_model.variables)
    back = load_model(path)
    assert max_abs_difference(toy_model, back) < 1e-8
    assert {v: back.label(v) for v in back.variables} == {v: toy_model.label(v) for v in toy_model.variables}


@pytest.mark.parametrize("suffix", [".bif", ".net", ".bifxml"])
def test_pyagrum_reads_our_export_to_the_same_answers(tmp_path, default_model, suffix):
    """pyAgrum agrees with our BIF, NET and XMLBIF (as .bifxml). Its XDSL reader is not used: pyAgrum 3.3.1
    reads XDSL tables with the first parent fastest, against GeNIe's own files (see the README)."""
    gum = pytest.importorskip("pyagrum")
    path = export_model(default_model, tmp_path / f"cmo{suffix}")
    bn = gum.loadBN(str(path))
    ie = gum.LazyPropagation(bn)
    ie.setEvidence({"legal_agreements": "present", "entry_point": "policy_directive"})
    ie.makeInference()
    ours = posterior(default_model, ["synergy", "dissolution"], {"legal_agreements": "present", "entry_point": "policy_directive"})
    for target in ("synergy", "dissolution"):
        theirs = ie.posterior(target)
        labels = [theirs.variable(0).label(i) for i in range(theirs.variable(0).domainSize())]
        assert labels == list(default_model.states(target))
        np.testing.assert_allclose(np.asarray(theirs.toarray()), ours[target], atol=1e-7)


def test_pyagrum_3_3_1_reads_genie_xdsl_with_the_first_parent_fastest(tmp_path):
    """Why the README warns about pyAgrum's XDSL reader: on a GeNIe-convention file, C no longer copies B."""
    gum = pytest.importorskip("pyagrum")
    if gum.__version__ != "3.3.1":
        pytest.skip(f"checked on pyAgrum 3.3.1, this is {gum.__version__}")
    path = tmp_path / "copy.xdsl"
    path.write_text(GENIE_XDSL, encoding="utf-8")
    bn = gum.loadBN(str(path))
    cpt = bn.cpt("Child copying B")  # pyAgrum names variables by their GeNIe label
    got = cpt[{"Parent A": "a1", "Parent B": "b0"}]
    np.testing.assert_array_equal(got, [0, 1, 0])  # GeNIe's meaning is [1, 0, 0]
