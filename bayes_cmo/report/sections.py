"""Step two of the report: a :class:`ReportResult` as a list of blocks in plain words.

Blocks are ``("h1"|"h2"|"p"|"note", text)``, ``("table", DataFrame of text)`` and
``("figure", file name, caption)``; the Markdown and HTML renderers only turn
blocks into their format, so both say the same thing. Tables use the paper's
labels and friendly headers (ids stay in the CSVs); probabilities are
percentages, changes are percentage points with their interval.
"""

from __future__ import annotations

import re

from .._lazy import pandas as pd
from ..plots.labels import (
    DO_TEXT,
    OBSERVE_TEXT,
    estimate_text,
    goodness,
    interval,
    judgement_text,
    node_label,
    node_labels,
    outcome_text,
    pct,
    pp,
    reported_state,
    state_text,
)
from .compute import ReportResult

PP = "pp = percentage points, the difference between two percentages"


def _which(frame: pd.DataFrame | None) -> str:
    """'Numbers: mean of 1000 draws of the judgements.' from a what-if frame's ``estimate`` column ('' without one)."""
    text = estimate_text(frame) if frame is not None else ""
    return f"Numbers: {text}." if text else ""


def _level(result: ReportResult) -> str:
    return f"{result.level:.0%}"


def _change(row) -> str:
    """``+1.4 [+0.3, +3.2]``: the change in percentage points (the unit is in the column header)."""
    return f"{100 * row.delta:+.1f} {interval(row.delta_ci_low, row.delta_ci_high, points=True)}"


def _shown(result: ReportResult, target: str) -> str:
    """The target state a table shows: the headline section's, else the highest (as the paper phrases outcomes)."""
    return reported_state(result.theory, target, result.theory.nodes[target].states)


def _judged(result: ReportResult, target: str, delta: float) -> str:
    """'good' / 'bad' for the partnership, for a change of P(shown state)."""
    states = result.theory.nodes[target].states
    sign = goodness(states, _shown(result, target), result.good[target]) * (1 if delta > 0 else -1 if delta < 0 else 0)
    return {1: "good for the partnership", -1: "bad for the partnership"}.get(sign, "neither good nor bad")


def _highest(frame: pd.DataFrame, result: ReportResult) -> pd.DataFrame:
    top = {t: _shown(result, t) for t in frame["target"].unique()}
    return frame[frame["target_state"] == frame["target"].map(top)]


def _effect_words(result: ReportResult, rows: pd.DataFrame) -> str:
    parts = []
    for row in rows.itertuples():
        parts.append(
            f"{outcome_text(result.theory, row.target, row.target_state)} by {pp(row.delta)} "
            f"({_level(result)} interval {interval(row.delta_ci_low, row.delta_ci_high, points=True)}; "
            f"{_judged(result, row.target, row.delta)})"
        )
    return "; ".join(parts)


