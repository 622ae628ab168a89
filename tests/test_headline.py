"""The paper lives in priors/: headline.yaml drives every default, and library code names no node.

The verbs' defaults (targets and their reported states, the headline context,
the time view's absorbing outcome, the sample-size link) come from the priors
folder's ``headline.yaml``; a theory without one gets outcomes as targets or a
one-line error naming the missing key. Checked on the toy theory and on a copy
of it with every node renamed, so nothing can depend on the shipped names.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

import bayes_cmo as bc
from bayes_cmo import BayesCMOError
from bayes_cmo.cli import main
from bayes_cmo.inference import headline

ROOT = Path(__file__).parents[1]
TOY = Path(__file__).parent / "data" / "toy"
#: Toy node ids -> names no library code could know.
RENAME = {"legal_agreements": "contract", "mandated": "imposed", "initial_trust": "goodwill", "synergy": "gain"}
#: Shipped ids that are also a statistic's name (Jensen's data "conflict" score and its column): not checked.
GENERIC_WORDS = {"conflict"}


def renamed(tmp_path: Path, with_headline: bool = True) -> Path:
    """The toy priors with every node renamed (ids, findings, links, headline)."""
    dest = tmp_path / "renamed"
    shutil.copytree(TOY, dest)
    for file in dest.glob("*.yaml"):
        text = file.read_text()
        for old, new in RENAME.items():
            text = re.sub(rf"(?<![A-Za-z0-9_]){old}(?![A-Za-z0-9_])", new, text)
        file.write_text(text)
    if not with_headline:
        (dest / "headline.yaml").unlink()
    return dest


def test_the_shipped_headline_is_loaded(default_theory):
    h = default_theory.headline
    shipped = yaml.safe_load((ROOT / "priors" / "headline.yaml").read_text())["headline"]
    assert dict(h.targets) == shipped["targets"]
    assert h.context == shipped["context"]
    assert (h.absorbing, h.absorbing_state) == (shipped["absorbing"]["node"], shipped["absorbing"]["state"])
    assert h.link == shipped["link"]


def test_renamed_theory_drives_the_defaults(tmp_path, capsys):
    folder = renamed(tmp_path)
    model = bc.load_model(folder)
    assert headline.targets(model) == {"gain": "gain"}
    assert headline.context(model) == "contract"
    assert headline.link(model.theory) == "contract:goodwill"
    # sample size: the headline link by default
    frame = bc.sample_size(model, n=(10,), replicates=4)
    assert frame["link"].tolist() == ["contract:goodwill"]
    # query without --target: the headline targets
    assert main(["query", "--model", str(folder), "--json"]) == 0
    rows = yaml.safe_load(capsys.readouterr().out)
    assert {r["target"] for r in rows} == {"gain"}
    # compare: the renamed headline target and its shift by the renamed context
    table = bc.compare_models(model, model)
    assert table["target"].tolist() == ["gain", "gain"]
    assert "shift by contract=present vs absent" in table["query"].tolist()
    assert (table["difference"] == 0).all()


def test_report_on_the_renamed_theory(tmp_path):
    folder = renamed(tmp_path)
    out = bc.write_report(bc.load_model(folder).with_draws(20, seed=0), tmp_path / "rep")
    text = (out / "report.md").read_text()
    # headline.yaml's context (renamed 'contract', labelled as before) and target state (renamed 'gain')
    assert "## How much does legal agreements change the outcomes?" in text
    assert "P(Synergy: gain)" in text


def test_without_a_headline_outcomes_are_targets_and_missing_keys_are_named(tmp_path):
    folder = renamed(tmp_path, with_headline=False)
    model = bc.load_model(folder)
    assert model.theory.headline == bc.theory.Headline()
    assert headline.targets(model) == {"gain": "gain"}  # the only outcome, at its highest state
    with pytest.raises(BayesCMOError, match=r"headline.yaml: no 'context' key"):
        headline.context(model)
    with pytest.raises(BayesCMOError, match=r"headline.yaml: no 'link' key; name the link"):
        bc.sample_size(model, n=(10,), replicates=4)
    with pytest.raises(BayesCMOError, match=r"headline.yaml: no 'absorbing' key"):
        bc.survival(model, 2)
    with pytest.raises(BayesCMOError, match=r"no 'context' key"):
        bc.write_report(model.with_draws(10, seed=0), tmp_path / "rep")
    assert main(["plan", "sample-size", "--model", str(folder), "--n", "5", "--replicates", "2", "--quiet"]) == 2


def test_network_file_targets_are_its_leaves():
    model = bc.load_model(TOY.parent / "asia.bif")
    leaves = {v for v in model.variables if not any(v in model.network.parents[w] for w in model.variables)}
    assert set(headline.targets(model)) == leaves
    assert all(state == model.states(node)[-1] for node, state in headline.targets(model).items())


@pytest.mark.parametrize(
    "text, message",
    [
        ("headline: [synergy]", "expected a top-level 'headline:' mapping"),
        ("headline: {target: {synergy: synergy}}", "unknown field 'target'; did you mean 'targets'"),
        ("headline: {targets: {synergi: synergy}}", "headline.targets: unknown node 'synergi'; did you mean 'synergy'"),
        ("headline: {targets: {synergy: synrgy}}", "unknown state 'synrgy' for synergy"),
        ("headline: {context: legal}", "headline.context: unknown node 'legal'; did you mean 'legal_agreements'"),
        ("headline: {absorbing: synergy}", "headline.absorbing: expected a mapping with 'node'"),
        ("headline: {link: 'legal_agreements:synergy'}", "headline.link: unknown link 'legal_agreements:synergy'"),
    ],
)
def test_bad_headline_is_one_line(toy_copy, text, message):
    (toy_copy / "headline.yaml").write_text(text)
    with pytest.raises(BayesCMOError, match=re.escape(message)) as info:
        bc.load_theory(toy_copy)
    assert "\n" not in str(info.value) and "headline.yaml" in str(info.value)


def test_a_list_of_targets_reports_their_highest_states(toy_copy):
    (toy_copy / "headline.yaml").write_text("headline: {targets: [initial_trust, synergy]}")
    assert dict(bc.load_theory(toy_copy).headline.targets) == {"initial_trust": "high", "synergy": "synergy"}


def _shipped_ids() -> list[str]:
    return [n["id"] for n in yaml.safe_load((ROOT / "priors" / "nodes.yaml").read_text())["nodes"]]


def test_library_code_names_no_node_of_the_paper():
    """No shipped node id in bayes_cmo/**/*.py, docstrings and comments included."""
    offenders = []
    for file in sorted((ROOT / "bayes_cmo").rglob("*.py")):
        text = file.read_text(encoding="utf-8")
        for node in _shipped_ids():
            if node in GENERIC_WORDS:
                continue
            pattern = rf"(?<![A-Za-z0-9_]){node}(?![A-Za-z0-9_])"
            for match in re.finditer(pattern, text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{file.relative_to(ROOT)}:{line}: {node}")
    assert not offenders, "\n".join(offenders)
