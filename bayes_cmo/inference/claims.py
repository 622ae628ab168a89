"""Does the network reproduce the direction of every programme-theory claim?"""

from __future__ import annotations

import numpy as np

from .._errors import BayesCMOError
from .._lazy import pandas as pd
from ..network.model import Model
from ..theory import Claim
from .whatif import mean_score, posterior

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
        scores = _round_scores(model, claim) if claim.over_rounds else {}
        for side, findings in () if claim.over_rounds else (("compare", claim.compare), ("against", claim.against)):
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
                "target": claim.target + (f"@{claim.target_round}" if claim.target_round else ""),
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


def _round_of(key: str) -> int:
    return int(key.partition("@")[2] or 1)


def _round_scores(model: Model, claim: Claim) -> dict[str, float]:
    """A claim across rounds, through the time view (exact given the contexts, or importance-sampled).

    ``measure: mean``: the target's mean score in its round, findings ``NODE@ROUND`` by round.
    ``measure: hazard``: the absorbing outcome's per-round rate 1 - S(r)/S(r-1) in the compare round
    vs the against round, under ``given`` (observed or set by ``mode``).
    """
    from . import headline as _headline
    from .loop import by_round

    theory = model.theory
    absorbing = _headline.absorbing(theory) if theory.headline.absorbing else None
    try:
        if claim.measure == "hazard":
            if absorbing is None:
                _headline.absorbing(theory)  # the one-line error naming the missing key
            rounds = max(int(claim.compare["round"]), int(claim.against["round"]))
            given = dict(claim.given)
            frame = by_round(
                model, absorbing[0], rounds=rounds, absorbing=absorbing,
                **({"do": given} if claim.mode == "do" else {"evidence": given}),
            )
            ended = frame[frame.state == absorbing[1]].p.to_numpy()
            intact = np.concatenate([[1.0], 1.0 - ended])
            with np.errstate(invalid="ignore", divide="ignore"):
                hazard = 1.0 - intact[1:] / intact[:-1]
            return {side: float(hazard[int(getattr(claim, side)["round"]) - 1]) for side in ("compare", "against")}
        rounds = max([claim.target_round or 1, *(_round_of(k) for k in (*claim.compare, *claim.given) if "@" in k)])
        scores = {}
        for side, findings in (("compare", claim.compare), ("against", claim.against)):
            evidence, do = dict(claim.given), {}
            (do if claim.mode == "do" else evidence).update(findings)
            frame = by_round(model, claim.target, rounds=rounds, evidence=evidence, do=do, absorbing=absorbing)
            p = frame[frame["round"] == (claim.target_round or 1)].p.to_numpy()
            scores[side] = float(mean_score(p))
        return scores
    except BayesCMOError as error:
        raise BayesCMOError(f"claim '{claim.id}': {error}") from None
