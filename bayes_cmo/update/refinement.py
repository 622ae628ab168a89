"""The programme theory's refinement: what the cases did to each CMO link, and which cases it explains poorly.

Link verdicts (``refine``). The posterior of each link weight ``w`` is
Normal(``posterior_weight``, ``posterior_sd``) (Laplace; with ``joint=`` the sd
from the joint observed information, :mod:`bayes_cmo.update.joint`). With the
elicited weight ``w0``, its direction ``d = sign(w0)`` (+1 for 0) and a
practical ``margin`` (default 0.5 log-odds: half the step from moderate to
strong), each link gets three posterior probabilities:

* ``p_stronger`` = P(d * w > |w0| + margin);
* ``p_weaker``   = P(-margin <= d * w < |w0| - margin);
* ``p_reversed`` = P(d * w < -margin);

and ``p_departure`` their sum: the probability that the cases moved the link
by more than the margin. The verdict rule controls the Bayesian false
discovery rate across links (Mueller, Parmigiani & Rice 2004; Storey's
q-values): sort the informed links by ``p_departure``, flag the largest set
whose mean of ``1 - p_departure`` is at most ``fdr`` (default 10%). A flagged
link is **strengthened**, **weakened** or **reversed**, whichever of the three
probabilities is largest; the posterior expected number of false flags,
``sum(1 - p_departure)`` over the flagged links, is ``frame.attrs
["expected_false_flags"]`` ("flags expected by chance"). Unflagged links are
**consistent**; links no case informs are **no information** (no case observed
both ends, or into an explicit table), **needs cases observed over rounds**
(lagged links: single-round cases cannot inform a next-round effect), or
**undetermined** (the Laplace sd could not be computed). The earlier
per-link interval rule (``verdict``) is kept as the ``interval_verdict`` column.

Case data conflict (``data_conflict``): Jensen's conflict measure
``conf(e) = log( prod_i P(e_i) / P(e) )`` over a case's findings ``e_i``.
Positive values mean the findings are less likely together than apart. A case
is flagged ("the theory explains it poorly") when its conflict exceeds the
95th percentile of the conflict among cases simulated from the same model with
the same missingness pattern, so about 5% of the model's own cases are
flagged; ``contradicts`` names the findings whose removal lowers the conflict
most (leave-one-out). ``global_check`` asks the same of the whole case set: a
predictive p-value of its log-likelihood.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..engine import core as _engine
from ..engine.sampling import forward_sample
from . import cases as cases_mod
from .._errors import BayesCMOError, did_you_mean
from ..inference.whatif import DEFAULT_LEVEL, check_findings, posterior
from ..network.model import Model
from .em import UpdateResult

VERDICTS = (
    "strengthened", "weakened", "reversed", "consistent", "undetermined", "no information",
    "needs cases observed over rounds",
)
LAGGED = "needs cases observed over rounds"
#: Practical margin (log-odds): half the verbal step moderate (1.0) -> strong (2.0).
DEFAULT_MARGIN = 0.5
#: Bayesian false discovery rate the verdict rule controls across links.
DEFAULT_FDR = 0.10
#: Share of the model's own cases flagged as explained poorly.
DEFAULT_FLAG_SHARE = 0.05
#: Headline outcome states compared by ``compare_models``: (node, state).
HEADLINE = (("synergy", "synergy"), ("dissolution", "dissolved"))
HEADLINE_CONTEXT = "legal_agreements"


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.0 < level < 1.0:
        raise BayesCMOError(f"The 'level' parameter must be between 0 and 1. Got {level!r} instead.")
    return float(level)


def _check_fraction(value, name: str, low_open: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 < value < 1.0 if low_open else 0.0 <= value < 1.0):
        raise BayesCMOError(f"The '{name}' parameter must be between 0 and 1. Got {value!r} instead.")
    return float(value)


def verdict(prior: float, low: float, high: float, informed: bool = True) -> str:
    """The per-link interval verdict (no multiplicity control): elicited ``prior``, posterior interval ``[low, high]``.

    Kept as the ``interval_verdict`` column. An interval that could not be
    computed (NaN) is "undetermined", never a silent "consistent".
    """
    if not informed:
        return "no information"
    if not (np.isfinite(low) and np.isfinite(high)):
        return "undetermined"
    if prior > 0 and high < 0 or prior < 0 and low > 0:
        return "reversed"
    if prior == 0:
        return "strengthened" if low > 0 or high < 0 else "consistent"
    if prior > 0:
        return "strengthened" if low > prior else "weakened" if high < prior else "consistent"
    return "strengthened" if high < prior else "weakened" if low > prior else "consistent"


def departure_probabilities(prior, mean, sd, margin: float = DEFAULT_MARGIN) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p_stronger, p_weaker, p_reversed) under Normal(mean, sd) posteriors, elicited weights ``prior``.

    In the elicited direction ``d = sign(prior)`` (+1 for 0): stronger is
    ``d*w > |prior| + margin``, weaker ``-margin <= d*w < |prior| - margin``,
    reversed ``d*w < -margin``. For an elicited 0 "stronger" is ``|w| > margin``.
    """
    prior, mean, sd = (np.asarray(x, dtype=float) for x in (prior, mean, sd))
    d = np.where(prior < 0, -1.0, 1.0)
    m, size = d * mean, np.abs(prior)
    with np.errstate(divide="ignore", invalid="ignore"):
        stronger = norm.sf((size + margin - m) / sd)
        weaker = np.clip(norm.cdf((size - margin - m) / sd) - norm.cdf((-margin - m) / sd), 0.0, 1.0)
        reversed_ = norm.cdf((-margin - m) / sd)
    zero = prior == 0
    stronger = np.where(zero, stronger + reversed_, stronger)
    weaker = np.where(zero, 0.0, weaker)
    reversed_ = np.where(zero, 0.0, reversed_)
    return stronger, weaker, reversed_


