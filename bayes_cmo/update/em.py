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
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _validate
from .._lazy import pandas as pd
from ..engine import core as _engine
from . import cases as cases_mod
from .._errors import BayesCMOError, ZeroProbabilityEvidence
from .ordered_logit import families, laplace_covariance
from .ordered_logit import one_blas_thread as _one_blas_thread
from ..network.elicitation import elicited_parameters, table_array
from ..network.model import Model, build_model
from ..theory import Theory

DEFAULT_MAX_ITER = 200
#: Equivalent sample size of each CPT column's Dirichlet prior when updating a network file.
DEFAULT_ESS = 10.0
DEFAULT_TOL = 1e-7
METHOD = (
    "MAP expectation-maximisation: exact E-step (batched einsum + reverse differentiation), "
    "Dirichlet posteriors for roots and tables, ordered-logit weights and cutpoints by L-BFGS "
    "with Normal weight priors; Laplace (per-node block) posterior sd"
)


# ----------------------------------------------------------------------------
# E-step: one contraction for all cases, all families by reverse differentiation (_engine.differentiate)


#: Working memory one E-step batch may take (bytes); more cases go through in several batches.
ESTEP_BUDGET_BYTES = 512 * 2**20
#: Arrays per case and CPT cell the E-step holds at once (gradient, family posterior, contraction intermediates).
_ARRAYS_PER_CELL = 4


