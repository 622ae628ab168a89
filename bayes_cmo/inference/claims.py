"""Does the network reproduce the direction of every programme-theory claim?"""

from __future__ import annotations

import pandas as pd

from .._errors import BayesCMOError
from .whatif import mean_score, posterior
from ..network.model import Model

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
