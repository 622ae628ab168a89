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
by more than the margin. A verdict names a side, so what it claims is
``p_claim = max(p_stronger, p_weaker + p_reversed)``: the stronger side, or
the weaker side (weaker or reversed); a flag is false unless the link lies
on the side it names. (Ranking by ``p_departure`` counted both sides of a
wide posterior as evidence for either, and understated the false flags.)
The verdict rule controls the Bayesian false discovery rate across links
(Mueller, Parmigiani & Rice 2004; Storey's q-values): sort the informed links
by ``p_claim``, flag the largest set whose mean of ``1 - p_claim`` is at most
``fdr`` (default 10%). A flagged link is **strengthened** (stronger side),
or on the weaker side **reversed** if ``p_reversed > p_weaker``, else
**weakened**; the posterior expected number of false flags,
``sum(1 - p_claim)`` over the flagged links, is the column
``expected_false_flags`` ("flags expected by chance"). An unflagged link is
**consistent** when the cases narrowed its interval by at least 20%
(``sd_ratio <= 0.8``) and **prior-dominated** otherwise: "consistent" would
credit the cases with what the prior alone says (issue 11). A flagged link
keeps its direction even with little narrowing (the cases moved its mean;
the ``dominance`` column still says prior-dominated). Links no case informs
are **no information** (no case observed both ends, or into an explicit
table), **needs cases observed over rounds**
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

from .._lazy import pandas as pd
from ..engine import core as _engine
from ..engine.sampling import forward_sample
from . import cases as cases_mod
from .. import _validate as check
from .._errors import BayesCMOError, did_you_mean
from ..inference import headline as _headline
from ..inference.background import Background
from ..inference.summary import DEFAULT_LEVEL
from ..inference.whatif import posterior
from ..network.model import Model
from ..theory.lint import prior_cases
from .em import UpdateResult

VERDICTS = (
    "strengthened", "weakened", "reversed", "consistent", "prior-dominated", "undetermined", "no information",
    "needs cases observed over rounds",
)
LAGGED = "needs cases observed over rounds"
PRIOR_DOMINATED = "prior-dominated"
#: Practical margin (log-odds): half the verbal step moderate (1.0) -> strong (2.0).
DEFAULT_MARGIN = 0.5
#: Bayesian false discovery rate the verdict rule controls across links.
DEFAULT_FDR = 0.10
#: Share of the model's own cases flagged as explained poorly.
DEFAULT_FLAG_SHARE = 0.05
#: A link whose interval the cases narrowed by less than this fraction is "prior-dominated".
PRIOR_DOMINATED_NARROWING = 0.2


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
    from scipy.stats import norm  # lazy: scipy.stats is slow to import

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
    ``p_stronger``, ``p_weaker``, ``p_reversed``, ``p_departure``, ``p_claim``
    (see the module docstring), ``flagged`` (chosen by the FDR rule on ``p_claim``), ``verdict``, and
    ``interval_verdict`` (the per-link interval rule, no multiplicity control).
    ``joint``: a :class:`bayes_cmo.update.joint.JointUncertainty`; its sds
    replace the per-node ones (the block sd is kept as ``block_sd``).
    ``dominance`` (prior-dominated: the cases narrowed the interval by less
    than 20%; informed; blank without information), ``prior_cases`` (the
    prior's worth in fully coded cases). The rule's settings and its chance
    count ride along as columns, the same on every row: ``margin``, ``fdr``,
    ``expected_false_flags`` (posterior expected number of false flags).
    """
    from scipy.stats import norm  # lazy: scipy.stats costs ~0.3 s to import, and only this table needs it

    z = norm.ppf(0.5 + check.level(level) / 2)
    fdr = check.level(fdr, "fdr")
    margin = check.nonnegative(margin, "margin")
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
    weaker_side = weaker + reversed_
    claim = np.where(informed, np.maximum(stronger, weaker_side), np.nan)
    frame["p_stronger"], frame["p_weaker"], frame["p_reversed"] = stronger, weaker, reversed_
    frame["p_departure"], frame["p_claim"] = departure, claim
    flags = fdr_flags(claim, fdr)
    frame["flagged"] = flags
    direction_of = np.where(stronger >= weaker_side, "strengthened", np.where(reversed_ > weaker, "reversed", "weakened"))
    dominated = ~(frame["sd_ratio"] <= 1.0 - PRIOR_DOMINATED_NARROWING).to_numpy()  # NaN sd: nothing narrowed
    verdicts = []
    for i, row in enumerate(frame.itertuples()):
        if row.link in lagged and not (row.updated and row.n_both > 0):  # cases over rounds inform it
            verdicts.append(LAGGED)
        elif not (row.updated and row.n_both > 0):
            verdicts.append("no information")
        elif not np.isfinite(row.posterior_sd):
            verdicts.append("undetermined")
        else:
            verdicts.append(str(direction_of[i]) if flags[i] else PRIOR_DOMINATED if dominated[i] else "consistent")
    frame["verdict"] = verdicts
    frame["dominance"] = np.where(dominated, "prior-dominated", "informed")
    frame.loc[~informed, "dominance"] = ""
    theory = result.prior_theory
    frame["prior_cases"] = [prior_cases(theory, theory.link(link)) for link in frame["link"]]
    frame["margin"], frame["fdr"] = float(margin), fdr
    frame["expected_false_flags"] = float(np.sum(1.0 - claim[flags])) if flags.any() else 0.0
    columns = [
        "link", "source", "target", "prior_weight", "prior_sd", "prior_cases", "prior_low", "prior_high",
        "posterior_weight", "posterior_sd", "posterior_low", "posterior_high", "shift",
        "sd_ratio", "p_same_sign", "n_both", "p_stronger", "p_weaker", "p_reversed", "p_departure",
        "p_claim", "flagged", "verdict", "dominance", "interval_verdict", "margin", "fdr", "expected_false_flags",
    ]
    if joint is not None:
        columns.insert(columns.index("posterior_sd") + 1, "block_sd")
    return frame[columns]


def chance_line(links: pd.DataFrame) -> str:
    """One sentence: how many flags the rule made and how many of them chance explains."""
    if not len(links):
        return "no links to judge"
    first = links.iloc[0]
    return (
        f"{int(links['flagged'].sum())} of {int(links['p_departure'].notna().sum())} informed link(s) flagged at a "
        f"{first['fdr']:.0%} Bayesian false discovery rate (margin {first['margin']:g} log-odds); "
        f"flags expected by chance among them: {first['expected_false_flags']:.2f}"
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
        check.point_values(net.batch_size, "model")
    share = check.level(share, "share")
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
    n_sim = check.integer(n_sim, "n_sim", 10)
    cases = result.cases
    n = len(cases)
    masks = _masks(cases)
    rows = []
    rng = np.random.default_rng(seed)
    for kind, model, worlds in (
        ("prior", result.prior, result.prior.with_draws(int(n_sim), seed=int(rng.integers(2**31))) if result.prior.theory else result.prior),
        ("posterior", result.model, result.model),
    ):
        net = model.network
        observed = float(_log_p(net, cases_mod.case_likelihoods(cases, model), n).sum()) if n else 0.0
        draw_index = np.repeat(np.arange(int(n_sim)), n) if worlds.network.batch_size is not None else None
        liks = _simulated_likelihoods(worlds.network, masks, int(n_sim), rng, draw_index=draw_index) if masks and n else {}
        sims = _log_p(net, liks, n * int(n_sim)).reshape(int(n_sim), n).sum(axis=1) if liks else np.zeros(int(n_sim))
        rows.append(
            {"check": kind, "log_lik": observed, "sim_mean": float(sims.mean()),
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
    context: str | None = None,
) -> pd.DataFrame:
    """Headline queries under two versions of the priors, side by side.

    For each target (default: the headline targets of A's ``headline.yaml``
    at their reported states; without one, its outcomes at their highest
    state): P(target | evidence) and, when ``context`` (default: A's headline
    context, if any) is a node of both models, its shift by that context
    (P(target | context = highest state) - P(target | context = lowest state),
    observed, same ``evidence``).
    Columns: ``query``, ``target``, ``state``, ``a``, ``b``, ``difference`` (b - a).
    """
    evidence = dict(Background.of(model_a, evidence).evidence)
    Background.of(model_b, evidence)
    if context is None:
        context = _headline.headline(model_a).context
    if targets is None:
        wanted = _headline.targets(model_a)
        pairs = [
            (node, state) for node, state in wanted.items()
            if node in model_b.network.states and state in model_b.states(node)
        ]
        if not pairs:
            raise BayesCMOError(
                f"no headline target ({', '.join(wanted) or 'none'}) is a node of both models; name the targets (--target NODE)"
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
        values = [float(posterior(m, node, evidence=evidence)[node][k]) for m in (model_a, model_b)]
        rows.append({"query": f"P({node}={state}{_given(evidence)})", "target": node, "state": state,
                     "a": values[0], "b": values[1]})
        if use_context:
            states = model_a.states(context)
            shifts = []
            for m in (model_a, model_b):
                high = posterior(m, node, evidence={**evidence, context: states[-1]})[node][k]
                low = posterior(m, node, evidence={**evidence, context: states[0]})[node][k]
                shifts.append(float(high - low))
            rows.append({"query": f"shift by {context}={states[-1]} vs {states[0]}", "target": node,
                         "state": state, "a": shifts[0], "b": shifts[1]})
    frame = pd.DataFrame(rows)
    frame["difference"] = frame["b"] - frame["a"]
    return frame


def _given(evidence: Mapping[str, str]) -> str:
    return (" | " + ", ".join(f"{k}={v}" for k, v in evidence.items())) if evidence else ""