class _EStep:
    """Family posteriors of a fixed set of cases under changing CPTs.

    A thin wrapper around :func:`bayes_cmo._engine.differentiate`: the cases
    are the evidence sets, and ``cpt * dP(e)/dcpt / P(e)`` is every family's
    posterior per case. The cases go through in batches of ``batch_size``
    (from :data:`ESTEP_BUDGET_BYTES` and the model's size), so 100,000 cases
    need no more memory than one batch; the contraction plan is cached by the
    engine, so EM iterations reuse it.
    """

    def __init__(self, model: Model, cases: pd.DataFrame, batch_size: int | None = None):
        self.net = model.network
        self.n_cases = len(cases)
        self.likelihoods = cases_mod.case_likelihoods(cases, model)
        self.ids = list(cases[cases_mod.ID_COLUMN])
        self.rows = cases.attrs.get("rows", {})
        self.source = cases.attrs.get("source", "cases")
        cells = sum(int(np.size(c)) for c in self.net.cpts.values())
        self.batch_size = int(batch_size or max(1, ESTEP_BUDGET_BYTES // (8 * _ARRAYS_PER_CELL * cells)))
        self._last = None  # (cpts, families) of the last pass when all cases fit in one batch


    def batches(self) -> list[slice]:
        return [slice(i, min(i + self.batch_size, self.n_cases)) for i in range(0, self.n_cases, self.batch_size)]

    def __call__(self, cpts: Mapping[str, np.ndarray], cases: slice = slice(None)) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(log P(e) per case, {node: P(node, parents | case), shaped (E, K, *parent cards)}) for ``cases``."""
        variables = self.net.variables
        first, stop, _ = cases.indices(self.n_cases)
        n = stop - first
        if not n:
            return np.zeros(0), {v: np.zeros((0, *np.shape(cpts[v]))) for v in variables}
        whole = n == self.n_cases
        if whole and self._last is not None and self._last[0] is cpts:
            return self._last[1]  # the Laplace step at the mode the last iteration computed
        net = _engine.with_cpts(self.net, **{v: cpts[v] for v in variables})
        if self.likelihoods:
            likelihoods = {v: lik[cases] for v, lik in self.likelihoods.items()}
            z, grads = _engine.differentiate(net, likelihoods=likelihoods, wrt=variables)
        else:  # every case blank everywhere
            z, grads = _engine.differentiate(net, [{}] * n, wrt=variables)
        if not np.all(z > 0):
            self._zero_probability(first + int(np.argmin(z)))
        families = {}
        for v in variables:
            g = grads[v]
            families[v] = net.cpts[v] * g / z.reshape(-1, *[1] * (g.ndim - 1))
        self._last = (cpts, (np.log(z), families)) if whole else None
        return np.log(z), families

    def totals(self, cpts: Mapping[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        """(sum over cases of log P(e), expected counts per node), batch by batch."""
        log_z = 0.0
        counts = {v: np.zeros(np.shape(cpts[v])) for v in self.net.variables}
        for part in self.batches():
            lz, families = self(cpts, part)
            log_z += float(lz.sum())
            for v, f in families.items():
                counts[v] += f.sum(axis=0)
        return log_z, counts

    def _zero_probability(self, i: int) -> None:
        case = self.ids[i]
        raise ZeroProbabilityEvidence(
            f"{self.source}: {self.rows.get(case, f'row {i}')} (case '{case}'): its findings have "
            "probability zero under the model (an explicit table rules this combination out)"
        )


def expected_counts(model: Model, cases: pd.DataFrame | str | Path) -> dict[str, np.ndarray]:
    """E-step: ``{node: sum over cases of P(node, parents | case)}``, shaped like the node's CPT.

    ``cases`` is a case file or frame (validated with :func:`bayes_cmo.cases.read_cases`).
    Each family's counts sum to the number of cases.
    """
    cases = _as_cases(cases, model)
    return _EStep(model, cases).totals(model.network.cpts)[1]


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
    For a network file (no theory) ``prior_theory``/``theory`` are None,
    ``links`` is empty, every node is of kind ``table``, ``ess`` is the
    equivalent sample size of the Dirichlet priors and ``prior_alpha`` their
    pseudo-counts (see :func:`table_refinement`).
    """

    prior_theory: Theory | None
    theory: Theory | None
    prior: Model
    model: Model
    cases: pd.DataFrame
    links: pd.DataFrame
    nodes: pd.DataFrame
    counts: Mapping[str, np.ndarray]
    iterations: int
    converged: bool
    trace: tuple[float, ...]
    ess: float | None = None
    prior_alpha: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)

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
    ess: float | None = None,
) -> UpdateResult:
    """Update a programme theory's priors with case data (blanks allowed anywhere).

    ``model`` is a Model built from a priors folder (a Theory: ``build_model(theory)``); ``cases`` a
    case CSV path or DataFrame (see :mod:`bayes_cmo.cases`). Returns an
    :class:`UpdateResult`; write it with :func:`bayes_cmo.priors_io.write_priors`.
    """
    _validate.instance(model, "model", Model, "a Model (build_model(theory) or load_model(path))")
    _validate.point_values(model.network.batch_size, "model")
    _validate.integer(max_iter, "max_iter")
    _validate.positive(tol, "tol")
    if model.theory is None:
        ess = DEFAULT_ESS if ess is None else ess
        _validate.positive(ess, "ess")
        cases = _as_cases(cases, model)
        with _one_blas_thread():
            return _update_network(model, cases, float(ess), max_iter, tol, progress)
    if ess is not None:
        raise _validate.InvalidParameter(
            "ess", f"a network-file setting, got {ess!r}; {model.source} is a priors folder, whose nodes carry their own baseline_confidence"
        )
    theory = model.theory
    model = build_model(theory, elicited_parameters(theory), source=model.source)
    cases = _as_cases(cases, model)
    with _one_blas_thread():
        return _update(theory, model, cases, max_iter, tol, progress)


@dataclass(frozen=True)
class _Fixed:
    """What does not change during the EM: the prior model, its ordered-logit families, Dirichlet pseudo-counts.

    ``alpha``: the Dirichlet prior of every node whose CPT is learnt column by
    column (roots and explicit tables of a theory; every node of a network
    file), shaped like its CPT.
    """

    model: Model
    specs: Mapping[str, object]  # node -> ordered-logit Family (nodes built from links)
    alpha: Mapping[str, np.ndarray]
    theory: Theory | None = None

    @classmethod
    def of(cls, theory: Theory, model: Model) -> "_Fixed":
        roots = [n for n in theory.order() if not theory.parents(n) and n not in theory.tables]
        alpha = {n: theory.nodes[n].baseline_confidence * np.asarray(theory.nodes[n].baseline, dtype=float) for n in roots}
        alpha.update({n: theory.nodes[n].baseline_confidence * table_array(theory, n) for n in theory.tables})
        return cls(model, families(theory), alpha, theory)

    @classmethod
    def of_network(cls, model: Model, ess: float) -> "_Fixed":
        """Every CPT column a Dirichlet with ``ess`` pseudo-observations spread as the file's probabilities."""
        return cls(model, {}, {v: ess * np.asarray(c, dtype=float) for v, c in model.network.cpts.items()})


