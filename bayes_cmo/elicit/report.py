"""Where the experts disagree, and the second-round (IDEA) sheet that shows each expert the group.

Frames (tidy, documented columns):

* :func:`answers_frame` — one row per expert and judgement: ``expert``, ``kind``
  (link / baseline), ``id``, ``label``, ``answer`` (as written), ``value``
  (weight in log-odds, or probability), ``sd`` (links), ``confidence``, ``comment``.
* :func:`disagreement` — one row per judgement, most contested first: ``rank``,
  ``kind``, ``id``, ``label``, ``sign_disagreement`` (some expert says raises,
  another lowers), ``disagreement`` (share of the pooled variance that is
  between experts, 0 to 1: comparable across links and baselines), ``pooled``,
  ``pooled_sd``, ``spread`` (between-expert sd), ``low``, ``high`` (range of
  the answers), ``n_answers``, one column per expert (their value), ``comments``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from .._errors import BayesCMOError
from .._files import write_atomically
from .._lazy import pandas as pd
from ..theory import Theory
from .answers import Questionnaire
from .pool import PooledTheory, as_questionnaires, pool_experts
from .questions import baseline_questions, link_questions
from .sheets import DONT_KNOW, about_frame, check_suffix, write_questionnaire
from .template import direction_of, strength_cell, template_frames

FIXED_COLUMNS = (
    "rank", "kind", "id", "label", "sign_disagreement", "disagreement", "pooled", "pooled_sd", "spread",
    "low", "high", "n_answers",
)


def answers_frame(questionnaires: Iterable[Questionnaire | str | Path], theory: Theory) -> pd.DataFrame:
    """Every expert's every answer, one row each."""
    questionnaires = as_questionnaires(questionnaires, theory)
    rows = []
    for q in questionnaires:
        for question in link_questions(theory):
            a = q.links.get(question.id)
            if a is None:
                continue
            said = a.direction if a.direction in ("no effect", DONT_KNOW) else f"{a.direction} {strength_cell(a.strength)}"
            rows.append({
                "expert": q.expert, "kind": "link", "id": a.id, "label": question.label, "answer": said,
                "value": a.mean, "sd": a.sd, "confidence": (a.confidence or "").replace("_", " "), "comment": a.comment,
            })
        for question in baseline_questions(theory):
            a = q.baselines.get(question.node.id)
            if a is None:
                continue
            k = question.node.states.index(question.state)
            value = a.probabilities[k] if a.answered else math.nan
            rows.append({
                "expert": q.expert, "kind": "baseline", "id": question.id,
                "label": f"{question.node.label} = {question.state.replace('_', ' ')}",
                "answer": DONT_KNOW if not a.answered else f"{value:.4g}", "value": value, "sd": math.nan,
                "confidence": (a.confidence or "").replace("_", " "), "comment": a.comments.get(question.state, ""),
            })
    return pd.DataFrame(rows, columns=["expert", "kind", "id", "label", "answer", "value", "sd", "confidence", "comment"])


