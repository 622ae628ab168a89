"""Writing a complete priors folder: the updated programme theory, with provenance.

``write_priors(result, "priors_v2")`` writes ``nodes.yaml``, ``links.yaml``,
``claims.yaml``, ``scenarios.yaml``, ``headline.yaml`` (copied byte for byte), ``tables/*.csv``
(explicit tables, updated) and ``provenance.yaml`` (sha256 of every input
priors file and of the case file, date, package version, case count, method,
EM iterations). The folder loads with ``load_theory`` / ``--model DIR``.

Readable on purpose: each link keeps its citation, confidence, scores and
moderator; its ``sign``/``strength`` become the posterior weight and
``weight_sd`` its posterior sd. Each node's ``baseline`` becomes the fitted
distribution at eta = 0 and ``baseline_confidence`` the prior equivalent
sample size plus the cases that observed the node. The header comments of the
original YAML files are kept; per-entry comments are not.

Atomic and never overwriting: everything is written into a temporary folder
next to the target, checked by loading it, then renamed into place. An
existing target is refused unless ``force``; the input priors folder, and a
folder holding it or the case file, are refused always.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .. import _validate
from .._errors import BayesCMOError
from .._files import file_sha256, read_yaml
from .._outputs import Output, check_output
from ..theory.scales import DEFAULT_CONFIDENCE_SCALE
from ..theory import Theory, load_theory
from .em import METHOD, UpdateResult


def write_priors(
    result: UpdateResult | Theory,
    out: str | Path,
    *,
    force: bool = False,
    provenance: Mapping[str, Any] | None = None,
    output: Output | None = None,
    note: str = "# Updated with phase-2 case data by bayes_cmo; see provenance.yaml.",
) -> Path:
    """Write an updated theory (or any Theory) as a priors folder ``out``; returns its path."""
    if isinstance(result, UpdateResult):
        theory, source = result.theory, result.prior_theory
    elif isinstance(result, Theory):
        theory, source = result, result
    else:
        _validate.instance(result, "result", (UpdateResult, Theory), "an UpdateResult or a Theory")
    out = Path(out)
    src = Path(source.path) if source.path is not None else None
    if src is not None and out.resolve() == src.resolve():
        raise BayesCMOError(f"{out}: is the input priors folder; write the update to a new folder (--out)")
    inputs = [src] if src is not None else []
    if isinstance(result, UpdateResult) and Path(str(result.cases.attrs.get("source", ""))).is_file():
        inputs.append(Path(result.cases.attrs["source"]))
    for given in inputs:  # replacing ``out`` (force) would delete it
        if given.resolve().is_relative_to(out.resolve()):
            raise BayesCMOError(f"{out}: holds the input {given}; write the update to a new folder (--out)")
    if out.exists() and not out.is_dir():
        raise BayesCMOError(f"{out}: exists and is not a folder; choose another --out")
    if out.exists() and not force:
        raise BayesCMOError(f"{out}: already exists; choose another --out or pass --force to replace it")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise BayesCMOError(f"{parent}: folder does not exist")
    if output is None:  # the one output guard: --force replaces only a folder this tool wrote
        output = check_output("", out, "folder", inputs=inputs, force=force)

    record = _provenance(result, src)
    record.update(provenance or {})
    with output.folder() as tmp:
        _write_yaml(tmp / "nodes.yaml", {"nodes": _node_entries(theory, src)}, _header(src, "nodes.yaml", note))
        links = {"links": _link_entries(theory, src)}
        if theory.confidence_scale != DEFAULT_CONFIDENCE_SCALE:  # lagged links keep their words' sd
            links = {"confidence_scale": theory.confidence_scale, **links}
        _write_yaml(tmp / "links.yaml", links, _header(src, "links.yaml", note))
        for name in ("claims.yaml", "scenarios.yaml", "headline.yaml", "reference.yaml"):
            if src is not None and (src / name).is_file():
                shutil.copyfile(src / name, tmp / name)
        if theory.tables:
            (tmp / "tables").mkdir()
            for node, frame in theory.tables.items():
                frame.to_csv(tmp / "tables" / f"{node}.csv", index=False, float_format="%.6g")
        _write_yaml(tmp / "provenance.yaml", record, "# How this priors folder was made (bayes_cmo update).\n")
        load_theory(tmp)  # refuse to leave behind a folder that does not load
    return out


def priors_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file a priors folder is read from (YAML at the top, tables/*.csv)."""
    folder = Path(folder)
    files = sorted(folder.glob("*.yaml")) + sorted((folder / "tables").glob("*.csv"))
    return {str(f.relative_to(folder)): file_sha256(f) for f in files}