@dataclass(frozen=True)
class _Parameters:
    """One EM iterate: ordered-logit parameters (``theta``) and the column-wise CPTs (``tables``)."""

    theta: Mapping[str, np.ndarray]
    tables: Mapping[str, np.ndarray]

    @classmethod
    def prior(cls, fixed: _Fixed) -> "_Parameters":
        start = dict(fixed.model.network.cpts)
        if fixed.theory is not None:
            params = elicited_parameters(fixed.theory)
            start.update({n: np.asarray(params.baselines[n], dtype=float) for n in fixed.alpha if n not in fixed.theory.tables})
            start.update({n: table_array(fixed.theory, n) for n in fixed.theory.tables})
        return cls(
            theta={node: spec.prior_mode() for node, spec in fixed.specs.items()},
            tables={n: start[n] for n in fixed.alpha},
        )


def _m_step(fixed: _Fixed, current: _Parameters, counts: Mapping[str, np.ndarray]) -> _Parameters:
    """Dirichlet posterior means column by column, the MAP for nodes built from links."""
    tables = {}
    for node, prior in fixed.alpha.items():
        alpha = prior + counts[node]
        tables[node] = alpha / alpha.sum(axis=0, keepdims=True)
    theta = {node: spec.fit(current.theta[node], counts=counts[node]) for node, spec in fixed.specs.items()}
    return _Parameters(theta=theta, tables=tables)


def _cpts(fixed: _Fixed, params: _Parameters) -> dict[str, np.ndarray]:
    out = {}
    for node in fixed.model.variables:
        if node in params.tables:
            out[node] = params.tables[node]
        else:
            shape = fixed.model.network.cpts[node].shape
            out[node] = fixed.specs[node].probabilities(params.theta[node]).reshape(shape)
    return out


def _log_prior(fixed: _Fixed, params: _Parameters) -> float:
    total = 0.0
    for node, alpha in fixed.alpha.items():
        total += float(np.sum(np.where(alpha > 0, alpha * np.log(np.clip(params.tables[node], 1e-300, None)), 0.0)))
    for node, spec in fixed.specs.items():
        total += spec.log_prior(params.theta[node])[0]
    return total


def _converged(trace: Sequence[float], tol: float) -> bool:
    """The observed-data log-posterior changed by less than ``tol * (1 + |value|)``."""
    return len(trace) > 1 and abs(trace[-1] - trace[-2]) <= tol * (1.0 + abs(trace[-1]))


@dataclass(frozen=True)
class _Run:
    params: _Parameters
    cpts: Mapping[str, np.ndarray]
    counts: Mapping[str, np.ndarray]
    trace: tuple[float, ...]
    iterations: int
    converged: bool


def _iterate(fixed: _Fixed, estep: _EStep, max_iter: int, tol: float, progress: bool) -> _Run:
    """EM until the log-posterior settles or ``max_iter`` M-steps; the last E-step is at the returned parameters."""
    params = _Parameters.prior(fixed)
    cpts = dict(fixed.model.network.cpts)
    if not estep.n_cases:
        counts = {v: np.zeros(np.shape(c)) for v, c in cpts.items()}
        return _Run(params, cpts, counts, (), 0, True)
    trace: list[float] = []
    iterations, converged = 0, False
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=max_iter, desc="EM", unit="it", leave=False)
    try:
        while True:
            # E-step at the current parameters; its forward pass also gives log P(e).
            log_z, counts = estep.totals(cpts)
            trace.append(log_z + _log_prior(fixed, params))
            converged = _converged(trace, tol)
            if converged or iterations == max_iter:
                break
            params = _m_step(fixed, params, counts)
            cpts = _cpts(fixed, params)
            iterations += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(log_posterior=f"{trace[-1]:.4f}")
    finally:
        if bar is not None:
            bar.close()
    return _Run(params, cpts, counts, tuple(trace), iterations, converged)