def disagreement(
    questionnaires: Iterable[Questionnaire | str | Path] | PooledTheory,
    theory: Theory | None = None,
    *,
    weights: Mapping[str, float] | str | Path | None = None,
) -> pd.DataFrame:
    """Per judgement: each expert's answer, the pooled value, the spread; sign disagreements first."""
    pooled = questionnaires if isinstance(questionnaires, PooledTheory) else pool_experts(questionnaires, theory, weights=weights)
    answers = answers_frame(pooled.questionnaires, pooled.base)
    experts = list(pooled.experts["expert"])
    wide = answers.pivot(index="id", columns="expert", values="value").reindex(columns=experts)
    comments = (
        answers[answers["comment"] != ""].assign(text=lambda f: f["expert"] + ": " + f["comment"])
        .groupby("id")["text"].agg(" | ".join)
    )
    rows = []
    for r in pooled.links.itertuples(index=False):
        values = wide.loc[r.id].to_numpy(float) if r.id in wide.index else np.full(len(experts), np.nan)
        given = values[~np.isnan(values)]
        rows.append({
            "kind": "link", "id": r.id, "label": r.label,
            "sign_disagreement": bool((given > 0).any() and (given < 0).any()),
            "disagreement": r.between_sd**2 / r.sd**2 if r.sd > 0 else 0.0,
            "pooled": r.mean, "pooled_sd": r.sd, "spread": r.between_sd,
            **_range(given), "n_answers": r.n_answers, **dict(zip(experts, values)),
        })
    labels = {q.id: f"{q.node.label} = {q.state.replace('_', ' ')}" for q in baseline_questions(pooled.base)}
    for r in pooled.baselines.itertuples(index=False):
        values = wide.loc[r.id].to_numpy(float) if r.id in wide.index else np.full(len(experts), np.nan)
        given = values[~np.isnan(values)]
        within = r.mean * (1 - r.mean) / (r.ess + 1.0)  # the pooled Dirichlet's variance of this state
        rows.append({
            "kind": "baseline", "id": r.id, "label": labels[r.id], "sign_disagreement": False,
            "disagreement": min(1.0, r.between_sd**2 / within) if within > 0 else 0.0,
            "pooled": r.mean, "pooled_sd": math.sqrt(within), "spread": r.between_sd,
            **_range(given), "n_answers": r.n_answers, **dict(zip(experts, values)),
        })
    frame = pd.DataFrame(rows)
    frame["comments"] = frame["id"].map(comments).fillna("")
    frame = frame.sort_values(["sign_disagreement", "disagreement", "spread"], ascending=False, kind="stable")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame = frame.reset_index(drop=True)
    frame.attrs["experts"] = experts
    return frame


def _range(given: np.ndarray) -> dict[str, float]:
    return {"low": float(given.min()), "high": float(given.max())} if len(given) else {"low": math.nan, "high": math.nan}


def write_disagreement(frame: pd.DataFrame, answers: pd.DataFrame, out: str | Path, *, force: bool = False) -> Path:
    """``out/disagreement.csv``, ``out/answers.csv`` and ``out/disagreement.png`` (the heatmap)."""
    from .plots import disagreement_heatmap

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BayesCMOError(f"{out}: exists and is not a folder; choose another --out")
    files = {name: out / name for name in ("disagreement.csv", "answers.csv", "disagreement.png")}
    clash = [f for f in files.values() if f.exists()]
    if clash and not force:
        raise BayesCMOError(f"{clash[0]}: already exists; choose another --out or pass --force to replace it")
    if not out.parent.exists():
        raise BayesCMOError(f"{out.parent}: folder does not exist")
    out.mkdir(exist_ok=True)
    write_atomically(files["disagreement.csv"], lambda tmp: frame.to_csv(tmp, index=False))
    write_atomically(files["answers.csv"], lambda tmp: answers.to_csv(tmp, index=False))
    fig = disagreement_heatmap(frame)
    write_atomically(files["disagreement.png"], lambda tmp: fig.savefig(tmp, format="png", dpi=150, bbox_inches="tight"))
    import matplotlib.pyplot as plt

    plt.close(fig)
    return out