def _provenance(result, src: Path | None) -> dict[str, Any]:


    from .._version import __version__  # lazy: importlib.metadata is slow to import

    record: dict[str, Any] = {
        "created_by": f"bayes_cmo {__version__}",
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    }
    record["priors"] = {"folder": str(src) if src else None, "sha256": priors_hashes(src) if src else {}}
    if isinstance(result, UpdateResult):
        cases = result.cases
        where = cases.attrs.get("source", "DataFrame")
        path = Path(where)
        if where != "cases" and path.is_file():
            digest = file_sha256(path)
        else:  # a DataFrame: hash its CSV form
            where = "DataFrame"
            digest = hashlib.sha256(cases.to_csv(index=False).encode()).hexdigest()
        record["cases"] = {"file": where, "sha256": digest, "count": int(len(cases))}
        record["method"] = METHOD
        record["iterations"] = int(result.iterations)
        record["converged"] = bool(result.converged)
        if result.trace:
            record["log_posterior"] = round(float(result.trace[-1]), 6)
    return record


def _raw_entries(src: Path | None, name: str, key: str) -> list[dict]:
    if src is None or not (src / name).is_file():
        return []
    data = read_yaml(src / name) or {}
    return [dict(e) for e in data.get(key, []) if isinstance(e, Mapping)]


def _header(src: Path | None, name: str, note: str) -> str:
    """The original file's leading comment block, plus a line saying this is an update."""
    lines = []
    if src is not None and (src / name).is_file():
        for line in (src / name).read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            lines.append(line)
    lines.append(note)
    return "\n".join(lines) + "\n"


def _round_probabilities(probs) -> list[float]:
    rounded = [round(float(p), 6) for p in probs]
    big = max(range(len(rounded)), key=rounded.__getitem__)
    rounded[big] = round(1.0 - sum(p for i, p in enumerate(rounded) if i != big), 12)
    return rounded


def _node_entries(theory: Theory, src: Path | None) -> list[dict]:
    raw = {e.get("id"): e for e in _raw_entries(src, "nodes.yaml", "nodes")}
    entries = []
    for node in theory.nodes.values():
        entry = dict(raw.get(node.id) or {})
        if not entry:
            entry = {"id": node.id, "label": node.label, "role": node.role, "states": list(node.states)}
            if not node.ordered:
                entry["ordered"] = False
            if node.description:
                entry["description"] = node.description
            if node.source:
                entry["source"] = node.source
        entry["states"] = list(node.states)
        entry["baseline"] = dict(zip(node.states, _round_probabilities(node.baseline), strict=True))
        entry["baseline_confidence"] = round(float(node.baseline_confidence), 6)
        entries.append(entry)
    return entries


def _link_entries(theory: Theory, src: Path | None) -> list[dict]:
    raw = {(e.get("from"), e.get("to"), int(e.get("lag", 0) or 0)): e for e in _raw_entries(src, "links.yaml", "links")}
    entries = []
    for link in theory.links:
        entry = dict(raw.get((link.source, link.target, link.lag)) or {})
        if not entry:
            entry = {"from": link.source, "to": link.target, "confidence": link.confidence}
            entry["scores"] = dict(zip(theory.nodes[link.source].states, link.scores, strict=True))
            if link.moderator:
                entry["moderator"] = {
                    "node": link.moderator,
                    "multipliers": dict(zip(theory.nodes[link.moderator].states, link.multipliers, strict=True)),
                }
            if link.lag:
                entry["lag"] = link.lag
            if link.evidence:
                entry["evidence"] = dict(link.evidence)
            if link.citation:
                entry["citation"] = dict(link.citation)
        if link.moderator:  # multipliers written only when they changed (expert pooling sets them)
            states = theory.nodes[link.moderator].states
            given = (entry.get("moderator") or {}).get("multipliers") or {}
            if tuple(float(given.get(s, 1.0)) for s in states) != tuple(link.multipliers):
                multipliers = dict(zip(states, (round(float(m), 6) for m in link.multipliers), strict=True))
                entry["moderator"] = {"node": link.moderator, "multipliers": multipliers}
        entry["sign"] = link.sign_symbol
        numeric = isinstance(entry.get("strength"), (int, float)) and not isinstance(entry.get("strength"), bool)
        if link.sd is not None or numeric or not entry.get("strength"):
            entry["strength"] = round(float(link.strength), 4)
        if link.sd is not None:
            entry["weight_sd"] = round(float(link.sd), 4)
        entries.append(entry)
    return entries


def _write_yaml(path: Path, data: Any, header: str) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    path.write_text(header + text, encoding="utf-8")