def _laplace_sd(fixed: _Fixed, estep: _EStep, run: _Run) -> tuple[dict[str, float], dict[str, float]]:
    """Posterior weight and sd of every link EM fitted: the prior's Hessian plus the per-case score outer products."""
    information = {node: spec.hessian(run.params.theta[node]) for node, spec in fixed.specs.items()}
    if estep.n_cases and fixed.specs:
        for part in estep.batches():  # one more pass at the mode, batch by batch
            _, families = estep(run.cpts, part)
            for node, spec in fixed.specs.items():
                scores = spec.scores(run.params.theta[node], families[node])
                information[node] = information[node] + scores.T @ scores
    weights, sds = {}, {}
    for node, spec in fixed.specs.items():
        cov = laplace_covariance(information[node])
        w, _ = spec.unpack(run.params.theta[node])
        for j, link_id in enumerate(spec.links):
            weights[link_id] = float(w[j])
            sds[link_id] = float(math.sqrt(max(cov[j, j], 0.0)))
    return weights, sds


def _updated_links(theory: Theory, cases: pd.DataFrame, weights, sds) -> tuple[tuple, pd.DataFrame]:
    """The links with their posterior weights, and the links table of :class:`UpdateResult`."""
    present = set(cases_mod.node_columns(cases))
    # one notna() for all links: every column access on a frame with attrs deep-copies them (1.8 s on the shipped priors)
    seen = pd.DataFrame(cases[sorted(present)].notna().to_numpy(), columns=sorted(present))
    links, rows = [], []
    for link in theory.links:
        updated = link.id in weights
        w = weights.get(link.id, link.weight)
        sd = sds.get(link.id, link.weight_sd)
        links.append(
            link.with_weight(w, sd=sd, label_digits=4)
            if updated else link
        )
        both = int((seen[link.source] & seen[link.target]).sum()) if {link.source, link.target} <= present else 0
        rows.append(
            {
                "link": link.id,
                "source": link.source,
                "target": link.target,
                "prior_weight": link.weight,
                "prior_sd": link.weight_sd,
                "posterior_weight": w,
                "posterior_sd": sd,
                "n_both": both,
                "updated": updated,
            }
        )
    return tuple(links), pd.DataFrame(rows)