def fdr_flags(p_departure, fdr: float = DEFAULT_FDR) -> np.ndarray:
    """Bayesian FDR rule: flag the largest top set (by ``p_departure``) whose mean ``1 - p`` is <= ``fdr``.

    NaN entries are never flagged. Returns a boolean array in the input order.
    """
    p = np.asarray(p_departure, dtype=float)
    flags = np.zeros(p.size, dtype=bool)
    ok = np.flatnonzero(np.isfinite(p))
    if not ok.size:
        return flags
    order = ok[np.argsort(-p[ok], kind="stable")]
    running = np.cumsum(1.0 - p[order]) / np.arange(1, order.size + 1)
    within = np.flatnonzero(running <= fdr + 1e-12)
    if within.size:
        flags[order[: within[-1] + 1]] = True
    return flags


def _lagged_ids(result: UpdateResult) -> set[str]:
    return {link.id for link in result.prior_theory.links if link.lag}


def refine(
    result: UpdateResult,
    level: float = DEFAULT_LEVEL,
    *,
    margin: float = DEFAULT_MARGIN,
    fdr: float = DEFAULT_FDR,
    joint=None,
) -> pd.DataFrame:
    """Per link: prior vs posterior weight with ``level`` intervals, departure probabilities and an FDR-controlled verdict.

    Columns: ``link``, ``source``, ``target``, ``prior_weight``, ``prior_sd``,
    ``prior_low``, ``prior_high``, ``posterior_weight``, ``posterior_sd``,
    ``posterior_low``, ``posterior_high``, ``shift`` (posterior - prior),
    ``sd_ratio`` (posterior sd / prior sd: below 1 = the cases were
    informative), ``p_same_sign`` (posterior probability the link has the
    elicited direction), ``n_both`` (cases observing both ends),
    ``p_stronger``, ``p_weaker``, ``p_reversed``, ``p_departure`` (see the
    module docstring), ``flagged`` (chosen by the FDR rule), ``verdict``, and
    ``interval_verdict`` (the per-link interval rule, no multiplicity control).
    ``joint``: a :class:`bayes_cmo.update.joint.JointUncertainty`; its sds
    replace the per-node ones (the block sd is kept as ``block_sd``).
    ``frame.attrs``: ``margin``, ``fdr``, ``n_flagged``, ``expected_false_flags``.
    """
    z = norm.ppf(0.5 + _check_level(level) / 2)
    fdr = _check_fraction(fdr, "fdr")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not margin >= 0 or not np.isfinite(margin):
        raise BayesCMOError(f"The 'margin' parameter must be a number >= 0 (log-odds). Got {margin!r} instead.")
    frame = result.links.copy()
    if joint is not None:
        sds = joint.link_sd
        frame["block_sd"] = frame["posterior_sd"]
        frame["posterior_sd"] = [float(sds.get(link, sd)) for link, sd in zip(frame["link"], frame["posterior_sd"])]
    frame["prior_low"] = frame["prior_weight"] - z * frame["prior_sd"]
    frame["prior_high"] = frame["prior_weight"] + z * frame["prior_sd"]
    frame["posterior_low"] = frame["posterior_weight"] - z * frame["posterior_sd"]
    frame["posterior_high"] = frame["posterior_weight"] + z * frame["posterior_sd"]
    frame["shift"] = frame["posterior_weight"] - frame["prior_weight"]
    frame["sd_ratio"] = frame["posterior_sd"] / frame["prior_sd"]
    direction = np.where(frame["prior_weight"] < 0, -1.0, 1.0)
    frame["p_same_sign"] = norm.cdf(direction * frame["posterior_weight"] / frame["posterior_sd"])
    frame["interval_verdict"] = [
        verdict(row.prior_weight, row.posterior_low, row.posterior_high, bool(row.updated and row.n_both > 0))
        for row in frame.itertuples()
    ]
    stronger, weaker, reversed_ = departure_probabilities(
        frame["prior_weight"], frame["posterior_weight"], frame["posterior_sd"], float(margin)
    )
    lagged = _lagged_ids(result)
    informed = (frame["updated"] & (frame["n_both"] > 0)).to_numpy() & np.isfinite(frame["posterior_sd"].to_numpy())
    departure = np.where(informed, stronger + weaker + reversed_, np.nan)
    frame["p_stronger"], frame["p_weaker"], frame["p_reversed"] = stronger, weaker, reversed_
    frame["p_departure"] = departure
    flags = fdr_flags(departure, fdr)
    frame["flagged"] = flags
    names = np.array(["strengthened", "weakened", "reversed"])
    direction_of = names[np.argmax(np.stack([stronger, weaker, reversed_]), axis=0)]
    verdicts = []
    for i, row in enumerate(frame.itertuples()):
        if row.link in lagged:
            verdicts.append(LAGGED)
        elif not (row.updated and row.n_both > 0):
            verdicts.append("no information")
        elif not np.isfinite(row.posterior_sd):
            verdicts.append("undetermined")
        else:
            verdicts.append(str(direction_of[i]) if flags[i] else "consistent")
    frame["verdict"] = verdicts
    columns = [
        "link", "source", "target", "prior_weight", "prior_sd", "prior_low", "prior_high",
        "posterior_weight", "posterior_sd", "posterior_low", "posterior_high", "shift",
        "sd_ratio", "p_same_sign", "n_both", "p_stronger", "p_weaker", "p_reversed", "p_departure",
        "flagged", "verdict", "interval_verdict",
    ]
    if joint is not None:
        columns.insert(columns.index("posterior_sd") + 1, "block_sd")
    out = frame[columns]
    out.attrs.update(
        margin=float(margin), fdr=fdr, level=float(level), n_flagged=int(flags.sum()),
        n_informed=int(informed.sum()),
        expected_false_flags=float(np.sum(1.0 - departure[flags])) if flags.any() else 0.0,
    )
    return out


