"""The theory as tables a researcher can paste: nodes, CMO links with their citations, a summary."""

from __future__ import annotations

from .._errors import BayesCMOError, did_you_mean
from .._lazy import pandas as pd
from .model import Model
from ..theory import Theory
from ..theory.lint import prior_cases

LINK_COLUMNS = [
    "link", "from", "to", "sign", "strength", "weight", "weight_sd", "confidence", "prior_cases",
    "studies", "basis", "moderator", "multipliers", "lag", "section", "cmo",
]


def link_table(theory: Theory, node: str | None = None) -> pd.DataFrame:
    """One row per CMO link (optionally only those touching ``node``), with its citation.

    Columns: ``link`` (FROM:TO), ``from``, ``to``, ``sign`` (+/-), ``strength``
    (the verbal word or number), ``weight`` (signed log-odds, pole to pole),
    ``weight_sd``, ``confidence``, ``prior_cases`` (how many fully coded
    cases the elicited weight is worth: prior precision over one case's
    information, :func:`bayes_cmo.theory.lint.prior_cases`), ``studies`` and ``basis`` (the evidence
    behind it), ``moderator`` and ``multipliers`` (context-dependent links),
    ``lag`` (1 = feedback from the previous round), ``section`` and ``cmo``
    (where in the paper, and the paper's sentence).
    """
    if node is not None and node not in theory.nodes:
        raise BayesCMOError(f"unknown node '{node}'{did_you_mean(node, theory.nodes)}")
    rows = []
    for link in theory.links:
        if node is not None and node not in (link.source, link.target, link.moderator):
            continue
        multipliers = ""
        if link.moderator:
            states = theory.nodes[link.moderator].states
            multipliers = ", ".join(f"{s}: {m:g}" for s, m in zip(states, link.multipliers, strict=True))
        rows.append(
            {
                "link": link.id,
                "from": link.source,
                "to": link.target,
                "sign": link.sign_symbol,
                "strength": link.strength_label,
                "weight": link.weight,
                "weight_sd": link.weight_sd,
                "confidence": link.confidence,
                "prior_cases": prior_cases(theory, link),
                "studies": link.evidence.get("studies"),
                "basis": link.evidence.get("basis", ""),
                "moderator": link.moderator or "",
                "multipliers": multipliers,
                "lag": link.lag,
                "section": str(link.citation.get("section", "")),
                "cmo": " ".join(str(link.citation.get("cmo") or link.citation.get("text") or "").split()),
            }
        )
    return pd.DataFrame(rows, columns=LINK_COLUMNS)


def summary(model: Model) -> pd.DataFrame:
    """Nodes by role, links, and the largest parent set: one row per fact (``item``, ``value``)."""
    theory = model.theory
    if theory is None:
        network = model.network
        largest = max(network.variables, key=lambda v: len(network.parents[v]))
        return pd.DataFrame(
            [
                ("nodes", len(network.variables)),
                ("arcs", sum(len(p) for p in network.parents.values())),
                ("largest parent set", f"{largest} ({len(network.parents[largest])})"),
            ],
            columns=["item", "value"],
        )
    largest = max(theory.nodes, key=lambda n: len(theory.parents(n)))
    cells = max(
        theory.nodes[n].card * int(pd.Series([theory.nodes[p].card for p in theory.parents(n)]).prod())
        for n in theory.nodes
    )
    rows = [(f"{role} nodes", len(theory.by_role(role))) for role in ("context", "mechanism", "outcome")]
    rows += [
        ("links (same round)", len(theory.dag_links)),
        ("links (feedback, lag 1)", len(theory.links) - len(theory.dag_links)),
        ("moderated links", sum(1 for link in theory.links if link.moderator)),
        ("explicit tables", len(theory.tables)),
        ("largest parent set", f"{largest} ({len(theory.parents(largest))}: {', '.join(theory.parents(largest))})"),
        ("largest table (cells)", cells),
        ("confidence scale", theory.confidence_scale),
        ("prior cases per link (median, max)", _prior_cases_range(theory)),
        ("reference partnership", f"{len(theory.reference)} nodes" if theory.reference else "none (baselines at the midpoint)"),
        ("claims", len(theory.claims)),
        ("scenarios", len(theory.scenarios)),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def _prior_cases_range(theory: Theory) -> str:
    worth = pd.Series([prior_cases(theory, link) for link in theory.dag_links], dtype=float)
    return f"{worth.median():.0f}, {worth.max():.0f}" if len(worth) else "-"