def _updated_nodes(fixed: _Fixed, params: _Parameters, cases: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """The nodes with posterior baselines and equivalent sample sizes, and the nodes table of :class:`UpdateResult`."""
    observed = cases_mod.observed_counts(cases)
    nodes, rows = {}, []
    for node_id, node in fixed.theory.nodes.items():  # a theory's update
        n_obs = observed.get(node_id, 0)
        if node_id in fixed.specs:
            kind, baseline = "links", fixed.specs[node_id].implied_baseline(params.theta[node_id])
        elif node_id in fixed.theory.tables:
            kind, baseline = "table", np.asarray(node.baseline)
        else:
            kind, baseline = "root", params.tables[node_id]
        baseline = np.clip(baseline, 1e-12, None)
        nodes[node_id] = dataclasses.replace(
            node,
            baseline=tuple(float(p) for p in baseline / baseline.sum()),
            baseline_confidence=float(node.baseline_confidence + n_obs),
        )
        rows.append(
            {"node": node_id, "kind": kind, "n_observed": n_obs, "prior_ess": node.baseline_confidence,
             "posterior_ess": node.baseline_confidence + n_obs}
        )
    return nodes, pd.DataFrame(rows)


def _update(theory: Theory, model: Model, cases: pd.DataFrame, max_iter: int, tol: float, progress: bool) -> UpdateResult:
    fixed = _Fixed.of(theory, model)
    estep = _EStep(model, cases)
    run = _iterate(fixed, estep, max_iter, tol, progress)
    weights, sds = _laplace_sd(fixed, estep, run)
    links, link_table = _updated_links(theory, cases, weights, sds)
    nodes, node_table = _updated_nodes(fixed, run.params, cases)
    new_tables = {node: _table_frame(theory, node, run.params.tables[node]) for node in theory.tables}
    updated_theory = dataclasses.replace(theory, nodes=nodes, links=links, tables=new_tables, path=None)
    return UpdateResult(
        prior_theory=theory,
        theory=updated_theory,
        prior=model,
        model=build_model(updated_theory, source=f"{model.source} updated with {len(cases)} case(s)"),
        cases=cases,
        links=link_table,
        nodes=node_table,
        counts=run.counts,
        iterations=run.iterations,
        converged=run.converged,
        trace=run.trace,
    )


def _update_network(model: Model, cases: pd.DataFrame, ess: float, max_iter: int, tol: float, progress: bool) -> UpdateResult:
    """EM on a network file: every CPT column a Dirichlet(``ess`` x the file's column), posterior means."""
    fixed = _Fixed.of_network(model, ess)
    estep = _EStep(model, cases)
    run = _iterate(fixed, estep, max_iter, tol, progress)
    observed = cases_mod.observed_counts(cases)
    nodes = pd.DataFrame(
        [{"node": v, "kind": "table", "n_observed": observed.get(v, 0), "prior_ess": ess, "posterior_ess": ess + observed.get(v, 0)}
         for v in model.variables]
    )
    network = _engine.with_cpts(model.network, **{v: np.asarray(run.cpts[v]) for v in model.variables})
    posterior = dataclasses.replace(model, network=network, source=f"{model.source} updated with {len(cases)} case(s)")
    links = pd.DataFrame(columns=["link", "source", "target", "prior_weight", "prior_sd", "posterior_weight", "posterior_sd", "n_both", "updated"])
    return UpdateResult(
        prior_theory=None, theory=None, prior=model, model=posterior, cases=cases, links=links, nodes=nodes,
        counts=run.counts, iterations=run.iterations, converged=run.converged, trace=run.trace,
        ess=ess, prior_alpha=dict(fixed.alpha),
    )


def table_refinement(result: UpdateResult, level: float = 0.9) -> pd.DataFrame:
    """Prior vs posterior CPT columns of a network-file update, one row per node, parent configuration and state.

    Columns: ``node``, ``parents`` (``A=a0, B=b1``; empty for a root), ``state``,
    ``prior_p``, ``prior_low``, ``prior_high``, ``posterior_p``, ``posterior_low``,
    ``posterior_high`` (central ``level`` intervals of the Dirichlet's Beta
    marginals: prior ``alpha``, posterior ``alpha`` + the expected counts at the
    estimate), ``n_column`` (expected cases in that parent configuration) and
    ``changed``: True when the posterior interval excludes the prior value.
    """
    from scipy.stats import beta as _beta

    if not result.prior_alpha:
        raise BayesCMOError("table_refinement needs the update of a network file (refine() reports a theory's links)")
    if not 0.0 < level < 1.0:
        raise BayesCMOError(f"The 'level' parameter of table_refinement must be between 0 and 1. Got {level!r} instead.")
    tail = (1.0 - level) / 2.0
    net = result.prior.network
    rows = []
    for v in net.variables:
        prior = np.asarray(result.prior_alpha[v], dtype=float)
        post = prior + result.counts[v]
        parents = net.parents[v]
        grids = [range(len(net.states[p])) for p in parents]
        for config in itertools.product(*grids):
            a0, a1 = prior[(slice(None), *config)], post[(slice(None), *config)]
            names = ", ".join(f"{p}={net.states[p][i]}" for p, i in zip(parents, config, strict=True))
            for k, state in enumerate(net.states[v]):
                lo0, hi0 = _beta.ppf([tail, 1 - tail], a0[k], a0.sum() - a0[k]) if 0 < a0[k] < a0.sum() else (a0[k] / a0.sum(),) * 2
                lo1, hi1 = _beta.ppf([tail, 1 - tail], a1[k], a1.sum() - a1[k]) if 0 < a1[k] < a1.sum() else (a1[k] / a1.sum(),) * 2
                p0 = a0[k] / a0.sum()
                rows.append(
                    {"node": v, "parents": names, "state": state, "prior_p": p0, "prior_low": float(lo0), "prior_high": float(hi0),
                     "posterior_p": float(result.model.network.cpts[v][(k, *config)]), "posterior_low": float(lo1),
                     "posterior_high": float(hi1), "n_column": float(a1.sum() - a0.sum()),
                     "changed": bool(p0 < lo1 or p0 > hi1)}
                )
    return pd.DataFrame(rows)


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