def summary_blocks(result: ReportResult) -> list:
    theory, lv = result.theory, _level(result)
    context = node_label(theory, result.context)
    blocks = [
        ("h2", "In brief"),
        (
            "p",
            "**What this is.** A realist programme theory — which contexts (C) trigger which mechanisms (M) "
            "that lead to which outcomes (O) — written as a probability model (a Bayesian network). It answers "
            "*what if* questions: if we knew one thing about a partnership, how much likelier would each outcome "
            "become?",
        ),
        (
            "p",
            "**What it is not.** The numbers are **elicited judgements, not data**: the strength of each link "
            "and how common each context is were translated from the review's wording into probabilities. No "
            "partnership was measured to produce them. Read them as the theory's expectations made explicit "
            "and checkable, until case data from an evaluation update them.",
        ),
        (
            "p",
            f"**How to read the ranges.** Every change comes with a {lv} credible interval: the range in which "
            f"the answer stays {lv} of the time when the judgements are varied within their stated uncertainty. "
            f"Changes are in percentage points (pp): from 40% to 43% is +3 pp."
            + (
                f" Each percentage is the {estimate_text(result.headline)}: the average answer as the judgements "
                "vary, which differs a little from the answer at the elicited values themselves."
                if estimate_text(result.headline).startswith("mean")
                else ""
            ),
        ),
        ("h3", "Three findings"),
    ]
    head = _highest(result.headline, result)
    headline_rows = head[(head["mode"] == "observe")] if "observe" in set(head["mode"]) else head
    top_state = theory.nodes[result.context].states[-1]
    chosen = headline_rows[headline_rows["state"] == top_state]
    findings = [
        f"**{context}.** Knowing that it is *{state_text(top_state)}* (rather than not knowing) changes "
        f"{_effect_words(result, chosen)}."
    ]
    ranked = _highest(result.sweep, result)
    first = ranked[ranked["target"] == result.targets[0]]
    best = first.loc[first["delta"].abs().idxmax()]
    strongest = ranked[(ranked["context"] == best["context"]) & (ranked["state"] == best["state"])]
    findings.append(
        f"**The factor that moves the outcomes most** is {node_label(theory, best['context'])}: "
        f"*{state_text(best['state'])}*, which changes {_effect_words(result, strongest)}."
    )
    if result.scenarios is not None:
        sc = _highest(result.scenarios, result)
        sc_first = sc[sc["target"] == result.targets[0]]
        sign = goodness(theory.nodes[result.targets[0]].states, _shown(result, result.targets[0]), result.good[result.targets[0]]) or 1
        order = (sc_first["delta"] * sign).sort_values()
        worst, best_sc = sc_first.loc[order.index[0]], sc_first.loc[order.index[-1]]
        findings.append(
            f"**Of the named scenarios**, *{best_sc['label']}* looks best for "
            f"{outcome_text(theory, best_sc['target'], best_sc['target_state'])} "
            f"({pp(best_sc['delta'])}, {lv} interval {interval(best_sc['delta_ci_low'], best_sc['delta_ci_high'], True)}) "
            f"and *{worst['label']}* worst ({pp(worst['delta'])}, "
            f"{interval(worst['delta_ci_low'], worst['delta_ci_high'], True)})."
        )
    blocks += [("li", f) for f in findings]
    if len(result.voi):
        blocks.append(
            (
                "p",
                f"To learn most about {node_label(theory, result.voi_target).lower()}, an evaluation would "
                f"measure {node_label(theory, result.voi['node'].iloc[0]).lower()} first.",
            )
        )
    return blocks


def _settings(result: ReportResult) -> str:
    return (
        f"Model: {result.priors_name} · bayes_cmo {result.version} · {result.date} · "
        f"{result.n_draws:,} draws of the judgements (seed {result.seed}), {_level(result)} credible intervals."
    )


def _theory_table(result: ReportResult) -> pd.DataFrame:
    """The summary's counts, with node ids replaced by the paper's labels."""
    names = node_labels(result.theory)
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b")
    values = [pattern.sub(lambda m: names[m.group(1)], str(v)) for v in result.summary["value"]]
    return pd.DataFrame({"What": result.summary["item"].astype(str), "How many": values})


def headline_table(result: ReportResult) -> pd.DataFrame:
    theory, lv = result.theory, _level(result)
    frame = _highest(result.headline, result)
    if result.same_modes:
        frame = frame[frame["mode"] == "observe"]
    rows = []
    for row in frame.itertuples():
        out = {node_label(theory, result.context): state_text(row.state)}
        if not result.same_modes:
            out["How we know it"] = "we observe this" if row.mode == "observe" else "we make this so (do)"
        out["Outcome"] = outcome_text(theory, row.target, row.target_state)
        out["Not knowing it (baseline)"] = pct(row.p_baseline)
        out[f"With it ({lv} interval)"] = f"{pct(row.p)} {interval(row.ci_low, row.ci_high)}"
        out[f"Change, pp ({lv} interval)"] = _change(row)
        out["For the partnership"] = _judged(result, row.target, row.delta).replace(" for the partnership", "")
        rows.append(out)
    return pd.DataFrame(rows)


