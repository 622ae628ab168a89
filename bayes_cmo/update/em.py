"""Updating the elicited priors with phase-2 case data (blanks anywhere).

Method: MAP expectation-maximisation with exact inference.

E-step
    For every case and every node, the exact posterior of the node's family
    (node + parents) given that case's findings; the expected counts are the
    sum over cases. All cases go through ONE batched einsum contraction: each
    finding is an ``(E, card)`` likelihood matrix (all-ones rows where a case
    left the node blank), the contraction gives ``P(e)`` per case, and reverse
    differentiation of each ``P(e)`` through the same contraction path
    (:func:`bayes_cmo._engine.differentiate`) gives every family's posterior
    for every case at once, because
    ``P(x, u | e) = theta(x|u) * dP(e)/dtheta(x|u) / P(e)`` (Darwiche's
    differential approach). Unlike pgmpy's EM, no row with a blank is dropped.

M-step, per node
    * Root nodes: Dirichlet(ess * baseline) prior; posterior
      ``alpha = ess * baseline + expected counts``; the point value is the
      posterior mean ``alpha / sum(alpha)``.
    * Explicit-table nodes: the same, one Dirichlet per parent configuration
      (``ess`` = the node's ``baseline_confidence``).
    * Nodes built from link weights (ordered logit, the family model of
      :mod:`bayes_cmo._ordered_logit`): the weights of the links into the node
      and its cutpoints maximise the expected complete-data log-likelihood
      plus the log prior: ``weight ~ Normal(elicited weight, weight_sd)`` and
      the baseline (the distribution at eta = 0, i.e. the cutpoints) gets
      ``ess * baseline`` pseudo-observations at eta = 0 (the Dirichlet kernel
      with exponent ``ess * baseline``, so with no cases the mode is exactly
      the elicited baseline). L-BFGS with the analytic gradient; cutpoints are
      parametrised as a first cutpoint plus log gaps, so they stay ordered.

Iteration stops when the observed-data log-posterior
``sum_e log P(e | theta) + log prior(theta)`` (non-decreasing under EM) changes
by less than ``tol * (1 + |value|)``, or after ``max_iter`` iterations.

Uncertainty (Laplace): at the mode, the posterior precision of a node's
parameters is the prior's (weights: ``1 / weight_sd**2``; pseudo-counts; by
central differences of the prior's analytic gradient) plus
the observed-data information estimated from the per-case scores (outer
product of each case's gradient of ``log P(e_i)``, obtained from its family
posterior by Fisher's identity, so missing values reduce information as they
should). The posterior sd of a weight is the square root of the diagonal of
the inverse, blockwise per node; intervals are ``mean +/- z * sd``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _validate
from ..engine import core as _engine
from . import cases as cases_mod
from .._errors import BayesCMOError, ZeroProbabilityEvidence
from .ordered_logit import families, laplace_covariance
from .ordered_logit import one_blas_thread as _one_blas_thread
from ..network.elicitation import elicited_parameters, table_array
from ..network.model import Model, build_model
from ..theory import Theory

DEFAULT_MAX_ITER = 200
DEFAULT_TOL = 1e-7
METHOD = (
    "MAP expectation-maximisation: exact E-step (batched einsum + reverse differentiation), "
    "Dirichlet posteriors for roots and tables, ordered-logit weights and cutpoints by L-BFGS "
    "with Normal weight priors; Laplace (per-node block) posterior sd"
)


# ----------------------------------------------------------------------------
# E-step: one contraction for all cases, all families by reverse differentiation (_engine.differentiate)


class _EStep:
    """Family posteriors of a fixed set of cases under changing CPTs.

    A thin wrapper around :func:`bayes_cmo._engine.differentiate`: the cases
    are the evidence sets, and ``cpt * dP(e)/dcpt / P(e)`` is every family's
    posterior per case (kept per case for the Laplace sd). The contraction
    plan is cached by the engine, so EM iterations reuse it.
    """

    def __init__(self, model: Model, cases: pd.DataFrame):
        self.net = model.network
        self.n_cases = len(cases)
        self.likelihoods = cases_mod.case_likelihoods(cases, model)
        self.ids = list(cases[cases_mod.ID_COLUMN])
        self.rows = cases.attrs.get("rows", {})
        self.source = cases.attrs.get("source", "cases")

    def __call__(self, cpts: Mapping[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(log P(e) per case, {node: P(node, parents | case), shaped (E, K, *parent cards)})."""
        variables = self.net.variables
        if not self.n_cases:
            return np.zeros(0), {v: np.zeros((0, *np.shape(cpts[v]))) for v in variables}
        net = _engine.with_cpts(self.net, **{v: cpts[v] for v in variables})
        if self.likelihoods:
            z, grads = _engine.differentiate(net, likelihoods=self.likelihoods, wrt=variables)
        else:  # every case blank everywhere
            z, grads = _engine.differentiate(net, [{}] * self.n_cases, wrt=variables)
        if not np.all(z > 0):
            i = int(np.argmin(z))
            case = self.ids[i]
            raise ZeroProbabilityEvidence(
                f"{self.source}: {self.rows.get(case, f'row {i}')} (case '{case}'): its findings have "
                "probability zero under the model (an explicit table rules this combination out)"
            )
        families = {}
        for v in variables:
            g = grads[v]
            families[v] = net.cpts[v] * g / z.reshape(-1, *[1] * (g.ndim - 1))
        return np.log(z), families


