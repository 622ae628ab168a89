"""The ordered-logit family of one node: parameters, prior, likelihood, MAP fit, Laplace.

A node built from link weights (see :mod:`bayes_cmo.elicitation`) has

    eta(u)          = sum over links l into the node of  w_l * design_l(u)
    P(Y <= k | u)   = expit(c_k - eta(u))

over its parent configurations ``u`` (``design_l`` is
:func:`bayes_cmo.elicitation.link_design`, flattened). This module is the one
statistical model of such a family used to learn from cases, both by EM
(:mod:`bayes_cmo.update`, from expected counts) and by the direct fit of the
sample-size planner (:mod:`bayes_cmo.sample_size`, from per-case likelihoods).

Parameters
    ``theta = (w_1 .. w_L, a_1 .. a_{K-1})`` with cutpoints ``c_1 = a_1``,
    ``c_j = c_{j-1} + exp(a_j)``: any theta gives ordered cutpoints, so the
    optimiser needs no constraints.

Prior
    * weights: independent ``Normal(elicited weight, weight_sd)``;
    * cutpoints: the baseline they imply (the distribution at eta = 0,
      ``pi0(c)``) gets ``ess * baseline`` pseudo-observations at eta = 0:
      ``log prior = sum_k ess * baseline_k * log pi0_k(c)``, the Dirichlet
      kernel with exponent ``ess * baseline`` (``ess`` = the node's
      ``baseline_confidence``). Its mode is exactly ``pi0 = baseline`` (the
      multinomial maximum-likelihood point of the pseudo-counts) whatever the
      number of states, so with no cases the MAP reproduces the elicited
      numbers exactly; and every state with a positive baseline keeps a
      positive pseudo-count, so a state that a small study never observes
      cannot be pushed to probability zero. (The Dirichlet *density* with the
      Jacobian of ``c -> baseline`` has its mode elsewhere when K > 2 and
      needs a floor on small parameters; it is not used.)

Data
    (a) expected counts ``n`` shaped ``(K, P)`` (EM M-step):
        ``log lik = sum n * log pi``;
    (b) per-case likelihood vectors ``q`` shaped ``(E, K * P)``: each case's
        likelihood of every family configuration with the family's own CPT
        factored out, so ``log lik = sum_i log(q_i @ pi)`` (blanks exact).

Gradients and Hessians are analytic, by the chain rule through pi per parent
configuration (the (K * P, n_params) Jacobian is never formed in a fit). The
MAP is found by L-BFGS-B; the Laplace precision is the analytic Hessian
(optionally of the prior alone, for callers that add their own observed-data
information).

The forward probabilities are the model of
:func:`bayes_cmo.elicitation.ordered_logit` (tests check they equal
:func:`~bayes_cmo.elicitation.build_cpts`), computed here from the cutpoints
directly: ``ordered_logit`` takes a baseline, so using it would send the
cutpoints through ``logit(cumsum(diff(expit(c))))`` and back, and the logistic
densities that every derivative needs would be computed a second time.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from ..network.elicitation import link_designs
from ..theory import Theory

#: L-BFGS-B settings of the MAP fit.
_OPTIONS = {"maxiter": 500, "ftol": 1e-13, "gtol": 1e-9}
#: Floor on probabilities inside logarithms and ratios.
_TINY = 1e-300


@dataclass(frozen=True, eq=False)
class Family:
    """Design and prior of one ordered-logit node; every function of theta."""

    node: str
    links: tuple[str, ...]  # link ids, in ``theory.links_into(node)`` order
    design: np.ndarray  # (L, P): link designs over the flattened parent grid
    prior_mean: np.ndarray  # (L,) weight prior means
    prior_sd: np.ndarray  # (L,) weight prior sds
    baseline: np.ndarray  # (K,) elicited baseline (distribution at eta = 0)
    ess: float  # pseudo-observations behind the baseline

    @classmethod
    def from_theory(cls, theory: Theory, node: str) -> Family:
        links = theory.links_into(node)
        n = theory.nodes[node]
        return cls(
            node=node,
            links=tuple(link.id for link in links),
            design=np.ascontiguousarray(link_designs(theory, node).T),
            prior_mean=np.array([link.weight for link in links], dtype=float),
            prior_sd=np.array([link.weight_sd for link in links], dtype=float),
            baseline=np.asarray(n.baseline, dtype=float),
            ess=float(n.baseline_confidence),
        )

    # -- parameters ------------------------------------------------------------

    @property
    def card(self) -> int:
        return self.baseline.size

    @property
    def n_links(self) -> int:
        return len(self.links)

    @property
    def pseudo(self) -> np.ndarray:
        """(K,) the baseline's pseudo-counts ``ess * baseline``."""
        return self.ess * self.baseline

    def pack(self, weights, baseline) -> np.ndarray:
        """theta from weights and the baseline the cutpoints should reproduce."""
        from scipy.special import logit  # lazy: scipy.special is slow to import, and queries never fit

        cut = logit(np.clip(np.cumsum(np.asarray(baseline, dtype=float))[:-1], 1e-12, 1 - 1e-12))
        gaps = np.maximum(np.diff(cut), 1e-8)
        return np.concatenate([np.asarray(weights, dtype=float).ravel(), cut[:1], np.log(gaps)])

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(weights (L,), ordered cutpoints (K-1,))."""
        return theta[: self.n_links], np.cumsum(self._steps(theta))

    def _steps(self, theta: np.ndarray) -> np.ndarray:
        """The cutpoint increments ``(c_1, c_2 - c_1, ...) = (a_1, exp(a_2), ...)``."""
        a = theta[self.n_links :]
        return np.concatenate([a[:1], np.exp(a[1:])])

    def prior_mode(self) -> np.ndarray:
        """theta at the prior's mode: the prior mean weights, cutpoints reproducing the baseline."""
        return self.pack(self.prior_mean, self.baseline)

    # -- probabilities -----------------------------------------------------------

    def _cdf(self, theta: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """pi (K, P) at linear predictors ``eta`` (P,), and the logistic densities (K+1, P), zero-padded."""
        from scipy.special import expit  # lazy (see pack)

        _, cut = self.unpack(theta)
        big = expit(cut[:, None] - eta[None, :])  # (K-1, P)
        edge = np.zeros((1, eta.size))
        pi = np.diff(np.concatenate([edge, big, edge + 1.0]), axis=0)
        dens = np.concatenate([edge, big * (1.0 - big), edge])
        return pi, dens

    def probabilities(self, theta: np.ndarray) -> np.ndarray:
        """The node's CPT, ``(K, P)`` over the flattened parent grid."""
        return self._cdf(theta, theta[: self.n_links] @ self.design)[0]

    def implied_baseline(self, theta: np.ndarray) -> np.ndarray:
        """(K,) the distribution at eta = 0."""
        return self._cdf(theta, np.zeros(1))[0][:, 0]

    def _jacobian_at(self, theta: np.ndarray, design: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pi, dens = self._cdf(theta, theta[: self.n_links] @ design)
        k, p = pi.shape
        jac = np.empty((k, p, theta.size))
        # d pi_k / d eta = -(f(c_k - eta) - f(c_{k-1} - eta)); eta is linear in the weights
        jac[:, :, : self.n_links] = (dens[:-1] - dens[1:])[:, :, None] * design.T[None, :, :]
        # cutpoint c_j bounds state j from above and state j + 1 from below
        d_cut = np.zeros((k, p, k - 1))
        j = np.arange(k - 1)
        d_cut[j, :, j] = dens[1:-1]
        d_cut[j + 1, :, j] -= dens[1:-1]
        jac[:, :, self.n_links :] = self._to_gaps(theta, d_cut)
        return pi, jac.reshape(k * p, theta.size)

    def _to_gaps(self, theta: np.ndarray, d_cut: np.ndarray) -> np.ndarray:
        """Derivatives in the cutpoints (..., K-1) to derivatives in theta's cutpoint part.

        c_j = a_1 + sum_{m=2..j} exp(a_m), so d/da_1 = sum_j d/dc_j and
        d/da_m = exp(a_m) * sum_{j >= m} d/dc_j.
        """
        scale = self._steps(theta)
        scale[0] = 1.0
        return np.cumsum(d_cut[..., ::-1], axis=-1)[..., ::-1] * scale

    def jacobian(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """pi (K, P) and d pi / d theta, ``(K * P, n_params)`` (rows in ``pi.ravel()`` order)."""
        return self._jacobian_at(theta, self.design)

    # -- prior, posterior --------------------------------------------------------

    def _local(self, theta: np.ndarray, design: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """pi (K, P), logistic densities f and their slopes f' at the cutpoints (K-1, P), for ``design`` (L, P)."""
        from scipy.special import expit  # lazy (see pack)

        _, cut = self.unpack(theta)
        big = expit(cut[:, None] - theta[: self.n_links] @ design)  # (K-1, P)
        edge = np.zeros((1, big.shape[1]))
        pi = np.diff(np.concatenate([edge, big, edge + 1.0]), axis=0)
        dens = big * (1.0 - big)
        return pi, dens, dens * (1.0 - 2.0 * big)

    @staticmethod
    def _local_gradient(dens: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chain rule through pi without the Jacobian: cotangent ``r = d/d pi`` (..., K, P) to (d/d eta (..., P), d/d c (..., K-1, P)).

        State k lies between cutpoints k-1 and k: d pi_k / d c_k = f_k, d pi_{k+1} / d c_k = -f_k,
        and eta shifts every cutpoint down, so d/d eta = -sum_j d/d c_j.
        """
        d_cut = dens * (r[..., :-1, :] - r[..., 1:, :])
        return -d_cut.sum(axis=-2), d_cut

    def _gradient(self, theta: np.ndarray, design: np.ndarray, d_eta: np.ndarray, d_cut: np.ndarray) -> np.ndarray:
        """(..., n_params) from d/d eta (..., P) and d/d c (..., K-1, P): eta is linear in the weights."""
        return np.concatenate([d_eta @ design.T, self._to_gaps(theta, d_cut.sum(axis=-1))], axis=-1)

    def _hessian(self, theta: np.ndarray, design: np.ndarray, dens, slope, r: np.ndarray, s: np.ndarray | None) -> np.ndarray:
        """Hessian in theta of a log-likelihood with cotangent ``r`` = dl/d pi (K, P) and, when the likelihood is
        ``sum n log pi``, curvature ``s`` = n / pi^2 (the caller adds any other second-order term).

        Per configuration, in local coordinates (eta, c_1 .. c_{K-1}): sum_k r_k * d2 pi_k - sum_k s_k g_k g_k^T
        with g_k = d pi_k; then eta -> weights (linear) and c -> log gaps (c_j = a_1 + sum_{2..j} exp(a_m)).
        """
        k, p = r.shape
        m = k - 1
        # sum_k r_k d2 pi_k: c_j-c_j and eta-eta curvature f'_j (r_j - r_{j+1}); eta-c_j the negative
        t = slope * (r[:-1] - r[1:])  # (K-1, P)
        local = np.zeros((p, k, k))
        local[:, 0, 0] = t.sum(axis=0)
        local[:, 0, 1:] = local[:, 1:, 0] = -t.T
        idx = np.arange(1, k)
        local[:, idx, idx] = t.T
        if s is not None:
            g = np.zeros((p, k, k))  # [config, state, local coordinate]
            pad = np.concatenate([np.zeros((1, p)), dens, np.zeros((1, p))])
            g[:, :, 0] = (pad[:-1] - pad[1:]).T
            j = np.arange(m)
            g[:, j, j + 1] = dens.T
            g[:, j + 1, j + 1] = -dens.T
            local -= np.einsum("pk,pka,pkb->pab", s.T, g, g)
        n = self.n_links
        out = np.empty((n + m, n + m))
        out[:n, :n] = (design * local[:, 0, 0]) @ design.T
        wc = design @ local[:, 0, 1:]  # (L, K-1)
        cc = local[:, 1:, 1:].sum(axis=0)
        scale = self._steps(theta)
        scale[0] = 1.0
        jc = np.tril(np.ones((m, m))) * scale  # dc_j / da_m
        out[:n, n:] = wc @ jc
        out[n:, :n] = out[:n, n:].T
        out[n:, n:] = jc.T @ cc @ jc
        d_cut = (dens * (r[:-1] - r[1:])).sum(axis=1)  # dl/dc
        extra = np.cumsum(d_cut[::-1])[::-1] * scale  # d2 c_j / da_m^2 = exp(a_m) for 2 <= m <= j
        extra[0] = 0.0
        out[n:, n:] += np.diag(extra)
        return out

    def log_prior(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Log prior density (up to a constant) and its gradient (see the module docstring)."""
        z = (theta[: self.n_links] - self.prior_mean) / self.prior_sd
        pi0, dens0, _ = self._local(theta, self._origin)
        pseudo, safe = self.pseudo, np.maximum(pi0[:, 0], _TINY)
        value = float(np.where(pseudo > 0, pseudo * np.log(safe), 0.0).sum()) - 0.5 * float(z @ z)
        # pi0_j falls and pi0_{j+1} rises with c_j at rate f(c_j) (cf. _local_gradient)
        ratio = pseudo / safe
        d_cut = dens0[:, 0] * (ratio[:-1] - ratio[1:])
        return value, np.concatenate([-z / self.prior_sd, self._to_gaps(theta, d_cut)])

    @property
    def _origin(self) -> np.ndarray:
        """(L, 1) the design of the one configuration at eta = 0, where the baseline prior sits."""
        return np.zeros((self.n_links, 1))

    def _log_prior_hessian(self, theta: np.ndarray) -> np.ndarray:
        pi0, dens0, slope0 = self._local(theta, self._origin)
        pseudo = self.pseudo[:, None]
        safe = np.maximum(pi0, _TINY)
        out = self._hessian(theta, self._origin, dens0, slope0, pseudo / safe, pseudo / safe**2)
        out[: self.n_links, : self.n_links] -= np.diag(1.0 / self.prior_sd**2)
        return out

    def objective(self, theta: np.ndarray, counts: np.ndarray | None = None, q: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """Negative log posterior and its gradient, given expected ``counts`` (K, P) and/or per-case ``q`` (E, K * P)."""
        value, grad = self.log_prior(theta)
        if counts is None and q is None:
            return -value, -grad
        pi, dens, _ = self._local(theta, self.design)
        safe = np.maximum(pi, _TINY)
        value_data, r = self._data_cotangent(safe, counts, q)
        d_eta, d_cut = self._local_gradient(dens, r)
        return -(value + value_data), -(grad + self._gradient(theta, self.design, d_eta, d_cut))

    @staticmethod
    def _data_cotangent(safe: np.ndarray, counts, q) -> tuple[float, np.ndarray]:
        """(log-likelihood, its derivative in pi (K, P)) of expected counts and/or per-case likelihoods."""
        value, r = 0.0, np.zeros(safe.shape)
        if counts is not None:
            counts = np.reshape(counts, safe.shape)
            value += float(np.where(counts > 0, counts * np.log(safe), 0.0).sum())
            r += counts / safe
        if q is not None:
            with np.errstate(divide="ignore"):
                lik = q @ safe.ravel()  # (E,)
                value += float(np.log(lik).sum())
                r += (q.T @ (1.0 / lik)).reshape(safe.shape)
        return value, r

    def scores(self, theta: np.ndarray, per_case_counts: np.ndarray) -> np.ndarray:
        """(E, n_params) each case's gradient of its log-likelihood, from its expected counts ``(E, K, *parents)``.

        By Fisher's identity the gradient of ``log P(e_i)`` is the expected
        complete-data score under the case's family posterior, so blanks
        reduce the information as they should.
        """
        pi, dens, _ = self._local(theta, self.design)
        r = np.reshape(per_case_counts, (per_case_counts.shape[0], *pi.shape)) / np.maximum(pi, _TINY)
        d_eta, d_cut = self._local_gradient(dens, r)
        return self._gradient(theta, self.design, d_eta, d_cut)

    # -- fit, Laplace ------------------------------------------------------------

    def fit(self, theta0: np.ndarray, counts: np.ndarray | None = None, q: np.ndarray | None = None) -> np.ndarray:
        """The MAP from ``theta0``: L-BFGS-B with the analytic gradient."""
        from scipy.optimize import minimize  # lazy: slow to import, and only fitting needs it

        res = minimize(
            self.objective, np.asarray(theta0, dtype=float), args=(counts, q), jac=True, method="L-BFGS-B", options=_OPTIONS
        )
        return res.x

    def hessian(self, theta: np.ndarray, counts: np.ndarray | None = None, q: np.ndarray | None = None) -> np.ndarray:
        """Hessian of the negative log posterior (the prior alone without data), analytic.

        Counts: ``sum n log pi`` has curvature ``r * d2 pi - (n / pi^2) g g^T``. Per-case ``q``:
        ``sum_i log(q_i @ pi)`` has ``r * d2 pi - sum_i s_i s_i^T`` with ``s_i`` the case's score.
        """
        out = self._log_prior_hessian(theta)
        if counts is None and q is None:
            return -out
        pi, dens, slope = self._local(theta, self.design)
        safe = np.maximum(pi, _TINY)
        if counts is not None:
            counts = np.reshape(counts, pi.shape)
            out += self._hessian(theta, self.design, dens, slope, counts / safe, counts / safe**2)
        if q is not None:
            with np.errstate(divide="ignore"):
                per_case = q / (q @ safe.ravel())[:, None]  # (E, K * P): d log(q_i @ pi) / d pi
            out += self._hessian(theta, self.design, dens, slope, per_case.sum(axis=0).reshape(pi.shape), None)
            d_eta, d_cut = self._local_gradient(dens, per_case.reshape(-1, *pi.shape))
            s = self._gradient(theta, self.design, d_eta, d_cut)
            out -= s.T @ s
        return -0.5 * (out + out.T)


def laplace_covariance(precision: np.ndarray) -> np.ndarray:
    """Inverse of a posterior precision matrix; all NaN if it is not positive definite (no Laplace approximation)."""
    vals, vecs = np.linalg.eigh(precision)
    if vals.min() <= 0:
        return np.full_like(precision, np.nan)
    return (vecs / vals) @ vecs.T


def one_blas_thread():
    """Context for many tiny fits: multithreaded BLAS only adds contention (EM: 20 s vs 6 s measured).

    threadpoolctl limits only the BLAS libraries already loaded, and scipy brings its own OpenBLAS,
    which L-BFGS-B calls: import it first, or every L-BFGS-B step runs on all cores (measured on the
    shipped priors: 70% of the M-step spent in setulb's BLAS under load).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with scikit-learn, a pgmpy dependency
        return contextlib.nullcontext()
    import scipy.optimize  # noqa: F401  (loads scipy's BLAS so that the limit reaches it)

    return threadpool_limits(limits=1, user_api="blas")


def families(theory: Theory) -> dict[str, Family]:
    """Every node built from link weights (has parents, no explicit table), in topological order."""
    return {
        node: Family.from_theory(theory, node)
        for node in theory.order()
        if node not in theory.tables and theory.parents(node)
    }