def sweep_table(result: ReportResult, top: int = 10) -> pd.DataFrame:
    theory, lv = result.theory, _level(result)
    frame = _highest(result.sweep, result)
    impact = frame.assign(_i=frame["delta"].abs()).groupby(["context", "state"], sort=False)["_i"].max()
    keys = list(impact.sort_values(ascending=False, kind="stable").index[:top])
    rows = []
    for context, state in keys:
        out = {"Factor": node_label(theory, context), "State": state_text(state)}
        for row in frame[(frame["context"] == context) & (frame["state"] == state)].itertuples():
            out[f"Change in {outcome_text(theory, row.target, row.target_state)}, pp ({lv} interval)"] = _change(row)
        rows.append(out)
    return pd.DataFrame(rows)


def scenario_table(result: ReportResult) -> pd.DataFrame:
    theory, lv = result.theory, _level(result)
    frame = _highest(result.scenarios, result)
    rows = []
    for scenario, group in frame.groupby("scenario", sort=False):
        out = {"Scenario": group["label"].iloc[0]}
        for row in group.itertuples():
            name = outcome_text(theory, row.target, row.target_state)
            out[name] = f"{pct(row.p)} {interval(row.ci_low, row.ci_high)}"
            out[f"Change, pp ({lv} interval)" + ("" if len(result.targets) == 1 else f": {node_label(theory, row.target)}")] = _change(row)
        rows.append(out)
    return pd.DataFrame(rows)


def rounds_table(result: ReportResult) -> pd.DataFrame:
    frame, lv = result.rounds, _level(result)
    return pd.DataFrame(
        {
            "Round": frame["round"].astype(str),
            f"P(still intact), {lv} interval": [
                f"{pct(p)} {interval(lo, hi)}" for p, lo, hi in zip(frame["p_intact"], frame["ci_low"], frame["ci_high"], strict=True)
            ],
            "P(ends in this round, if intact before)": frame[
                "p_absorbed_in_round" if "p_absorbed_in_round" in frame else "p_dissolve_in_round"
            ].map(pct),
        }
    )


def voi_table(result: ReportResult, top: int = 10) -> pd.DataFrame:
    theory = result.theory
    frame = result.voi.head(top)
    state = result.voi["target_state"].iloc[0] if len(result.voi) else _shown(result, result.voi_target)
    return pd.DataFrame(
        {
            "Factor to measure": [node_label(theory, n) for n in frame["node"]],
            "Information (bits)": frame["mutual_information_bits"].map(lambda v: f"{v:.3f}"),
            f"Typical change of {outcome_text(theory, result.voi_target, state)} once measured, pp": frame[
                "expected_abs_change"
            ].map(lambda v: f"{100 * v:.1f}"),
        }
    )


def sensitivity_table(result: ReportResult, top: int = 10) -> pd.DataFrame:
    theory = result.theory
    target = result.targets[0]
    frame = result.sensitivity.head(top)
    name = outcome_text(theory, target, _shown(result, target))
    return pd.DataFrame(
        {
            "Judgement": [judgement_text(j, node_labels(theory)) for j in frame["judgement"]],
            f"{name}, judgement one step lower": frame["p_minus"].map(pct),
            f"{name}, one step higher": frame["p_plus"].map(pct),
            "Swing, pp": frame["swing"].map(lambda v: f"{100 * v:.1f}"),
        }
    )


def _note(text: str) -> list:
    return [("note", text)] if text else []


def _caption(frame: pd.DataFrame | None) -> str:
    text = estimate_text(frame) if frame is not None else ""
    return f"; values: {text}" if text else ""