def expected_counts(model: Model, cases: pd.DataFrame | str | Path) -> dict[str, np.ndarray]:
    """E-step: ``{node: sum over cases of P(node, parents | case)}``, shaped like the node's CPT.

    ``cases`` is a case file or frame (validated with :func:`bayes_cmo.cases.read_cases`).
    Each family's counts sum to the number of cases.
    """
    cases = _as_cases(cases, model)
    _, per_case = _EStep(model, cases)(model.network.cpts)
    return {v: c.sum(axis=0) for v, c in per_case.items()}


def _as_cases(cases, model: Model) -> pd.DataFrame:
    if isinstance(cases, pd.DataFrame) and "rows" in cases.attrs and "source" in cases.attrs:
        return cases
    return cases_mod.read_cases(cases, model)


# ----------------------------------------------------------------------------
# The update


@dataclass(frozen=True)
class UpdateResult:
    """What the cases did to the priors.

    ``links``: one row per link (``link``, ``source``, ``target``,
    ``prior_weight``, ``prior_sd``, ``posterior_weight``, ``posterior_sd``,
    ``n_both`` = cases that observed both ends, ``updated``: False for lagged
    links and links into explicit-table nodes, which EM does not touch).
    ``nodes``: one row per node (``node``, ``kind`` root/links/table,
    ``n_observed``, ``prior_ess``, ``posterior_ess``).
    ``theory``/``model``: the updated programme theory and its network.
    ``trace``: the observed-data log-posterior after each iteration.
    """

    prior_theory: Theory
    theory: Theory
    prior: Model
    model: Model
    cases: pd.DataFrame
    links: pd.DataFrame
    nodes: pd.DataFrame
    counts: Mapping[str, np.ndarray]
    iterations: int
    converged: bool
    trace: tuple[float, ...]

    @property
    def n_cases(self) -> int:
        return len(self.cases)


def update_priors(
    model: Model,
    cases: pd.DataFrame | str | Path,
    *,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
    progress: bool = False,
) -> UpdateResult:
    """Update a programme theory's priors with case data (blanks allowed anywhere).

    ``model`` is a Model built from a priors folder (a Theory: ``build_model(theory)``); ``cases`` a
    case CSV path or DataFrame (see :mod:`bayes_cmo.cases`). Returns an
    :class:`UpdateResult`; write it with :func:`bayes_cmo.priors_io.write_priors`.
    """
    _validate.instance(model, "model", Model, "a Model (build_model(theory) or load_model(path))")
    if model.theory is None:
        raise BayesCMOError(
            f"{model.source}: updating needs a priors folder (link weights and confidences); a network file has point probabilities only"
        )
    _validate.point_values(model.network.batch_size, "model")
    _validate.integer(max_iter, "max_iter")
    _validate.positive(tol, "tol")
    theory = model.theory
    model = build_model(theory, elicited_parameters(theory), source=model.source)
    cases = _as_cases(cases, model)
    with _one_blas_thread():
        return _update(theory, model, cases, max_iter, tol, progress)