def chance_line(links: pd.DataFrame) -> str:
    """One sentence: how many flags the rule made and how many of them chance explains."""
    a = links.attrs
    return (
        f"{a.get('n_flagged', 0)} of {a.get('n_informed', 0)} informed link(s) flagged at a {a.get('fdr', DEFAULT_FDR):.0%} "
        f"Bayesian false discovery rate (margin {a.get('margin', DEFAULT_MARGIN):g} log-odds); "
        f"flags expected by chance among them: {a.get('expected_false_flags', 0.0):.2f}"
    )


# ----------------------------------------------------------------------------
# case sets simulated like the real ones


def _masks(cases: pd.DataFrame) -> dict[str, np.ndarray]:
    """{node: (E,) bool observed} for every node column of the case set."""
    return {node: cases[node].notna().to_numpy() for node in cases_mod.node_columns(cases)}


def _simulated_likelihoods(net, masks: Mapping[str, np.ndarray], reps: int, rng, draw_index=None) -> dict[str, np.ndarray]:
    """Findings of ``reps`` copies of the case set drawn from ``net``, each copy with the real cases' blanks."""
    n = len(next(iter(masks.values()))) if masks else 0
    drawn, _ = forward_sample(net, n * reps, rng, draw_index=draw_index)
    out = {}
    for node, seen in masks.items():
        if not seen.any():
            continue
        card = len(net.states[node])
        lik = np.ones((n * reps, card))
        tiled = np.tile(seen, reps)
        lik[tiled] = np.eye(card)[drawn[node][tiled]]
        out[node] = lik
    return out


