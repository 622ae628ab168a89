"""Does the network reproduce the direction of every programme-theory claim?"""

from __future__ import annotations

import pandas as pd

from ._errors import BayesCMOError
from .inference import mean_score, posterior
from .network import Model

#: A claimed effect smaller than this (on the 0..1 score scale) does not count.
TOLERANCE = 1e-6


def check_claims(model: Model) -> pd.DataFrame:
    """One row per claim: the target's mean score under ``compare`` and ``against``, and whether the sign holds.

    Columns: ``claim``, ``statement``, ``target``, ``mode``, ``expect``,
    ``score_compare``, ``score_against``, ``difference``, ``holds``.
    """
    if model.theory is None:
        raise BayesCMOError(f"{model.source}: claims live in a priors folder; a network file has none")
    rows = []
    for claim in model.theory.claims:
        scores = {}
        for side, findings in (("compare", claim.compare), ("against", claim.against)):
            evidence = dict(claim.given)
            do = {}
            (do if claim.mode == "do" else evidence).update(findings)
            p = posterior(model, claim.target, evidence=evidence, do=do)[claim.target]
            scores[side] = float(mean_score(p))
        difference = scores["compare"] - scores["against"]
        holds = difference > TOLERANCE if claim.expect == "increase" else difference < -TOLERANCE
        rows.append(
            {
                "claim": claim.id,
                "statement": claim.statement,
                "target": claim.target,
                "mode": claim.mode,
                "expect": claim.expect,
                "score_compare": scores["compare"],
                "score_against": scores["against"],
                "difference": difference,
                "holds": bool(holds),
            }
        )
    columns = ["claim", "statement", "target", "mode", "expect", "score_compare", "score_against", "difference", "holds"]
    return pd.DataFrame(rows, columns=columns)


def summary(model: Model) -> pd.DataFrame:
    """Nodes by role, links, and the largest parent set: one row per fact."""
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
        ("claims", len(theory.claims)),
        ("scenarios", len(theory.scenarios)),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