def blocks(result: ReportResult) -> list:
    """The whole report as blocks, the plain-language summary first."""
    theory, lv = result.theory, _level(result)
    context = node_label(theory, result.context)
    claims = result.claims
    failing = claims.loc[~claims["holds"], "claim"]
    out = [("h1", "The programme theory in numbers"), ("note", _settings(result))]
    out += summary_blocks(result)
    out += [
        ("h2", f"How much does {context.lower()} change the outcomes?"),
        (
            "p",
            f"Each row compares an outcome when {context.lower()} is in the given state with the baseline, "
            f"where nothing about the partnership is known. {PP}.",
        ),
    ]
    if result.same_modes:
        out.append(
            (
                "note",
                f"Observing {context.lower()} and making it so give the same numbers here ({context.lower()} "
                "has no causes in the theory), so each row is shown once.",
            )
        )
    else:
        out.append(("note", f"“{OBSERVE_TEXT[0].upper() + OBSERVE_TEXT[1:]}”; “{DO_TEXT}”."))
    out += [
        ("table", headline_table(result)),
        *_note(_which(result.headline)),
        ("h2", "Every factor, ranked by how much it moves the outcomes"),
        (
            "p",
            f"The ten factor states with the largest change of any outcome, each compared with the baseline "
            f"(observed, {lv} intervals on the change). Blue bars are good for the partnership, orange bad.",
        ),
        ("table", sweep_table(result)),
        *_note(_which(result.sweep)),
        ("figure", "tornado.png", "How much each factor changes each outcome (top factors; bars: change, whiskers: interval)"
         + _caption(result.sweep)),
    ]
    if result.scenarios is not None:
        out += [
            ("h2", "Named scenarios from the review"),
            ("p", "Each scenario sets a few factors as the review describes a kind of partnership; the change is against the baseline."),
            ("table", scenario_table(result)),
            *_note(_which(result.scenarios)),
            ("figure", "scenarios.png", "Change of each outcome under each scenario, with its interval" + _caption(result.scenarios)),
        ]
    if result.rounds is not None:
        out += [
            ("h2", "Over rounds: is the partnership still intact?"),
            (
                "p",
                "The theory's feedback loop (each round builds on the one before) run over successive rounds of "
                "partnership working. Computed by simulation; the interval spans the judgements' uncertainty.",
            ),
            ("table", rounds_table(result)),
            ("figure", "rounds.png", "Chance that the partnership is still intact, by round"),
        ]
    out += [
        ("h2", f"What to measure next to learn about {node_label(theory, result.voi_target).lower()}"),
        (
            "p",
            "Information is in bits (one bit is what a fair yes/no question tells you); the typical change is "
            "how far the outcome's probability would move, on average, once the factor is measured.",
        ),
        ("table", voi_table(result)),
        (
            "p",
            "Best set of three measurements, each given the earlier picks: "
            + ", ".join(f"{node_label(theory, r.node)} (+{r.gain_bits:.3f} bits)" for r in result.best.itertuples())
            + ".",
        ),
        ("figure", "voi.png", "What to measure next"),
        ("h2", f"Which judgements matter most for {outcome_text(theory, result.targets[0], _shown(result, result.targets[0]))}"),
        (
            "p",
            "Each elicited number is moved one step of its own uncertainty down and up; the swing is how much "
            "the outcome moves. Judgements at the top deserve the most care in an elicitation workshop.",
        ),
        ("table", sensitivity_table(result)),
        ("figure", "sensitivity.png", "Which judgements matter"),
        ("h2", "The theory"),
        (
            "p",
            f"{int(claims['holds'].sum())} of {len(claims)} programme-theory claims hold in the network"
            + ("." if failing.empty else f"; failing: {', '.join(failing)}."),
        ),
        ("table", _theory_table(result)),
        ("figure", "theory.png", "The programme theory"),
        ("note", "Tables with every number (node ids as columns): " + ", ".join(result.tables) + "."),
    ]
    return out
