"""The programme theory as data: nodes, CMO links, claims, scenarios, tables.

``load_theory(folder)`` reads a priors folder (YAML + CSV a researcher can edit
without Python), validates it, and returns a frozen :class:`Theory`. Every
mistake is a :class:`BayesCMOError` naming the file and key.
"""

from __future__ import annotations

import dataclasses
import graphlib
import importlib.resources
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import scales
from .._errors import BayesCMOError, bounded, did_you_mean
from .._lazy import pandas as pd
from .objects import ROLES, _ID, Claim, Link, Node, Headline, Scenario, Theory, known_node, known_state
from .. import _tables
from .._files import read_yaml

# ----------------------------------------------------------------------------
# Loading


def default_priors_path() -> Path:
    """The shipped default priors, found through importlib.resources."""
    try:
        return Path(str(importlib.resources.files("bayes_cmo.data.priors")))
    except ModuleNotFoundError:
        # A source checkout: the package data maps to priors/ at the repository top.
        checkout = Path(__file__).resolve().parents[2] / "priors"
        if checkout.is_dir():
            return checkout
        raise BayesCMOError("the shipped priors are missing from this installation; reinstall bayes_cmo") from None


#: The name of the shipped priors wherever a priors folder is taken (``--model default``).
SHIPPED = "default"


def priors_path(path: str | Path | None) -> Path:
    """``path`` as a folder or file; None or the string ``"default"`` is the shipped priors
    (a local folder named default is ``./default``, a Path)."""
    if path is None or (isinstance(path, str) and path == SHIPPED):
        return default_priors_path()
    return Path(path)


def load_theory(path: str | Path | None = None) -> Theory:
    """Read and validate a priors folder (default, or ``"default"``: the shipped priors).

    The folder holds ``nodes.yaml`` and ``links.yaml``, optionally
    ``claims.yaml``, ``scenarios.yaml``, ``headline.yaml``, ``reference.yaml`` (the reference
    partnership the baselines were elicited for) and ``tables/<node>.csv``.
    """
    folder = priors_path(path)
    if folder.is_file():
        raise BayesCMOError(f"{folder}: this needs a priors folder (nodes.yaml, links.yaml), not a network file")
    if not folder.is_dir():
        raise BayesCMOError(f"{folder}: not a priors folder (expected a folder with nodes.yaml and links.yaml)")
    for name in ("nodes.yaml", "links.yaml"):
        twin = folder / (name[:-5] + ".yml")
        if not (folder / name).exists() and twin.exists():
            raise BayesCMOError(f"{folder / name}: file not found; found {twin.name}, rename it {name}")
    nodes = _parse_nodes(folder / "nodes.yaml")
    links_data = read_yaml(folder / "links.yaml")
    scale = _confidence_scale(links_data, folder / "links.yaml")
    links = _parse_links(folder / "links.yaml", nodes, links_data, scale)
    tables = _parse_tables(folder / "tables", nodes)
    claims_file = folder / "claims.yaml"
    claims = _parse_claims(claims_file, nodes) if claims_file.exists() else ()
    scenarios_file = folder / "scenarios.yaml"
    scenarios = _parse_scenarios(scenarios_file, nodes) if scenarios_file.exists() else ()
    headline_file = folder / "headline.yaml"
    headline = _parse_headline(headline_file, nodes, links) if headline_file.exists() else Headline()
    reference_file = folder / "reference.yaml"
    reference = _parse_reference(reference_file, nodes) if reference_file.exists() else {}
    theory = Theory(
        nodes=nodes, links=links, claims=claims, scenarios=scenarios, tables=tables, path=folder,
        headline=headline, reference=reference, confidence_scale=scale,
    )
    _check_acyclic(theory, folder)
    _check_tables_match_links(theory, folder / "tables")
    _check_nominal_children(theory, folder / "nodes.yaml")
    return theory


