"""Pooling several experts into one priors folder, with their disagreement kept as uncertainty.

The rule (README, "Expert elicitation"):

* **Links.** Expert i's answer is Normal(m_i, s_i^2): m_i = sign * strength
  (0 for "no effect"), s_i = sd(confidence) from ``scales.CONFIDENCE_SD``.
  The pool is their mixture with the expert weights w_i (renormalised over the
  experts who answered; "don't know" abstains), summarised by its first two
  moments: mean = sum w_i m_i, variance = sum w_i s_i^2 (within experts) +
  sum w_i (m_i - mean)^2 (between experts). So two confident experts of
  opposite sign give a link centred near zero with a wide sd, instead of a
  confident zero. The pooled link is written as sign, strength and an explicit
  ``weight_sd``.
* **Moderated links** are asked per moderator state. Each state is pooled as
  above; the link's weight is the pooled effect of the state with the largest
  |mean|, and each state's multiplier is its pooled mean over that weight, so
  every state's pooled mean is reproduced exactly (even a sign flip the paper
  does not make). The model has one sd per link, scaled by |multiplier| in
  each state; the written sd is that of the reference state.
* **Baselines.** A linear opinion pool of the experts' distributions (mean =
  sum w_i p_i), with the equivalent sample size n chosen so that the
  Dirichlet(n * mean) has the total variance of the mixture of the experts'
  Dirichlet(n_i p_i) (n_i from the confidence word, ``scales.CONFIDENCE_ESS``):
  n + 1 = sum_k mean_k (1 - mean_k) / sum_k Var_k. Agreement keeps the
  experts' n; disagreement lowers it (not below ``MIN_ESS``).

With one expert, or identical experts, the pool is exactly their numbers.
A judgement nobody answered keeps the value of the priors the questionnaire
was made from.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import BayesCMOError, did_you_mean
from .._files import read_csv
from .._lazy import pandas as pd
from ..theory import Theory, scales
from ..update.write import write_priors
from .answers import Questionnaire, read_questionnaire
from .questions import LinkQuestion, baseline_questions, link_questions

#: Floor of a pooled baseline's equivalent sample size: experts at opposite corners drive it to 0.
MIN_ESS = 1.0

METHOD = (
    "expert pooling: links = moment-matched mixture of the experts' Normal(sign*strength, sd(confidence)) "
    "(variance within + between experts); baselines = linear opinion pool, equivalent sample size "
    "moment-matched to the mixture of the experts' Dirichlets"
)


@dataclass(frozen=True, eq=False)
class PooledTheory:
    """The pooled theory and how each judgement was pooled.

    ``links``: one row per link question: ``id``, ``label``, ``n_answers``,
    ``mean``, ``sd`` (pooled), ``within_sd``, ``between_sd``, ``source``
    (experts / priors), ``model_sd`` (the sd the written model carries for
    this question: below ``sd`` in a moderator state other than the reference one).
    ``baselines``: one row per node state: ``id``, ``node``, ``state``,
    ``n_answers``, ``mean``, ``between_sd``, ``ess`` (the node's pooled ESS).
    ``experts``: ``expert``, ``file``, ``sha256``, ``modified``, ``round``, ``weight``.
    """

    theory: Theory
    base: Theory
    links: pd.DataFrame
    baselines: pd.DataFrame
    experts: pd.DataFrame
    questionnaires: tuple[Questionnaire, ...]


def as_questionnaires(items: Iterable[Questionnaire | str | Path], theory: Theory) -> tuple[Questionnaire, ...]:
    """Read paths, keep Questionnaires; two files of one expert are an error."""
    out = tuple(q if isinstance(q, Questionnaire) else read_questionnaire(q, theory) for q in items)
    if not out:
        raise BayesCMOError("no questionnaires given; pass one file per expert")
    seen: dict[str, Questionnaire] = {}
    for q in out:
        if q.expert in seen:
            raise BayesCMOError(
                f"{q.path}: expert '{q.expert}' also answered {seen[q.expert].path}; "
                "one file per expert (correct the name on the instructions sheet)"
            )
        seen[q.expert] = q
    return out


def read_weights(path: str | Path, experts: Sequence[str]) -> dict[str, float]:
    """Expert weights from a CSV with columns ``expert,weight`` (any positive numbers; they are normalised)."""
    path = Path(path)
    frame = read_csv(path)
    frame.columns = [c.lower() for c in frame.columns]
    for column in ("expert", "weight"):
        if column not in frame.columns:
            raise BayesCMOError(f"{path}: row 1: no column '{column}' (expected columns expert, weight){did_you_mean(column, frame.columns)}")
    weights: dict[str, float] = {}
    for row, record in zip(range(2, len(frame) + 2), frame.to_dict(orient="records")):
        name = record["expert"]
        if not name and not record["weight"]:
            continue
        if name not in experts:
            raise BayesCMOError(
                f"{path}: row {row}, column expert: no questionnaire from '{name}' (experts: {', '.join(experts)})"
                f"{did_you_mean(name, experts)}"
            )
        if name in weights:
            raise BayesCMOError(f"{path}: row {row}, column expert: '{name}' is weighted twice")
        try:
            value = float(record["weight"])
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            raise BayesCMOError(f"{path}: row {row}, column weight: expected a number >= 0, got '{record['weight']}'")
        weights[name] = value
    missing = [e for e in experts if e not in weights]
    if missing:
        raise BayesCMOError(f"{path}: column expert: no weight for {', '.join(missing)} (give every expert a row)")
    return weights


def _weights(questionnaires: Sequence[Questionnaire], weights: Mapping[str, float] | str | Path | None) -> dict[str, float]:
    names = [q.expert for q in questionnaires]
    if weights is None:
        return dict.fromkeys(names, 1.0 / len(names))
    if isinstance(weights, (str, Path)):
        weights = read_weights(weights, names)
    unknown = [k for k in weights if k not in names]
    if unknown:
        raise BayesCMOError(f"weights: no questionnaire from '{unknown[0]}'{did_you_mean(unknown[0], names)}")
    values = {n: float(weights.get(n, math.nan)) for n in names}
    if any(not (math.isfinite(v) and v >= 0) for v in values.values()):
        bad = next(n for n, v in values.items() if not (math.isfinite(v) and v >= 0))
        raise BayesCMOError(f"weights: expert '{bad}' needs a weight >= 0, got {weights.get(bad)!r}")
    total = sum(values.values())
    if total <= 0:
        raise BayesCMOError("weights: every weight is 0; give at least one expert a positive weight")
    return {n: v / total for n, v in values.items()}


def mixture_moments(means: np.ndarray, sds: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """Mean, within-expert variance and between-expert variance of a weighted Normal mixture."""
    w = weights / weights.sum()
    mean = float(w @ means)
    within = float(w @ sds**2)
    between = float(w @ (means - mean) ** 2)
    return mean, within, between


def dirichlet_pool(probs: np.ndarray, ess: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Linear pool of Dirichlets: mean (K,), moment-matched ESS, between-expert variance per state (K,).

    ``probs`` is (experts, K), ``ess`` (experts,).
    """
    w = weights / weights.sum()
    mean = w @ probs
    within = w @ (probs * (1 - probs) / (ess[:, None] + 1.0))
    between = w @ (probs - mean) ** 2
    spread = float((within + between).sum())
    if spread <= 1e-15:  # every expert certain of the same state: nothing to disagree about
        return mean, float(w @ ess), between
    n = float((mean * (1 - mean)).sum() / spread - 1.0)
    return mean, max(MIN_ESS, n), between


def _link_stats(question: LinkQuestion, questionnaires, weights) -> dict:
    answers = [(q.links[question.id], weights[q.expert]) for q in questionnaires if question.id in q.links]
    answers = [(a, w) for a, w in answers if a.answered and w > 0]
    row = {"id": question.id, "label": question.label, "n_answers": len(answers)}
    if not answers:
        link = question.link
        mean = link.weight * question.multiplier
        sd = link.weight_sd * abs(question.multiplier)
        return row | {"mean": mean, "sd": sd, "within_sd": sd, "between_sd": 0.0, "source": "priors"}
    mean, within, between = mixture_moments(
        np.array([a.mean for a, _ in answers]), np.array([a.sd for a, _ in answers]), np.array([w for _, w in answers])
    )
    return row | {
        "mean": mean, "sd": math.sqrt(within + between), "within_sd": math.sqrt(within),
        "between_sd": math.sqrt(between), "source": "experts",
    }


def _pooled_links(theory: Theory, stats: pd.DataFrame) -> tuple:
    by_link: dict[str, list] = {}
    for q in link_questions(theory):
        by_link.setdefault(q.link.id, []).append(q)
    links = []
    for link in theory.links:
        questions = by_link.get(link.id)
        if not questions:
            links.append(link)
            continue
        rows = stats.set_index("id").loc[[q.id for q in questions]]
        if link.moderator is None:
            mean, sd = float(rows["mean"].iloc[0]), float(rows["sd"].iloc[0])
            multipliers = None
        else:
            means, sds = rows["mean"].to_numpy(float), rows["sd"].to_numpy(float)
            ref = int(np.argmax(np.abs(means)))
            if abs(means[ref]) < 1e-9:  # no effect in any state (or exact cancellation): the sd is the widest state's
                mean, sd, multipliers = 0.0, float(sds.max()), tuple(1.0 for _ in means)
            else:
                mean, sd = float(means[ref]), float(sds[ref])
                multipliers = tuple(float(m / means[ref]) for m in means)
        links.append(
            dataclasses.replace(
                link, sign=1 if mean >= 0 else -1, strength=abs(mean), strength_label=f"{abs(mean):g}",
                sd=sd, multipliers=multipliers if link.moderator else link.multipliers,
            )
        )
    return tuple(links)


def _pooled_nodes(theory: Theory, questionnaires, weights) -> tuple[dict, pd.DataFrame]:
    nodes = dict(theory.nodes)
    rows = []
    asked = dict.fromkeys(q.node.id for q in baseline_questions(theory))
    for node_id in asked:
        node = theory.nodes[node_id]
        answers = [(q.baselines[node_id], weights[q.expert]) for q in questionnaires if node_id in q.baselines]
        answers = [(a, w) for a, w in answers if a.answered and w > 0]
        if answers:
            mean, ess, between = dirichlet_pool(
                np.array([a.probabilities for a, _ in answers]), np.array([a.ess for a, _ in answers]),
                np.array([w for _, w in answers]),
            )
            probs = np.clip(mean, scales.EPS, None)  # as load_theory keeps them
            nodes[node_id] = dataclasses.replace(
                node, baseline=tuple(float(p) for p in probs / probs.sum()), baseline_confidence=ess
            )
        else:
            mean, ess, between = np.asarray(node.baseline), node.baseline_confidence, np.zeros(node.card)
        for k, state in enumerate(node.states):
            rows.append({
                "id": f"{node_id}={state}", "node": node_id, "state": state, "n_answers": len(answers),
                "mean": float(mean[k]), "between_sd": math.sqrt(float(between[k])), "ess": float(ess),
                "source": "experts" if answers else "priors",
            })
    return nodes, pd.DataFrame(rows)


def pool_experts(
    questionnaires: Iterable[Questionnaire | str | Path],
    theory: Theory,
    *,
    weights: Mapping[str, float] | str | Path | None = None,
) -> PooledTheory:
    """Pool the experts' questionnaires into one theory (equal weights unless ``weights``: a mapping or CSV)."""
    questionnaires = as_questionnaires(questionnaires, theory)
    w = _weights(questionnaires, weights)
    questions = link_questions(theory)
    stats = pd.DataFrame([_link_stats(q, questionnaires, w) for q in questions])
    nodes, baselines = _pooled_nodes(theory, questionnaires, w)
    pooled = dataclasses.replace(theory, nodes=nodes, links=_pooled_links(theory, stats))
    # What the written model carries per question: one sd per link, scaled by |multiplier| per moderator state.
    written = {link.id: link for link in pooled.links}
    stats["model_sd"] = [
        written[q.link.id].weight_sd * (
            abs(written[q.link.id].multipliers[theory.nodes[q.link.moderator].states.index(q.moderator_state)])
            if q.moderator_state is not None else 1.0
        )
        for q in questions
    ]
    experts = pd.DataFrame([
        {"expert": q.expert, "file": str(q.path) if q.path else "", "sha256": q.sha256, "modified": q.modified,
         "round": q.round, "weight": w[q.expert]}
        for q in questionnaires
    ])
    return PooledTheory(pooled, theory, stats, baselines, experts, questionnaires)


def write_pooled(pooled: PooledTheory, out: str | Path, *, force: bool = False) -> Path:
    """Write the pooled theory as a complete priors folder with provenance.yaml (experts, file sha256, dates)."""
    out = Path(out)
    for q in pooled.questionnaires:
        if q.path is not None and q.path.resolve().is_relative_to(out.resolve()):
            raise BayesCMOError(f"{out}: holds the questionnaire {q.path}; write the pooled priors to a new folder (--out)")
    experts = [
        {"name": r.expert, "file": r.file, "sha256": r.sha256, "modified": r.modified,
         "questionnaire_created": q.about.get("created", ""), "round": int(r.round), "weight": round(float(r.weight), 6)}
        for r, q in zip(pooled.experts.itertuples(index=False), pooled.questionnaires, strict=True)
    ]
    record = {
        "method": METHOD,
        "experts": experts,
        "judgements": {
            "links_pooled": int((pooled.links["source"] == "experts").sum()),
            "links_kept_from_priors": int((pooled.links["source"] == "priors").sum()),
            "baselines_pooled": int(pooled.baselines.loc[pooled.baselines["source"] == "experts", "node"].nunique()),
        },
    }
    return write_priors(
        pooled.theory, out, force=force, provenance=record,
        note=f"# Pooled from {len(experts)} expert questionnaire(s) by bayes_cmo elicit; see provenance.yaml.",
    )
