"""The programme theory's refinement: what the cases did to each CMO link, and which cases it explains poorly.

Link verdicts (``refine``), with ``level`` intervals ``mean +/- z * sd``:

* **no information** -- no case observed both ends of the link (checked on the
  data directly), or the link is not estimated (lagged; into an explicit table);
* **reversed** -- the posterior interval lies entirely on the other side of 0
  from the elicited weight;
* **strengthened** -- the posterior interval excludes the elicited weight on
  the far side from 0 (for an elicited weight of 0: excludes 0);
* **weakened** -- the interval excludes the elicited weight on the side of 0;
* **consistent** -- otherwise: the cases agree with the experts, within the
  posterior uncertainty;
Beside the verdict, ``dominance`` says whose answer it is: **prior-dominated**
when the cases narrowed the interval by less than 20% (``sd_ratio > 0.8``: the
prior won, not the cases), **informed** otherwise, empty for "no information".
(A separate column, so that the v0.1 verdicts stay as they were.)

``prior_cases`` is the link's prior-equivalent number of fully coded cases
(:func:`bayes_cmo.theory.lint.prior_cases`).

Case data conflict (``data_conflict``): Jensen's conflict measure
``conf(e) = log( prod_i P(e_i) / P(e) )`` over a case's findings ``e_i``.
Positive values mean the findings are less likely together than apart: the
programme theory explains this case poorly. One batched contraction for all
``P(e)``, one marginal per node for the ``P(e_i)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..engine import core as _engine
from . import cases as cases_mod
from .._errors import BayesCMOError, did_you_mean
from .. import _validate as check
from ..inference import headline as _headline
from ..inference.background import Background
from ..inference.summary import DEFAULT_LEVEL
from ..inference.whatif import posterior
from ..network.model import Model
from .em import UpdateResult
from ..theory.lint import prior_cases

VERDICTS = ("strengthened", "weakened", "reversed", "consistent", "no information")
#: A link whose interval the cases narrowed by less than this fraction is "prior-dominated".
PRIOR_DOMINATED_NARROWING = 0.2


def verdict(prior: float, low: float, high: float, informed: bool = True) -> str:
    """The verdict for one link: elicited weight ``prior``, posterior interval ``[low, high]``.

    An interval that could not be computed (NaN: the Laplace approximation
    failed) is "undetermined", never a silent "consistent".
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


def refine(result: UpdateResult, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Per link: prior vs posterior weight with ``level`` intervals, and a verdict.

    Columns: ``link``, ``source``, ``target``, ``prior_weight``, ``prior_sd``,
    ``prior_low``, ``prior_high``, ``posterior_weight``, ``posterior_sd``,
    ``posterior_low``, ``posterior_high``, ``shift`` (posterior - prior),
    ``sd_ratio`` (posterior sd / prior sd: below 1 = the cases were
    informative), ``p_same_sign`` (posterior probability the link has the
    elicited direction), ``n_both`` (cases observing both ends), ``verdict``,
    ``dominance`` (prior-dominated / informed), ``prior_cases`` (the prior's
    worth in fully coded cases).
    """
    from scipy.stats import norm  # lazy: scipy.stats costs ~0.3 s to import, and only this table needs it

    z = norm.ppf(0.5 + check.level(level) / 2)
    frame = result.links.copy()
    frame["prior_low"] = frame["prior_weight"] - z * frame["prior_sd"]
    frame["prior_high"] = frame["prior_weight"] + z * frame["prior_sd"]
    frame["posterior_low"] = frame["posterior_weight"] - z * frame["posterior_sd"]
    frame["posterior_high"] = frame["posterior_weight"] + z * frame["posterior_sd"]
    frame["shift"] = frame["posterior_weight"] - frame["prior_weight"]
    frame["sd_ratio"] = frame["posterior_sd"] / frame["prior_sd"]
    direction = np.where(frame["prior_weight"] < 0, -1.0, 1.0)
    frame["p_same_sign"] = norm.cdf(direction * frame["posterior_weight"] / frame["posterior_sd"])
    frame["verdict"] = [
        verdict(row.prior_weight, row.posterior_low, row.posterior_high, bool(row.updated and row.n_both > 0))
        for row in frame.itertuples()
    ]
    dominated = ~(frame["sd_ratio"] <= 1.0 - PRIOR_DOMINATED_NARROWING)  # NaN sd: nothing narrowed
    frame["dominance"] = np.where(dominated, "prior-dominated", "informed")
    frame.loc[frame["verdict"] == "no information", "dominance"] = ""
    theory = result.prior_theory
    frame["prior_cases"] = [prior_cases(theory, theory.link(link)) for link in frame["link"]]
    columns = [
        "link", "source", "target", "prior_weight", "prior_sd", "prior_cases", "prior_low", "prior_high",
        "posterior_weight", "posterior_sd", "posterior_low", "posterior_high", "shift",
        "sd_ratio", "p_same_sign", "n_both", "verdict", "dominance",
    ]
    return frame[columns]


def data_conflict(model: Model, cases: pd.DataFrame | str) -> pd.DataFrame:
    """Jensen's conflict score per case under ``model``, highest (worst explained) first.

    Columns: ``case_id``, ``n_findings``, ``log_p_evidence`` (log P(e)),
    ``log_p_separate`` (sum of log P(e_i)), ``conflict`` (their difference),
    ``flagged`` (conflict > 0: the findings fit together worse than apart).
    Cases with fewer than two findings have conflict 0.
    """
    if not (isinstance(cases, pd.DataFrame) and "rows" in cases.attrs):
        cases = cases_mod.read_cases(cases, model)
    net = model.network
    if net.batch_size is not None:
        check.point_values(net.batch_size, "model")
    likelihoods = cases_mod.case_likelihoods(cases, model)
    n = len(cases)
    if n == 0:
        return pd.DataFrame(columns=["case_id", "n_findings", "log_p_evidence", "log_p_separate", "conflict", "flagged"])
    separate = np.zeros(n)
    n_findings = np.zeros(n, dtype=int)
    if likelihoods:
        margins = _engine.marginals(net, list(likelihoods))
        for node, lik in likelihoods.items():
            seen = lik.min(axis=1) == 0  # one-hot rows; all-ones rows are blanks
            separate[seen] += np.log(lik[seen] @ margins[node][0])
            n_findings += seen
        joint = np.log(_engine.probability_of_evidence(net, likelihoods=likelihoods))
    else:
        joint = np.zeros(n)
    joint = np.where(n_findings > 0, joint, 0.0)
    conflict = np.where(n_findings >= 2, separate - joint, 0.0)
    frame = pd.DataFrame(
        {
            "case_id": cases[cases_mod.ID_COLUMN].to_numpy(),
            "n_findings": n_findings,
            "log_p_evidence": joint,
            "log_p_separate": separate,
            "conflict": conflict,
            "flagged": conflict > 0,
        }
    )
    if "label" in cases.columns:
        frame.insert(1, "label", cases["label"].to_numpy())
    return frame.sort_values("conflict", ascending=False, kind="stable").reset_index(drop=True)


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