def feedback_frames(pooled: PooledTheory, expert: str) -> dict[str, pd.DataFrame]:
    """The expert's own answers in the answer columns, beside the anonymised group's median and range."""
    names = list(pooled.experts["expert"])
    if expert not in names:
        from .._errors import did_you_mean

        raise BayesCMOError(f"--expert: no questionnaire from '{expert}' (experts: {', '.join(names)}){did_you_mean(expert, names)}")
    mine = next(q for q in pooled.questionnaires if q.expert == expert)
    answers = answers_frame(pooled.questionnaires, pooled.base)
    frames = template_frames(pooled.base)
    links = frames["links"]
    for i, qid in enumerate(links["id"]):
        a = mine.links.get(qid)
        if a is not None:
            links.loc[i, "direction"] = a.direction
            links.loc[i, "strength"] = strength_cell(a.strength) if a.strength is not None else ""
            links.loc[i, "confidence"] = (a.confidence or "").replace("_", " ")
            links.loc[i, "comment"] = a.comment
    group = answers[answers["kind"] == "link"].dropna(subset=["value"]).groupby("id")["value"]
    links["group_median"] = links["id"].map(group.median())
    links["group_low"] = links["id"].map(group.min())
    links["group_high"] = links["id"].map(group.max())
    links["group_says"] = links["id"].map(group.agg(_directions)).fillna("no answers")
    links["group_reasons"] = links["id"].map(_reasons(answers, "link")).astype(object).fillna("")
    base = frames["baselines"]
    for i, qid in enumerate(base["id"]):
        node, state = qid.split("=", 1)
        a = mine.baselines.get(node)
        if a is not None:
            base.loc[i, "probability"] = round(a.probabilities[pooled.base.nodes[node].states.index(state)], 4) if a.answered else DONT_KNOW
            base.loc[i, "confidence"] = (a.confidence or "").replace("_", " ")
            base.loc[i, "comment"] = a.comments.get(state, "")
    group = answers[answers["kind"] == "baseline"].dropna(subset=["value"]).groupby("id")["value"]
    base["group_median"] = base["id"].map(group.median())
    base["group_low"] = base["id"].map(group.min())
    base["group_high"] = base["id"].map(group.max())
    base["group_reasons"] = base["id"].map(_reasons(answers, "baseline")).astype(object).fillna("")
    return {"links": links, "baselines": base}


def _directions(values: pd.Series) -> str:
    counts = pd.Series([direction_of(v) for v in values]).value_counts()
    return ", ".join(f"{n} {word}" for word, n in counts.items())


def _reasons(answers: pd.DataFrame, kind: str) -> pd.Series:
    """The group's comments, without names (IDEA: feedback is anonymous)."""
    said = answers[(answers["kind"] == kind) & (answers["comment"] != "")]
    reasons = said.groupby("id")["comment"].agg(lambda c: " | ".join(c.sample(frac=1.0, random_state=0)))
    return reasons.astype(object)


FEEDBACK_NOTES = (
    "Second round (IDEA protocol): your first-round answers are filled in. Beside them, the group's median and "
    "range (group_median, group_low, group_high: link weights in log-odds, where weak 0.5, moderate 1, strong 2, "
    "very strong 3, negative = lowers; baselines as probabilities), how many experts said raises / lowers / no "
    "effect, and their reasons, without names. Revise any answer you now see differently (or keep it) and return the file.",
)


def write_feedback(
    questionnaires: Iterable[Questionnaire | str | Path] | PooledTheory,
    theory: Theory | None = None,
    *,
    expert: str,
    out: str | Path,
    force: bool = False,
) -> Path:
    """The second-round questionnaire for ``expert`` (.xlsx or .csv); it reads back as a questionnaire."""
    pooled = questionnaires if isinstance(questionnaires, PooledTheory) else pool_experts(questionnaires, theory)
    out = Path(out)
    check_suffix(out)
    for q in pooled.questionnaires:
        if q.path is not None and q.path.resolve() == out.resolve():
            raise BayesCMOError(f"{out}: is the questionnaire of {q.expert}; write the second round to a new file")
    if out.is_dir():
        raise BayesCMOError(f"{out}: is a folder; give a file name inside it")
    if out.exists() and not force:
        raise BayesCMOError(f"{out}: already exists; choose another name or pass --force to replace it")
    if not out.parent.exists():
        raise BayesCMOError(f"{out.parent}: folder does not exist")
    frames = feedback_frames(pooled, expert)
    mine = next(q for q in pooled.questionnaires if q.expert == expert)
    source = str(pooled.base.path) if pooled.base.path is not None else ""
    return write_questionnaire(out, about_frame(expert, source, mine.round + 1), frames, notes=FEEDBACK_NOTES)


__all__ = ["answers_frame", "disagreement", "feedback_frames", "write_disagreement", "write_feedback"]