def _update(theory: Theory, model: Model, cases: pd.DataFrame, max_iter: int, tol: float, progress: bool) -> UpdateResult:
    estep = _EStep(model, cases)
    specs = families(theory)
    order = theory.order()
    params = elicited_parameters(theory)
    theta = {node: spec.prior_mode() for node, spec in specs.items()}
    prior_tables = {node: table_array(theory, node) for node in theory.tables}
    roots = [n for n in order if not theory.parents(n) and n not in theory.tables]

    def m_step(counts):
        baselines, tables = {}, {}
        for node in roots:
            alpha = theory.nodes[node].baseline_confidence * np.asarray(theory.nodes[node].baseline) + counts[node]
            baselines[node] = alpha / alpha.sum()
        for node in theory.tables:
            alpha = theory.nodes[node].baseline_confidence * prior_tables[node] + counts[node]
            tables[node] = alpha / alpha.sum(axis=0, keepdims=True)
        for node, spec in specs.items():
            theta[node] = spec.fit(theta[node], counts=counts[node])
        return baselines, tables

    def cpts_of(baselines, tables):
        out = {}
        for node in order:
            if node in tables:
                out[node] = tables[node]
            elif node in baselines:
                out[node] = baselines[node]
            else:
                out[node] = specs[node].probabilities(theta[node]).reshape(model.network.cpts[node].shape)
        return out

    def log_prior(baselines, tables):
        total = 0.0
        for node in roots:
            total += float(theory.nodes[node].baseline_confidence * np.asarray(theory.nodes[node].baseline) @ np.log(baselines[node]))
        for node in theory.tables:
            alpha = theory.nodes[node].baseline_confidence * prior_tables[node]
            total += float(np.sum(np.where(alpha > 0, alpha * np.log(np.clip(tables[node], 1e-300, None)), 0.0)))
        for node, spec in specs.items():
            total += spec.log_prior(theta[node])[0]
        return total

    cpts = dict(model.network.cpts)
    baselines = {node: np.asarray(params.baselines[node], dtype=float) for node in roots}
    tables = {node: prior_tables[node] for node in theory.tables}
    trace: list[float] = []
    converged = len(cases) == 0
    iterations = 0
    bar = None
    if progress and not converged:
        from tqdm import tqdm

        bar = tqdm(total=max_iter, desc="EM", unit="it", leave=False)
    try:
        while not converged:
            # E-step at the current parameters; its forward pass also gives log P(e).
            log_z, per_case = estep(cpts)
            counts = {v: c.sum(axis=0) for v, c in per_case.items()}
            trace.append(float(log_z.sum() + log_prior(baselines, tables)))
            if len(trace) > 1 and abs(trace[-1] - trace[-2]) <= tol * (1.0 + abs(trace[-1])):
                converged = True
                break
            if iterations == max_iter:
                break
            baselines, tables = m_step(counts)
            cpts = cpts_of(baselines, tables)
            iterations += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(log_posterior=f"{trace[-1]:.4f}")
    finally:
        if bar is not None:
            bar.close()
    if not len(cases):
        counts = {v: np.zeros(np.shape(cpts[v])) for v in order}
        per_case = None
    observed = cases_mod.observed_counts(cases)
    new_links, link_rows = {}, []
    posterior_sd: dict[str, float] = {}
    for node, spec in specs.items():
        t = theta[node]
        hess = spec.hessian(t)  # the prior's
        if per_case is not None:
            scores = spec.scores(t, per_case[node])
            hess = hess + scores.T @ scores
        cov = laplace_covariance(hess)
        w, _ = spec.unpack(t)
        for j, link_id in enumerate(spec.links):
            new_links[link_id] = float(w[j])
            posterior_sd[link_id] = float(math.sqrt(max(cov[j, j], 0.0)))

    present = set(cases_mod.node_columns(cases))
    both_observed = {}
    for link in theory.links:
        if link.source in present and link.target in present:
            both_observed[link.id] = int((cases[link.source].notna() & cases[link.target].notna()).sum())
        else:
            both_observed[link.id] = 0
    links = []
    for link in theory.links:
        updated = link.id in new_links
        w = new_links.get(link.id, link.weight)
        sd = posterior_sd.get(link.id, link.weight_sd)
        links.append(
            link.with_weight(w, sd=sd, label_digits=4)
            if updated else link
        )
        link_rows.append(
            {
                "link": link.id,
                "source": link.source,
                "target": link.target,
                "prior_weight": link.weight,
                "prior_sd": link.weight_sd,
                "posterior_weight": w,
                "posterior_sd": sd,
                "n_both": both_observed[link.id],
                "updated": updated,
            }
        )

    nodes, node_rows = {}, []
    for node_id, node in theory.nodes.items():
        n_obs = observed.get(node_id, 0)
        if node_id in specs:
            kind = "links"
            baseline = specs[node_id].implied_baseline(theta[node_id])
        elif node_id in theory.tables:
            kind, baseline = "table", np.asarray(node.baseline)
        else:
            kind, baseline = "root", baselines[node_id]
        baseline = np.clip(baseline, 1e-12, None)
        nodes[node_id] = dataclasses.replace(
            node,
            baseline=tuple(float(p) for p in baseline / baseline.sum()),
            baseline_confidence=float(node.baseline_confidence + n_obs),
        )
        node_rows.append(
            {"node": node_id, "kind": kind, "n_observed": n_obs, "prior_ess": node.baseline_confidence,
             "posterior_ess": node.baseline_confidence + n_obs}
        )
    new_tables = {node: _table_frame(theory, node, tables[node]) for node in theory.tables}
    updated_theory = dataclasses.replace(theory, nodes=nodes, links=tuple(links), tables=new_tables, path=None)
    posterior_model = build_model(updated_theory, source=f"{model.source} updated with {len(cases)} case(s)")
    return UpdateResult(
        prior_theory=theory,
        theory=updated_theory,
        prior=model,
        model=posterior_model,
        cases=cases,
        links=pd.DataFrame(link_rows),
        nodes=pd.DataFrame(node_rows),
        counts=counts,
        iterations=iterations,
        converged=converged,
        trace=tuple(trace),
    )


def _table_frame(theory: Theory, node: str, array: np.ndarray) -> pd.DataFrame:
    """An explicit table array back in the CSV layout (parent columns, then a column per state)."""
    frame = theory.tables[node].copy()
    parents = theory.parents(node)
    child = theory.nodes[node]
    for i, row in frame.iterrows():
        index = tuple(theory.nodes[p].states.index(row[p]) for p in parents)
        for k, state in enumerate(child.states):
            frame.at[i, state] = float(array[(k, *index)])
    return frame