def _log_p(net, likelihoods: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    if not likelihoods:
        return np.zeros(n)
    return np.log(_engine.probability_of_evidence(net, likelihoods=likelihoods))


def _conflict_scores(net, likelihoods: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(conflict, log P(e), sum log P(e_i), n_findings) per evidence row."""
    separate = np.zeros(n)
    n_findings = np.zeros(n, dtype=int)
    if likelihoods:
        margins = _engine.marginals(net, list(likelihoods))
        for node, lik in likelihoods.items():
            seen = lik.min(axis=1) == 0  # one-hot rows; all-ones rows are blanks
            separate[seen] += np.log(lik[seen] @ margins[node][0])
            n_findings += seen
    joint = np.where(n_findings > 0, _log_p(net, likelihoods, n), 0.0)
    conflict = np.where(n_findings >= 2, separate - joint, 0.0)
    return conflict, joint, separate, n_findings


def conflict_threshold(
    model: Model, cases: pd.DataFrame, share: float = DEFAULT_FLAG_SHARE, n_sim: int = 20, seed: int | None = 0
) -> float:
    """The ``1 - share`` quantile of the conflict among cases simulated from ``model`` with the cases' blanks.

    ``n_sim`` copies of the case set are drawn (each simulated case keeps the
    missingness pattern of one real case), so cases with many findings and
    cases with few are represented as in the data.
    """
    masks = _masks(cases)
    if not masks or not len(cases):
        return 0.0
    rng = np.random.default_rng(seed)
    liks = _simulated_likelihoods(model.network, masks, int(n_sim), rng)
    conflict = _conflict_scores(model.network, liks, len(cases) * int(n_sim))[0]
    return float(np.quantile(conflict, 1.0 - share))


def data_conflict(
    model: Model,
    cases: pd.DataFrame | str,
    *,
    share: float = DEFAULT_FLAG_SHARE,
    n_sim: int = 20,
    seed: int | None = 0,
    top: int = 3,
) -> pd.DataFrame:
    """Jensen's conflict score per case under ``model``, highest (worst explained) first, with a calibrated flag.

    Columns: ``case_id``, ``n_findings``, ``log_p_evidence`` (log P(e)),
    ``log_p_separate`` (sum of log P(e_i)), ``conflict`` (their difference),
    ``threshold`` (the ``1 - share`` quantile of the conflict among cases
    simulated from ``model`` with the same missingness pattern), ``flagged``
    (conflict > threshold: about ``share`` of the model's own cases are
    flagged), ``contradicts`` (for flagged cases: up to ``top`` findings
    ``node=state (drop)`` whose removal lowers the conflict most, i.e. the
    CMO steps the case contradicts; blank otherwise).
    Cases with fewer than two findings have conflict 0.
    """
    if not (isinstance(cases, pd.DataFrame) and "rows" in cases.attrs):
        cases = cases_mod.read_cases(cases, model)
    net = model.network
    if net.batch_size is not None:
        raise BayesCMOError("The 'model' parameter of data_conflict must have point values, not parameter draws.")
    share = _check_fraction(share, "share")
    columns = ["case_id", "n_findings", "log_p_evidence", "log_p_separate", "conflict", "threshold", "flagged", "contradicts"]
    n = len(cases)
    if n == 0:
        return pd.DataFrame(columns=columns)
    likelihoods = cases_mod.case_likelihoods(cases, model)
    conflict, joint, separate, n_findings = _conflict_scores(net, likelihoods, n)
    threshold = conflict_threshold(model, cases, share, n_sim, seed)
    flagged = conflict > threshold + 1e-12
    contradicts = [""] * n
    if np.any(flagged):
        findings = cases_mod.case_findings(cases)
        for i in np.flatnonzero(flagged):
            contradicts[i] = _contradicted(net, findings[i], top)
    frame = pd.DataFrame(
        {
            "case_id": cases[cases_mod.ID_COLUMN].to_numpy(),
            "n_findings": n_findings,
            "log_p_evidence": joint,
            "log_p_separate": separate,
            "conflict": conflict,
            "threshold": threshold,
            "flagged": flagged,
            "contradicts": contradicts,
        }
    )
    if "label" in cases.columns:
        frame.insert(1, "label", cases["label"].to_numpy())
    frame.attrs.update(threshold=threshold, share=share)
    return frame.sort_values("conflict", ascending=False, kind="stable").reset_index(drop=True)


def conflict_contributions(net, findings: Mapping[str, str]) -> pd.DataFrame:
    """Leave-one-out: the conflict of the findings without each one, and the drop from the full conflict.

    Columns ``node``, ``state``, ``conflict_without``, ``drop`` (full minus
    without; large = this finding is what the rest of the case contradicts).
    """
    items = list(findings.items())
    sets = [dict(items)] + [dict(items[:j] + items[j + 1 :]) for j in range(len(items))]
    likelihoods = _engine.evidence_likelihoods(net, sets)
    conflict = _conflict_scores(net, likelihoods, len(sets))[0]
    return pd.DataFrame(
        {"node": [k for k, _ in items], "state": [v for _, v in items],
         "conflict_without": conflict[1:], "drop": conflict[0] - conflict[1:]}
    ).sort_values("drop", ascending=False, kind="stable").reset_index(drop=True)


def _contradicted(net, findings: Mapping[str, str], top: int) -> str:
    if len(findings) < 2:
        return ""
    table = conflict_contributions(net, findings)
    table = table[table["drop"] > 0].head(top)
    return "; ".join(f"{r.node}={r.state} ({r.drop:+.2f})" for r in table.itertuples())


def global_check(result: UpdateResult, n_sim: int = 200, seed: int | None = 0) -> pd.DataFrame:
    """Are these cases, taken together, in conflict with the theory? Predictive p-values of their log-likelihood.

    Statistic: ``T = sum_i log P(e_i)`` of the real cases. Two rows:

    * ``prior``: T under the elicited point model; the reference case sets
      (``n_sim`` of them, same size, each case with the blanks of its real
      counterpart) are drawn from worlds drawn from the priors (a prior
      predictive check: parameter uncertainty included);
    * ``posterior``: T under the updated model, reference sets drawn from it
      (plug-in posterior predictive; conservative, since the data were used
      to fit it).

    Columns: ``check``, ``log_lik`` (T), ``sim_mean``, ``sim_low``/``sim_high``
    (5th / 95th percentiles of T over the reference sets), ``p_value`` (share
    of reference sets with T at most the observed: small = the cases are less
    likely than the theory's own cases), ``n_sim``.
    """
    if isinstance(n_sim, bool) or not isinstance(n_sim, (int, np.integer)) or n_sim < 10:
        raise BayesCMOError(f"The 'n_sim' parameter of global_check must be an integer >= 10. Got {n_sim!r} instead.")
    cases = result.cases
    n = len(cases)
    masks = _masks(cases)
    rows = []
    rng = np.random.default_rng(seed)
    for check, model, worlds in (
        ("prior", result.prior, result.prior.with_draws(int(n_sim), seed=int(rng.integers(2**31))) if result.prior.theory else result.prior),
        ("posterior", result.model, result.model),
    ):
        net = model.network
        observed = float(_log_p(net, cases_mod.case_likelihoods(cases, model), n).sum()) if n else 0.0
        draw_index = np.repeat(np.arange(int(n_sim)), n) if worlds.network.batch_size is not None else None
        liks = _simulated_likelihoods(worlds.network, masks, int(n_sim), rng, draw_index=draw_index) if masks and n else {}
        sims = _log_p(net, liks, n * int(n_sim)).reshape(int(n_sim), n).sum(axis=1) if liks else np.zeros(int(n_sim))
        rows.append(
            {"check": check, "log_lik": observed, "sim_mean": float(sims.mean()),
             "sim_low": float(np.quantile(sims, 0.05)), "sim_high": float(np.quantile(sims, 0.95)),
             "p_value": float((np.sum(sims <= observed) + 1) / (n_sim + 1)), "n_sim": int(n_sim)}
        )
    return pd.DataFrame(rows)


def global_line(check: pd.DataFrame) -> str:
    """One sentence for the top of the report."""
    prior = check.set_index("check").loc["prior"]
    verdict_ = "the cases fit the theory's own cases" if prior.p_value >= 0.05 else "the cases conflict with the theory"
    return (
        f"global check: log-likelihood of the cases {prior.log_lik:.1f} under the priors vs "
        f"[{prior.sim_low:.1f}, {prior.sim_high:.1f}] for case sets of the same size and blanks drawn from them; "
        f"predictive p = {prior.p_value:.3f}: {verdict_}"
    )


def compare_models(
    model_a: Model,
    model_b: Model,
    targets: Sequence[str] | None = None,
    evidence: Mapping[str, str] | None = None,
    context: str | None = HEADLINE_CONTEXT,
) -> pd.DataFrame:
    """Headline queries under two versions of the priors, side by side.

    For each target (default: P(synergy) and P(dissolution), the highest
    state of each): P(target | evidence) and, when ``context`` is a node of
    both models, its shift by that context (P(target | context = highest
    state) - P(target | context = lowest state), observed, same ``evidence``).
    Columns: ``query``, ``target``, ``state``, ``a``, ``b``, ``difference`` (b - a).
    """
    evidence = dict(evidence or {})
    for model in (model_a, model_b):
        check_findings(model, evidence, "evidence")
    if targets is None:
        pairs = [
            (node, state) for node, state in HEADLINE
            if node in model_a.network.states and node in model_b.network.states and state in model_a.states(node)
        ]
        if not pairs:
            raise BayesCMOError(
                "neither synergy nor dissolution is a node of both models; name the targets (--target NODE)"
            )
    else:
        pairs = []
        for node in ([targets] if isinstance(targets, str) else targets):
            for model in (model_a, model_b):
                if node not in model.network.states:
                    raise BayesCMOError(f"target: unknown node '{node}'{did_you_mean(node, model.variables)}")
            pairs.append((node, model_a.states(node)[-1]))
    for model, name in ((model_a, "A"), (model_b, "B")):
        for node, _ in pairs:
            if model.states(node) != model_a.states(node):
                raise BayesCMOError(f"{node} has different states in the two models ({name})")
    use_context = (
        context is not None
        and context in model_a.network.states
        and context in model_b.network.states
        and context not in evidence
        and all(context != node for node, _ in pairs)
    )
    rows = []
    for node, state in pairs:
        k = model_a.states(node).index(state)
        values = [float(posterior(m, node, evidence)[node][k]) for m in (model_a, model_b)]
        rows.append({"query": f"P({node}={state}{_given(evidence)})", "target": node, "state": state,
                     "a": values[0], "b": values[1]})
        if use_context:
            states = model_a.states(context)
            shifts = []
            for m in (model_a, model_b):
                high = posterior(m, node, {**evidence, context: states[-1]})[node][k]
                low = posterior(m, node, {**evidence, context: states[0]})[node][k]
                shifts.append(float(high - low))
            rows.append({"query": f"shift by {context}={states[-1]} vs {states[0]}", "target": node,
                         "state": state, "a": shifts[0], "b": shifts[1]})
    frame = pd.DataFrame(rows)
    frame["difference"] = frame["b"] - frame["a"]
    return frame


def _given(evidence: Mapping[str, str]) -> str:
    return (" | " + ", ".join(f"{k}={v}" for k, v in evidence.items())) if evidence else ""
