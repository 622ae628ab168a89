"""How many cases? Preposterior simulation for one CMO link.

For each replicate study:

1. draw a "true" programme theory from the priors (every link weight and
   baseline from its second-order distribution, :func:`draw_parameters`);
2. simulate a phase-2 study of ``max(n)`` cases from it
   (:func:`bayes_cmo.simulate.simulate_cases`): only the ``coded`` nodes are
   recorded, each cell blank with probability ``missing``;
3. for each n in the grid, update the link on the first n cases and record the
   credible interval of its weight and whether the posterior gets its sign
   right. The grid shares cases (study n=20 extends study n=10), so the
   curve is smooth and monotone in expectation.

The update fits the family of the link's target node — the weights of every
link into it and its cutpoints — by maximum a posteriori under the Normal
priors (weights: Normal(elicited weight, weight_sd); cutpoints: the node's
Dirichlet(ess * baseline) on the baseline they imply, each state's parameter
floored at 1.5 so an unobserved state cannot be pushed to probability 0), with
the rest of the network held at its elicited values, and a Laplace
(Normal) approximation for the interval. Blanks are handled exactly: with the
family's CPT factored out, the engine gives each case's likelihood over the
family's configurations once (one batched contraction for all replicates), and
the observed-data likelihood of the family parameters is then a small sum.

``prior="sceptical"`` analyses the studied link with a Normal(0, 2) prior
instead of the elicited one: "how many cases until the data alone settle it".
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from scipy.stats import norm

from . import _engine
from ._errors import BayesCMOError, did_you_mean
from .elicitation import Parameters, build_cpts, draw_parameters, elicited_parameters, link_design
from .network import Model
from .sensitivity import _logit_sd
from .simulate import simulate_cases
from .theory import Theory

#: sd of the sceptical prior on the studied weight (log-odds): 95% within +/-4.
SCEPTICAL_SD = 2.0
#: Smallest Dirichlet parameter of a baseline state in the update (see _Family).
ALPHA_FLOOR = 1.5
#: Default grid of study sizes.
DEFAULT_N = (10, 20, 40, 80)
#: Cases per engine contraction (bounds memory).
_CHUNK = 200

__all__ = ["DEFAULT_N", "sample_size"]


def _check_args(n, missing, replicates, level, prior):
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
        n = (n,)
    try:
        grid = sorted({int(v) for v in n})
    except (TypeError, ValueError):
        raise BayesCMOError(f"The 'n' parameter of sample_size must be a list of positive integers. Got {n!r} instead.") from None
    if not grid or grid[0] < 1 or any(not float(v).is_integer() for v in n):
        raise BayesCMOError(f"The 'n' parameter of sample_size must be a list of positive integers. Got {n!r} instead.")
    if isinstance(missing, bool) or not isinstance(missing, (int, float)) or not 0.0 <= missing < 1.0:
        raise BayesCMOError(f"The 'missing' parameter of sample_size must be a number in [0, 1). Got {missing!r} instead.")
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 2:
        raise BayesCMOError(f"The 'replicates' parameter of sample_size must be an integer >= 2. Got {replicates!r} instead.")
    if not isinstance(level, (int, float)) or not 0.0 < level < 1.0:
        raise BayesCMOError(f"The 'level' parameter of sample_size must be between 0 and 1. Got {level!r} instead.")
    if prior not in ("elicited", "sceptical"):
        raise BayesCMOError(
            f"The 'prior' parameter of sample_size must be 'elicited' or 'sceptical'. Got {prior!r} instead."
            f"{did_you_mean(str(prior), ['elicited', 'sceptical'])}"
        )
    return grid


class _Family:
    """The ordered-logit family of one node: parameters, priors, log posterior and gradient."""

    def __init__(self, theory: Theory, node: str, studied: str, prior: str):
        self.node = node
        self.links = list(theory.links_into(node))
        self.k = theory.nodes[node].card
        self.designs = np.stack([link_design(theory, link).ravel() for link in self.links])  # (L, P)
        self.index = [link.id for link in self.links].index(studied)
        node_ = theory.nodes[node]
        base = np.clip(np.asarray(node_.baseline, dtype=float), 1e-6, 1.0)
        base = base / base.sum()
        cum = np.clip(np.cumsum(base)[:-1], 1e-6, 1 - 1e-6)
        # Dirichlet(ess * baseline) on the node's baseline, floored so that a state no small
        # study happens to observe cannot have its probability pushed to zero.
        self.alpha = np.maximum(node_.baseline_confidence * base, ALPHA_FLOOR)
        self.n_links = len(self.links)
        self.mean = np.concatenate([[link.weight for link in self.links], logit(cum)])
        # sds: weights' Normal priors; for cutpoints only a scale for the scoring steps
        self.sd = np.concatenate([[link.weight_sd for link in self.links], _logit_sd(node_.baseline_confidence, cum)])
        if prior == "sceptical":
            self.mean[self.index], self.sd[self.index] = 0.0, SCEPTICAL_SD

    def _log_prior(self, theta):
        """Log prior density (up to a constant) and its gradient.

        Weights: Normal(mean, sd). Cutpoints: the Dirichlet(alpha) density of the
        baseline they imply, times the Jacobian prod f(c_j) of the map c -> baseline.
        """
        w, cuts = theta[: self.n_links], theta[self.n_links :]
        mw, sw = self.mean[: self.n_links], self.sd[: self.n_links]
        big_f = expit(cuts)
        small_f = big_f * (1.0 - big_f)
        base = np.diff(np.concatenate([[0.0], big_f, [1.0]]))
        if np.any(base <= 0):  # crossed cutpoints: not an ordered logit
            return -np.inf, np.zeros_like(theta)
        value = -0.5 * np.sum(((w - mw) / sw) ** 2) + np.sum((self.alpha - 1.0) * np.log(base)) + np.sum(np.log(small_f))
        a = (self.alpha - 1.0) / base
        grad_c = small_f * (a[:-1] - a[1:]) + (1.0 - 2.0 * big_f)
        return value, np.concatenate([-(w - mw) / sw**2, grad_c])

    def _pieces(self, theta):
        n_links = len(self.links)
        eta = theta[:n_links] @ self.designs  # (P,)
        cuts = theta[n_links:]
        z = cuts[:, None] - eta[None, :]  # (K-1, P)
        cdf = np.concatenate([np.zeros((1, eta.size)), expit(z), np.ones((1, eta.size))])
        dens = np.concatenate([np.zeros((1, eta.size)), expit(z) * expit(-z), np.zeros((1, eta.size))])
        pi = np.maximum(np.diff(cdf, axis=0), 1e-300)  # (K, P)
        return pi, dens

    def _jacobian(self, theta):
        """pi (K, P) and d pi / d theta (K * P, n_params)."""
        pi, dens = self._pieces(theta)
        n_links = len(self.links)
        k, p = pi.shape
        jac = np.zeros((k, p, theta.size))
        # d pi(b) / d eta = -(f(c_b - eta) - f(c_{b-1} - eta)), and eta is linear in the weights
        jac[:, :, :n_links] = (-(dens[1:] - dens[:-1]))[:, :, None] * self.designs.T[None, :, :]
        # cutpoint c_j bounds state j from above and state j + 1 from below
        for j in range(k - 1):
            jac[j, :, n_links + j] = dens[j + 1]
            jac[j + 1, :, n_links + j] = -dens[j + 1]
        return pi, jac.reshape(k * p, theta.size)

    def objective(self, theta, q, per_case=False):
        """Negative log posterior and its gradient (and per-case score vectors).

        ``q`` is (cases, K * P): each case's likelihood of every family
        configuration with the family's own CPT factored out, so a case's
        likelihood is ``q @ pi`` and its score ``(q / lik) @ d pi / d theta``.
        """
        pi, jac = self._jacobian(theta)
        lik = q @ pi.ravel()  # (cases,)
        scores = (q / lik[:, None]) @ jac  # (cases, n_params)
        log_prior, prior_grad = self._log_prior(theta)
        with np.errstate(divide="ignore"):
            value = -np.log(lik).sum() - log_prior
        grad = -scores.sum(axis=0) - prior_grad
        return (value, grad, scores) if per_case else (value, grad)

    def hessian(self, theta, q, h=1e-5):
        """Hessian of the negative log posterior: central differences of the analytic gradient."""
        size = theta.size
        hess = np.empty((size, size))
        for j in range(size):
            step = np.zeros(size)
            step[j] = h
            hess[:, j] = (self.objective(theta + step, q)[1] - self.objective(theta - step, q)[1]) / (2 * h)
        return 0.5 * (hess + hess.T)

    def fit(self, q, start, max_iter=100):
        """(MAP, Laplace sd of the studied weight).

        Scoring steps with the outer product of the per-case scores plus the
        prior precision (always positive definite, so always a descent
        direction) and backtracking; then the exact Hessian (finite
        differences of the analytic gradient) for the Laplace sd.
        """
        theta = np.asarray(start, dtype=float).copy()
        precision = np.diag(1.0 / self.sd**2)
        value, grad, scores = self.objective(theta, q, per_case=True)
        for _ in range(max_iter):
            step = np.linalg.solve(scores.T @ scores + precision, grad)
            t = 1.0
            while True:
                new = theta - t * step
                new_value, new_grad, new_scores = self.objective(new, q, per_case=True)
                if np.isfinite(new_value) and new_value <= value - 1e-4 * t * (grad @ step):
                    break
                t *= 0.5
                if t < 1e-8:
                    new, new_value, new_grad, new_scores = theta, value, grad, scores
                    break
            moved = np.max(np.abs(new - theta))
            theta, value, grad, scores = new, new_value, new_grad, new_scores
            if moved < 1e-8:
                break
        vals, vecs = np.linalg.eigh(self.hessian(theta, q))
        if vals.min() <= 0:
            return theta, np.nan
        cov = (vecs / vals) @ vecs.T
        return theta, float(np.sqrt(cov[self.index, self.index]))


def _likelihoods(frames: list[pd.DataFrame], net: _engine.NetworkArrays, coded: list[str]) -> dict[str, np.ndarray]:
    """One (cases, card) likelihood matrix per coded node: one-hot where recorded, ones where blank."""
    out = {}
    for node in coded:
        values = pd.concat([f[node] for f in frames], ignore_index=True)
        codes = pd.Categorical(values, categories=list(net.states[node])).codes  # -1 for blanks
        lik = np.ones((codes.size, len(net.states[node])))
        seen = codes >= 0
        lik[seen] = 0.0
        lik[np.flatnonzero(seen), codes[seen]] = 1.0
        out[node] = lik
    return out


def sample_size(
    model_or_theory: Model | Theory,
    link: str = "legal_agreements:initial_trust",
    n: Sequence[int] | int = DEFAULT_N,
    *,
    coded: Sequence[str] | None = None,
    missing: float = 0.3,
    replicates: int = 100,
    seed: int | None = 0,
    level: float = 0.9,
    prior: str = "elicited",
    progress: bool = True,
) -> pd.DataFrame:
    """Expected precision of a link's weight after a phase-2 study of n cases.

    Returns one row per n with ``n``; ``expected_ci_width`` (mean width of the
    central ``level`` credible interval of the link weight, log-odds);
    ``ci_width_low`` / ``ci_width_high`` (10th / 90th percentile of that width
    across replicate studies); ``p_sign_correct`` (share of studies whose
    posterior mean has the true weight's sign); ``p_excludes_zero`` (share
    whose interval excludes 0: the study "says whether the link matters");
    ``replicates``. ``coded`` lists the nodes the case studies record
    (default: all); ``missing`` is the chance each recorded cell is blank.
    Seeded: same arguments, same table.
    """
    if isinstance(model_or_theory, Model):
        theory = model_or_theory.theory
        if theory is None:
            raise BayesCMOError(
                f"{model_or_theory.source}: a sample-size plan needs a priors folder (link weights and confidences); "
                "a network file has point probabilities only"
            )
    elif isinstance(model_or_theory, Theory):
        theory = model_or_theory
    else:
        raise BayesCMOError(
            f"The 'model_or_theory' parameter of sample_size must be a Model or a Theory. Got {type(model_or_theory).__name__} instead."
        )
    grid = _check_args(n, missing, replicates, level, prior)
    studied = theory.link(link)  # did-you-mean on a typo
    if studied.lag:
        raise BayesCMOError(f"link '{link}' is a feedback (lagged) link; choose a link within one round")
    if studied.target in theory.tables:
        raise BayesCMOError(f"link '{link}': {studied.target} has an explicit CPT table, so the link has no weight to learn")
    if coded is None:
        coded = list(theory.order())
    else:
        coded = [coded] if isinstance(coded, str) else list(dict.fromkeys(coded))
        for node in coded:
            if node not in theory.nodes:
                raise BayesCMOError(f"coded: unknown node '{node}'{did_you_mean(node, theory.nodes)}")
        coded = [v for v in theory.order() if v in coded]

    from tqdm.auto import tqdm

    show = bool(progress) and sys.stderr.isatty()
    order = theory.order()
    states = {v: theory.nodes[v].states for v in order}
    parents = {v: theory.parents(v) for v in order}
    truth = draw_parameters(theory, int(replicates), seed)
    true_cpts = build_cpts(theory, truth)
    true_weight = np.asarray(truth.weights[studied.id])
    rng = np.random.default_rng(seed)
    case_seeds = rng.integers(0, 2**32 - 1, size=int(replicates))
    n_max = grid[-1]

    frames = []
    for r in tqdm(range(int(replicates)), desc="simulating studies", disable=not show, leave=False):
        cpts = {v: (c[r] if c.ndim == len(parents[v]) + 2 else c) for v, c in true_cpts.items()}
        world = Model(network=_engine.NetworkArrays(order, states, parents, cpts), theory=theory)
        frames.append(simulate_cases(world, n_max, missing=float(missing), seed=int(case_seeds[r]), observed=coded))

    # The analysis model: elicited values, the studied family's CPT factored out (uniform).
    target = studied.target
    family = (target, *parents[target])
    point_cpts = build_cpts(theory, elicited_parameters(theory))
    shape = (states[target].__len__(), *(len(states[p]) for p in parents[target]))
    point_cpts[target] = np.full(shape, 1.0 / shape[0])
    analysis = _engine.NetworkArrays(order, states, parents, point_cpts)
    liks = _likelihoods(frames, analysis, coded)
    total = int(replicates) * n_max
    q = np.empty((total, int(np.prod(shape))))
    for start in range(0, total, _CHUNK):
        part = {v: m[start : start + _CHUNK] for v, m in liks.items()}
        q[start : start + _CHUNK] = _engine.query(analysis, list(family), likelihoods=part).reshape(-1, q.shape[1])
    q = q.reshape(int(replicates), n_max, -1)

    fam = _Family(theory, target, studied.id, prior)
    z = norm.ppf(0.5 + level / 2.0)
    means = np.full((int(replicates), len(grid)), np.nan)
    sds = np.full_like(means, np.nan)
    for r in tqdm(range(int(replicates)), desc="updating", disable=not show, leave=False):
        start = fam.mean.copy()
        for i, size in enumerate(grid):
            theta, sd = fam.fit(q[r, :size], start)
            means[r, i], sds[r, i] = theta[fam.index], sd
            start = theta  # warm start: the next study extends this one

    rows = []
    true_sign = np.sign(true_weight)
    for i, size in enumerate(grid):
        ok = np.isfinite(sds[:, i])
        width = 2.0 * z * sds[ok, i]
        rows.append(
            {
                "n": size,
                "expected_ci_width": float(width.mean()),
                "ci_width_low": float(np.quantile(width, 0.1)),
                "ci_width_high": float(np.quantile(width, 0.9)),
                "p_sign_correct": float(np.mean(np.sign(means[ok, i]) == true_sign[ok])),
                "p_excludes_zero": float(np.mean(np.abs(means[ok, i]) > z * sds[ok, i])),
                "replicates": int(ok.sum()),
            }
        )
    # The prior alone (n = 0), for reference in plots and reports.
    frame = pd.DataFrame(rows)
    frame.attrs.update(
        link=studied.id,
        prior_ci_width=float(2.0 * z * fam.sd[fam.index]),
        prior_p_sign_correct=float(np.mean(np.sign(fam.mean[fam.index]) == true_sign)) if fam.mean[fam.index] else 0.5,
        level=level,
        missing=missing,
        coded=list(coded),
        prior=prior,
    )
    return frame