def _entries(data: Any, file: Path, key: str) -> list[Mapping[str, Any]]:
    if not isinstance(data, Mapping) or key not in data:
        raise BayesCMOError(f"{file}: expected a top-level '{key}:' list")
    entries = data[key]
    if not isinstance(entries, list):
        raise BayesCMOError(f"{file}: '{key}' must be a list of entries, got {type(entries).__name__}")
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise BayesCMOError(f"{file}: {key}[{i}] must be a mapping of fields, got {bounded(entry)}")
    return entries


def _require(entry: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in entry or entry[name] is None:
        raise BayesCMOError(f"{where}: missing required field '{name}'")
    return entry[name]


def _check_fields(entry: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in entry:
        if key not in allowed:
            raise BayesCMOError(f"{where}: unknown field '{key}'{did_you_mean(key, allowed)}")


def _number(value: Any, where: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BayesCMOError(f"{where}: {what} must be a number, got {bounded(value)}")
    return float(value)


def _mapping(value: Any, where: str, what: str) -> dict[str, Any]:
    """An optional free-form mapping (evidence, citation): a list or a bare string is a mistake."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BayesCMOError(f"{where}: {what} must be a mapping (field: value), got {bounded(value)}")
    return dict(value)


def _text(value: Any, where: str, what: str, default: str = "") -> str:
    """An optional text field: a string or a number, never a list or mapping."""
    if value is None:
        return default
    if isinstance(value, (list, Mapping)):
        raise BayesCMOError(f"{where}: {what} must be text, got {bounded(value)}")
    return str(value).strip()


def _probability(value: Any, where: str) -> float:
    if isinstance(value, str):
        word = value.strip().lower()
        if word not in scales.PROBABILITY_ANCHORS:
            raise BayesCMOError(
                f"{where}: expected a probability or an anchor word "
                f"({', '.join(scales.PROBABILITY_ANCHORS)}), got '{value}'"
                f"{did_you_mean(word, scales.PROBABILITY_ANCHORS)}"
            )
        return scales.PROBABILITY_ANCHORS[word]
    p = _number(value, where, "a probability")
    if not 0.0 <= p <= 1.0:
        raise BayesCMOError(f"{where}: probability must be in [0, 1], got {p:g}")
    return p


_NODE_FIELDS = ("id", "label", "role", "states", "ordered", "baseline", "baseline_confidence", "description", "source")


def _parse_nodes(file: Path) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    for i, entry in enumerate(_entries(read_yaml(file), file, "nodes")):
        where = f"{file}: nodes[{i}]"
        node_id = _require(entry, "id", where)
        where = f"{file}: node '{node_id}'"
        _check_fields(entry, _NODE_FIELDS, where)
        if not isinstance(node_id, str) or not _ID.match(node_id):
            raise BayesCMOError(f"{where}: id must be snake_case (lowercase letters, digits, _), got {bounded(node_id)}")
        if node_id in nodes:
            raise BayesCMOError(f"{where}: duplicate node id '{node_id}'")
        role = _require(entry, "role", where)
        if not isinstance(role, str) or role not in ROLES:
            raise BayesCMOError(f"{where}: role must be one of {', '.join(ROLES)}, got '{role}'{did_you_mean(role, ROLES)}")
        states = _require(entry, "states", where)
        if not isinstance(states, list) or len(states) < 2:
            raise BayesCMOError(f"{where}: states must be a list of at least two names, got {bounded(states)}")
        for state in states:
            if isinstance(state, (list, Mapping)) or state is None or str(state).strip() == "":
                raise BayesCMOError(f"{where}: each state must be a name, got {bounded(state)}")
        states = tuple(str(s) for s in states)
        dupes = sorted({s for s in states if states.count(s) > 1})
        if dupes:
            raise BayesCMOError(f"{where}: duplicate state '{dupes[0]}'")
        ordered = entry.get("ordered", True)
        if not isinstance(ordered, bool):
            raise BayesCMOError(f"{where}: ordered must be true or false, got {bounded(ordered)}")
        baseline = _parse_baseline(entry.get("baseline"), states, f"{where}, baseline")
        confidence = _number(
            entry.get("baseline_confidence", scales.DEFAULT_BASELINE_CONFIDENCE), where, "baseline_confidence"
        )
        if confidence <= 0:
            raise BayesCMOError(f"{where}: baseline_confidence must be positive, got {confidence:g}")
        nodes[node_id] = Node(
            id=node_id,
            label=_text(entry.get("label"), where, "label", node_id.replace("_", " ").capitalize()),
            role=role,
            states=states,
            baseline=baseline,
            ordered=ordered,
            baseline_confidence=confidence,
            description=_text(entry.get("description"), where, "description"),
            source=_text(entry.get("source"), where, "source"),
        )
    if not nodes:
        raise BayesCMOError(f"{file}: no nodes")
    return nodes


def _parse_baseline(value: Any, states: tuple[str, ...], where: str) -> tuple[float, ...]:
    """A probability (or anchor word) per state; one state may be left out."""
    if value is None:
        return tuple(1.0 / len(states) for _ in states)
    if isinstance(value, list):
        if len(value) != len(states):
            raise BayesCMOError(f"{where}: expected {len(states)} probabilities (one per state), got {len(value)}")
        value = dict(zip(states, value, strict=True))
    if not isinstance(value, Mapping):
        raise BayesCMOError(f"{where}: expected a mapping state: probability, got {bounded(value)}")
    given = {}
    for state, p in value.items():
        if str(state) not in states:
            raise BayesCMOError(
                f"{where}: unknown state '{state}' (expected one of {', '.join(states)}){did_you_mean(state, states)}"
            )
        given[str(state)] = _probability(p, f"{where}.{state}")
    missing = [s for s in states if s not in given]
    total = sum(given.values())
    if len(missing) > 1:
        raise BayesCMOError(f"{where}: give a probability for every state but at most one; missing {', '.join(missing)}")
    if missing:
        if total > 1 + 1e-9:
            raise BayesCMOError(f"{where}: probabilities sum to {total:.4g} > 1, nothing left for '{missing[0]}'")
        given[missing[0]] = max(0.0, 1.0 - total)
    elif abs(total - 1.0) > 1e-6:
        raise BayesCMOError(f"{where}: probabilities must sum to 1, got {total:.6g}")
    probs = np.clip(np.array([given[s] for s in states]), scales.EPS, None)
    return tuple(float(p) for p in probs / probs.sum())


_LINK_FIELDS = (
    "from", "to", "sign", "strength", "confidence", "evidence", "scores",
    "moderator", "lag", "citation", "note", "weight_sd", "rule_exception",
)


def _confidence_scale(data: Any, file: Path) -> str:
    """The links file's ``confidence_scale:`` (cases | v0.1); files that name none use v0.1."""
    value = data.get("confidence_scale", scales.DEFAULT_CONFIDENCE_SCALE) if isinstance(data, Mapping) else scales.DEFAULT_CONFIDENCE_SCALE
    if not isinstance(value, str) or value not in scales.CONFIDENCE_SCALES:
        raise BayesCMOError(
            f"{file}: confidence_scale must be one of {', '.join(scales.CONFIDENCE_SCALES)}, got {value!r}"
            f"{did_you_mean(str(value), scales.CONFIDENCE_SCALES)}"
        )
    return value


def _parse_reference(file: Path, nodes: Mapping[str, Node]) -> dict[str, str]:
    """``reference:`` node -> state: the partnership every baseline was elicited for."""
    data = read_yaml(file)
    if not isinstance(data, Mapping) or "reference" not in data:
        raise BayesCMOError(f"{file}: expected a top-level 'reference:' mapping node: state")
    _check_fields(data, ("reference", "label", "description"), str(file))
    value = data["reference"]
    if not isinstance(value, Mapping) or not value:
        raise BayesCMOError(f"{file}: reference must be a non-empty mapping node: state, got {value!r}")
    return _parse_findings(value, nodes, f"{file}: reference")
_SIGNS = {"+": 1, "-": -1, "positive": 1, "negative": -1, 1: 1, -1: -1}


def _parse_links(file: Path, nodes: Mapping[str, Node], data: Any = None, scale: str | None = None) -> tuple[Link, ...]:
    links: list[Link] = []
    seen: set[tuple[str, str, int]] = set()
    data = read_yaml(file) if data is None else data
    sds = scales.CONFIDENCE_SCALES[scale or scales.DEFAULT_CONFIDENCE_SCALE]
    for i, entry in enumerate(_entries(data, file, "links")):
        where = f"{file}: links[{i}]"
        _check_fields(entry, _LINK_FIELDS, where)
        source = known_node(nodes, _require(entry, "from", where), f"{where}.from")
        target = known_node(nodes, _require(entry, "to", where), f"{where}.to")
        where = f"{file}: link {source.id} -> {target.id}"
        sign_value = _require(entry, "sign", where)
        if isinstance(sign_value, (bool, list, Mapping)) or sign_value not in _SIGNS:
            raise BayesCMOError(f"{where}: sign must be '+' or '-', got {bounded(sign_value)}")
        strength_value = _require(entry, "strength", where)
        if isinstance(strength_value, str):
            word = strength_value.strip().lower().replace(" ", "_")
            if word not in scales.STRENGTH_LOGODDS:
                raise BayesCMOError(
                    f"{where}: strength must be one of {', '.join(scales.STRENGTH_LOGODDS)} or a number, "
                    f"got '{strength_value}'{did_you_mean(word, scales.STRENGTH_LOGODDS)}"
                )
            strength, strength_label = scales.STRENGTH_LOGODDS[word], word
        else:
            strength = _number(strength_value, where, "strength")
            if strength < 0:
                raise BayesCMOError(f"{where}: strength must be >= 0 (put the direction in sign), got {strength:g}")
            strength_label = f"{strength:g}"
        confidence = str(entry.get("confidence", "low")).strip().lower().replace(" ", "_")
        if confidence not in scales.CONFIDENCE_SD:
            raise BayesCMOError(
                f"{where}: confidence must be one of {', '.join(scales.CONFIDENCE_SD)}, got '{confidence}'"
                f"{did_you_mean(confidence, scales.CONFIDENCE_SD)}"
            )
        scores = _parse_state_map(entry.get("scores"), source, f"{where}, scores", default=None)
        if scores is None:
            if not source.ordered:
                raise BayesCMOError(
                    f"{where}: '{source.id}' is nominal (ordered: false), so the link needs 'scores' "
                    f"giving a number for each of its states ({', '.join(source.states)})"
                )
            scores = source.default_scores()
        moderator, multipliers = None, None
        if entry.get("moderator") is not None:
            spec = entry["moderator"]
            if not isinstance(spec, Mapping) or "node" not in spec:
                raise BayesCMOError(f"{where}: moderator must be a mapping with 'node' and 'multipliers'")
            mod = known_node(nodes, spec["node"], f"{where}, moderator.node")
            if mod.id in (source.id, target.id):
                raise BayesCMOError(f"{where}: moderator must differ from both ends of the link, got '{mod.id}'")
            moderator = mod.id
            multipliers = _parse_state_map(spec.get("multipliers"), mod, f"{where}, moderator.multipliers", default=1.0)
        lag = entry.get("lag", 0)
        if isinstance(lag, bool) or lag not in (0, 1):
            raise BayesCMOError(f"{where}: lag must be 0 (same round) or 1 (feedback from the previous round), got {bounded(lag)}")
        if source.id == target.id and lag == 0:
            # A stock carried from round to round (a stock persisting) is a lagged link to itself.
            raise BayesCMOError(f"{where}: a node cannot be its own parent within a round (persistence from the previous round needs lag: 1)")
        sd = entry.get("weight_sd")
        if sd is not None:
            sd = _number(sd, where, "weight_sd")
            if sd <= 0:
                raise BayesCMOError(f"{where}: weight_sd must be positive, got {sd:g}")
        key = (source.id, target.id, lag)
        if key in seen:
            raise BayesCMOError(f"{where}: duplicate link (merge the two entries, or give one lag: 1)")
        seen.add(key)
        links.append(
            Link(
                source=source.id,
                target=target.id,
                sign=_SIGNS[sign_value],
                strength=strength,
                strength_label=strength_label,
                confidence=confidence,
                scores=scores,
                moderator=moderator,
                multipliers=multipliers,
                lag=int(lag),
                evidence=_mapping(entry.get("evidence"), where, "evidence"),
                citation=_citation(entry.get("citation"), where),
                sd=sd,
                confidence_sd=sds[confidence],
                rule_exception=_text(entry.get("rule_exception"), where, "rule_exception"),
            )
        )
    return tuple(links)


def _citation(value: Any, where: str) -> dict[str, Any]:
    """section, cmo (the paper's sentence), optional support (sentence or list of sentences), outcome (node ids)."""
    citation = _mapping(value, where, "citation")
    support = citation.get("support")
    if support is not None:
        items = support if isinstance(support, list) else [support]
        if not all(isinstance(s, str) and s.strip() for s in items):
            raise BayesCMOError(f"{where}: citation.support must be a sentence or a list of sentences, got {support!r}")
        citation["support"] = [s.strip() for s in items]
    return citation


def _parse_state_map(value: Any, node: Node, where: str, default: float | None) -> tuple[float, ...] | None:
    """A number per state of ``node``; unlisted states get ``default`` (None: all required)."""
    if value is None:
        return None if default is None else tuple(default for _ in node.states)
    if not isinstance(value, Mapping):
        raise BayesCMOError(f"{where}: expected a mapping state: number for {node.id}, got {bounded(value)}")
    out = {}
    for state, number in value.items():
        state = known_state(node, state, where)
        out[state] = _number(number, f"{where}.{state}", "the value")
    if default is None:
        missing = [s for s in node.states if s not in out]
        if missing:
            raise BayesCMOError(f"{where}: missing a number for state(s) {', '.join(missing)} of {node.id}")
    return tuple(out.get(s, default) for s in node.states)


def _parse_findings(value: Any, nodes: Mapping[str, Node], where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BayesCMOError(f"{where}: expected a mapping node: state, got {bounded(value)}")
    return {
        node.id: known_state(node, state, f"{where}.{node.id}")
        for node, state in ((known_node(nodes, k, where), v) for k, v in value.items())
    }


_CLAIM_FIELDS = ("id", "statement", "compare", "against", "given", "target", "expect", "mode", "measure", "citation")


def _split_round(key: Any, where: str) -> tuple[Any, int | None]:
    """``NODE@ROUND`` -> (NODE, ROUND); a key without ``@`` -> (key, None)."""
    if not isinstance(key, str) or "@" not in key:
        return key, None
    node, _, when = key.partition("@")
    if not when.isdigit() or int(when) < 1:
        raise BayesCMOError(f"{where}: '{key}': expected NODE@ROUND with ROUND a whole number from 1, e.g. {node}@1")
    return node, int(when)


def _parse_round_findings(value: Any, nodes: Mapping[str, Node], where: str) -> dict[str, str]:
    """Findings whose keys may be NODE@ROUND (claims across rounds)."""
    if value is None or not isinstance(value, Mapping):
        return _parse_findings(value, nodes, where)
    out = {}
    for key, state in value.items():
        node_id, when = _split_round(key, where)
        found = _parse_findings({node_id: state}, nodes, where)
        out.update({(f"{k}@{when}" if when else k): v for k, v in found.items()})
    return out


def _parse_hazard_rounds(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or set(value) != {"round"} or isinstance(value["round"], bool) or not isinstance(value["round"], int) or value["round"] < 1:
        raise BayesCMOError(f"{where}: a hazard claim compares rounds; expected {{round: N}} with N a whole number from 1, got {bounded(value)}")
    return {"round": str(value["round"])}


def _parse_claims(file: Path, nodes: Mapping[str, Node]) -> tuple[Claim, ...]:
    claims: list[Claim] = []
    for i, entry in enumerate(_entries(read_yaml(file), file, "claims")):
        where = f"{file}: claims[{i}]"
        claim_id = _text(_require(entry, "id", where), where, "id")
        where = f"{file}: claim '{claim_id}'"
        _check_fields(entry, _CLAIM_FIELDS, where)
        if claim_id in {c.id for c in claims}:
            raise BayesCMOError(f"{where}: duplicate claim id")
        target_key, target_round = _split_round(_require(entry, "target", where), f"{where}.target")
        target = known_node(nodes, target_key, f"{where}.target")
        measure = entry.get("measure", "mean")
        if not isinstance(measure, str) or measure not in ("mean", "hazard"):
            raise BayesCMOError(f"{where}: measure must be 'mean' or 'hazard', got {bounded(measure)}{did_you_mean(str(measure), ('mean', 'hazard'))}")
        if measure == "hazard":
            if target_round is not None:
                raise BayesCMOError(f"{where}: a hazard claim reads its target in the rounds of compare/against; drop '@{target_round}' from the target")
            compare = _parse_hazard_rounds(_require(entry, "compare", where), f"{where}.compare")
            against = _parse_hazard_rounds(_require(entry, "against", where), f"{where}.against")
        else:
            compare = _parse_round_findings(_require(entry, "compare", where), nodes, f"{where}.compare")
            against = _parse_round_findings(_require(entry, "against", where), nodes, f"{where}.against")
        given = _parse_round_findings(entry.get("given"), nodes, f"{where}.given")
        if target_round is not None and f"{target.id}@{target_round}" in {**compare, **against, **given}:
            raise BayesCMOError(f"{where}: the target '{target.id}@{target_round}' cannot also be in compare/against/given")
        if target_round is None and measure == "mean" and target.id in {**compare, **against, **given}:
            raise BayesCMOError(f"{where}: the target '{target.id}' cannot also be in compare/against/given")
        if set(compare) != set(against):
            raise BayesCMOError(
                f"{where}: compare and against must set the same node(s) to different states "
                f"(compare sets {', '.join(compare) or 'nothing'}, against sets {', '.join(against) or 'nothing'})"
            )
        if compare == against:
            raise BayesCMOError(f"{where}: compare and against are the same ({', '.join(f'{k}={v}' for k, v in compare.items())}); the claim would compare nothing")
        expect = _require(entry, "expect", where)
        if not isinstance(expect, str) or expect not in ("increase", "decrease"):
            raise BayesCMOError(f"{where}: expect must be 'increase' or 'decrease', got {bounded(expect)}{did_you_mean(expect, ('increase', 'decrease'))}")
        mode = entry.get("mode", "do")
        if not isinstance(mode, str) or mode not in ("do", "observe"):
            raise BayesCMOError(f"{where}: mode must be 'do' or 'observe', got {bounded(mode)}{did_you_mean(mode, ('do', 'observe'))}")
        claims.append(
            Claim(
                id=claim_id,
                statement=_text(entry.get("statement"), where, "statement", claim_id),
                compare=compare,
                against=against,
                given=given,
                target=target.id,
                expect=expect,
                mode=mode,
                citation=_mapping(entry.get("citation"), where, "citation"),
                target_round=target_round,
                measure=measure,
            )
        )
    return tuple(claims)


_SCENARIO_FIELDS = ("id", "label", "description", "evidence", "do", "citation")


def _parse_scenarios(file: Path, nodes: Mapping[str, Node]) -> tuple[Scenario, ...]:
    scenarios: list[Scenario] = []
    for i, entry in enumerate(_entries(read_yaml(file), file, "scenarios")):
        where = f"{file}: scenarios[{i}]"
        scenario_id = _text(_require(entry, "id", where), where, "id")
        where = f"{file}: scenario '{scenario_id}'"
        _check_fields(entry, _SCENARIO_FIELDS, where)
        if scenario_id in {s.id for s in scenarios}:
            raise BayesCMOError(f"{where}: duplicate scenario id")
        evidence = _parse_findings(entry.get("evidence"), nodes, f"{where}.evidence")
        do = _parse_findings(entry.get("do"), nodes, f"{where}.do")
        both = sorted(set(evidence) & set(do))
        if both:
            raise BayesCMOError(f"{where}: '{both[0]}' is both observed and intervened on")
        scenarios.append(
            Scenario(
                id=scenario_id,
                label=_text(entry.get("label"), where, "label", scenario_id),
                evidence=evidence,
                do=do,
                description=_text(entry.get("description"), where, "description"),
                citation=_mapping(entry.get("citation"), where, "citation"),
            )
        )
    return tuple(scenarios)


_HEADLINE_FIELDS = ("targets", "context", "absorbing", "link", "round")


def _parse_headline(file: Path, nodes: Mapping[str, Node], links: tuple[Link, ...]) -> Headline:
    """``headline:`` -- targets (outcome: reported state), context, absorbing {node, state}, link FROM:TO."""
    data = read_yaml(file)
    if not isinstance(data, Mapping) or not isinstance(data.get("headline"), Mapping):
        raise BayesCMOError(f"{file}: expected a top-level 'headline:' mapping (targets, context, absorbing, link)")
    entry = data["headline"]
    where = f"{file}: headline"
    _check_fields(entry, _HEADLINE_FIELDS, where)
    targets = entry.get("targets") or {}
    if isinstance(targets, list):  # a plain list of outcomes: report each one's highest state
        targets = {t: None for t in targets}
    if not isinstance(targets, Mapping):
        raise BayesCMOError(f"{where}.targets: expected a mapping outcome: reported state, got {targets!r}")
    resolved = {}
    for node_id, state in targets.items():
        node = known_node(nodes, node_id, f"{where}.targets")
        resolved[node.id] = node.states[-1] if state is None else known_state(node, state, f"{where}.targets.{node.id}")
    context = entry.get("context")
    if context is not None:
        context = known_node(nodes, context, f"{where}.context").id
    absorbing = state = None
    if entry.get("absorbing") is not None:
        spec = entry["absorbing"]
        if not isinstance(spec, Mapping) or "node" not in spec:
            raise BayesCMOError(f"{where}.absorbing: expected a mapping with 'node' (and 'state'), got {spec!r}")
        _check_fields(spec, ("node", "state"), f"{where}.absorbing")
        node = known_node(nodes, spec["node"], f"{where}.absorbing.node")
        absorbing = node.id
        state = node.states[-1] if spec.get("state") is None else known_state(node, spec["state"], f"{where}.absorbing.state")
    link = entry.get("link")
    if link is not None:
        known = [other.id for other in links]
        if str(link) not in known:
            raise BayesCMOError(f"{where}.link: unknown link '{link}' (expected FROM:TO){did_you_mean(str(link), known)}")
        link = str(link)
    round_text = _text(entry.get("round"), f"{where}.round", "round", "")
    return Headline(
        targets=resolved, context=context, absorbing=absorbing, absorbing_state=state, link=link, round=round_text
    )


def _read_table(file: Path, node: Node, nodes: Mapping[str, Node]) -> _tables.Table:
    """A table CSV by the one set of spreadsheet rules (:mod:`bayes_cmo._tables`), headers matched to
    the node's states and the node ids, parent cells to their states."""
    table = _tables.read_table(file, header_hint="a parent node or a state")
    frame = _tables.canonical_columns(table, [*node.states, *nodes])
    for column in frame.columns:
        if column in nodes and column not in node.states:
            states = nodes[column].states
            frame[column] = [v if v is None else _tables.canonical(v, states) for v in frame[column]]
    return dataclasses.replace(table, frame=frame)


def _parse_tables(folder: Path, nodes: Mapping[str, Node]) -> dict[str, pd.DataFrame]:
    """Explicit CPTs: one row per parent configuration, a column per child state."""
    tables: dict[str, pd.DataFrame] = {}
    if folder.exists() and not folder.is_dir():
        raise BayesCMOError(f"{folder}: expected a folder of NODE.csv tables, found a file")
    if not folder.is_dir():
        return tables
    for file in sorted(folder.iterdir()):
        if file.name.startswith(".") or file.is_dir():
            continue
        if file.suffix.lower() in _tables.SPREADSHEETS:
            raise BayesCMOError(f"{file}: a spreadsheet, not a CSV file; save it as CSV (comma-separated) as {file.stem}.csv")
        if file.suffix.lower() != ".csv":
            continue
        node = known_node(nodes, file.stem, f"{file}: file name")
        table = _read_table(file, node, nodes)
        raw, row_numbers = table.frame, table.rows
        missing = [s for s in node.states if s not in raw.columns]
        if missing:
            spare = [c for c in raw.columns if c not in nodes and c not in node.states]
            near = did_you_mean(missing[0], spare)
            hint = f"; column {near[len('; did you mean '):-1]} looks like it: rename it '{missing[0]}'" if near else ""
            raise BayesCMOError(
                f"{file}: missing a probability column for state(s) {', '.join(missing)} of {node.id}{hint}"
            )
        parents = [c for c in raw.columns if c not in node.states]
        for col in parents:
            known_node(nodes, col, f"{file}: column")
        frame = raw.copy()
        for row, values in zip(row_numbers, raw.itertuples(index=False), strict=True):
            record = {c: "" if v is None else v for c, v in zip(raw.columns, values, strict=True)}
            for col in parents:
                known_state(nodes[col], record[col], f"{file}: row {row}, column {col}")
            total = 0.0
            for state in node.states:
                try:
                    p = _tables.number(record[state], table)
                except ValueError:
                    raise BayesCMOError(f"{file}: row {row}, column {state}: expected a probability, got '{record[state]}'") from None
                if not 0.0 <= p <= 1.0:
                    raise BayesCMOError(f"{file}: row {row}, column {state}: probability must be in [0, 1], got {p:g}")
                total += p
            if abs(total - 1.0) > 1e-6:
                raise BayesCMOError(f"{file}: row {row}: probabilities of {node.id} must sum to 1, got {total:.6g}")
        for state in node.states:
            frame[state] = [_tables.number(v, table) for v in frame[state]]
        expected = int(np.prod([nodes[p].card for p in parents])) if parents else 1
        configs = frame[parents].drop_duplicates() if parents else frame.iloc[:1]
        if len(frame) != expected or len(configs) != expected:
            raise BayesCMOError(
                f"{file}: expected one row for each of the {expected} parent configurations "
                f"({' x '.join(parents) or 'no parents'}), got {len(frame)} rows with {len(configs)} distinct"
            )
        tables[node.id] = frame
    return tables


def _check_acyclic(theory: Theory, folder: Path) -> None:
    try:  # the standard library finds whether there is a cycle; networkx (slow to import) names it
        graphlib.TopologicalSorter({n: theory.parents(n) for n in theory.nodes}).prepare()
        return
    except graphlib.CycleError:
        import networkx as nx
    graph = theory.graph()
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join([edge[0] for edge in cycle] + [cycle[0][0]])
    raise BayesCMOError(
        f"{folder}: the links form a cycle: {path} (a Bayesian network must be acyclic; "
        "stage it, or mark the loop-closing link 'lag: 1')"
    )


def _check_tables_match_links(theory: Theory, folder: Path) -> None:
    for node, table in theory.tables.items():
        columns = {c for c in table.columns if c not in theory.nodes[node].states}
        parents = set(theory.parents(node))
        if columns != parents:
            extra, missing = sorted(columns - parents), sorted(parents - columns)
            detail = "; ".join(
                part
                for part in (
                    f"no link into {node} from {', '.join(extra)}" if extra else "",
                    f"missing column(s) {', '.join(missing)} (linked in links.yaml)" if missing else "",
                )
                if part
            )
            raise BayesCMOError(f"{folder / (node + '.csv')}: parent columns must match the links into {node}: {detail}")


def _check_nominal_children(theory: Theory, file: Path) -> None:
    for node in theory.nodes.values():
        if not node.ordered and theory.parents(node.id) and node.id not in theory.tables:
            raise BayesCMOError(
                f"{file}: node '{node.id}' is nominal (ordered: false) and has parents; "
                f"give its full table in tables/{node.id}.csv"
            )
