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
link into it and its cutpoints — by maximum a posteriori under the family
model of :mod:`bayes_cmo._ordered_logit` (weights: Normal(elicited weight,
weight_sd); cutpoints: ess * baseline pseudo-observations at eta = 0, the same
prior as :mod:`bayes_cmo.update`), with the rest of the network held at its
elicited values, and a Laplace (Normal) approximation for the interval
(exact Hessian of the log posterior, by differences of the analytic gradient). Blanks are handled exactly: with the
family's CPT factored out, the engine gives each case's likelihood over the
family's configurations once (one batched contraction for all replicates), and
the observed-data likelihood of the family parameters is then a small sum.

``prior="sceptical"`` analyses the studied link with a Normal(0, 2) prior
instead of the elicited one: "how many cases until the data alone settle it".
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .. import _validate as check
from .._errors import BayesCMOError
from ..engine import core as _engine
from ..inference import headline as _headline
from ..inference.background import Background, check_model
from ..inference.summary import DEFAULT_LEVEL
from ..update.ordered_logit import Family, laplace_covariance, one_blas_thread
from ..network.elicitation import build_cpts, draw_parameters, elicited_parameters
from ..network.model import Model
from ..update.refinement import DEFAULT_FDR, DEFAULT_MARGIN, departure_probabilities
from ..update.simulate import simulate_cases
from ..theory import Scenario, Theory

#: sd of the sceptical prior on the studied weight (log-odds): 95% within +/-4.
SCEPTICAL_SD = 2.0
#: Priors the studied link can be analysed with.
PRIORS = ("elicited", "sceptical")
#: Default grid of study sizes.
DEFAULT_N = (10, 20, 40, 80)
#: Cases per engine contraction (bounds memory).
_CHUNK = 200

__all__ = ["DEFAULT_N", "sample_size"]


def _check_args(n, missing, replicates, level, prior):
    values = [n] if isinstance(n, (int, np.integer)) and not isinstance(n, bool) else n
    try:
        values = list(values)
    except TypeError:
        raise check.fail("n", "a list of positive integers", n) from None
    if not values:
        raise check.fail("n", "a list of positive integers", values)
    grid = sorted({check.integer(v, "n") for v in values})
    check.fraction(missing, "missing", one="1 would leave every cell blank")
    check.integer(replicates, "replicates", 2)
    check.level(level)
    check.choice(prior, "prior", PRIORS)
    return grid


def _studied_link(theory: Theory, link: str):
    """The link ``FROM:TO``; a lagged link or a link that does not exist says so in one step."""
    ids = {other.id: other for other in theory.links}
    if link in ids:
        return ids[link]
    lagged = [other for other in theory.links if other.lag and f"{other.source}:{other.target}" == link]
    if lagged:
        return lagged[0]  # refused below as a feedback link
    source, sep, target = str(link).partition(":")
    if sep and source in theory.nodes and target in theory.nodes:
        into = [other.id for other in theory.links_into(target)]
        raise BayesCMOError(
            f"unknown link '{link}': {source} is not a cause of {target} in the theory"
            f"{'; links into ' + target + ': ' + ', '.join(into) if into else ''}"
        )
    return theory.link(link)  # one-line error with did-you-mean


def _analysis_family(theory: Theory, node: str, studied: str, prior: str) -> tuple[Family, int]:
    """The studied link's target family with the analysis prior, and the studied weight's index in theta."""
    fam = Family.from_theory(theory, node)
    index = fam.links.index(studied)
    if prior == "sceptical":
        mean, sd = fam.prior_mean.copy(), fam.prior_sd.copy()
        mean[index], sd[index] = 0.0, SCEPTICAL_SD
        fam = dataclasses.replace(fam, prior_mean=mean, prior_sd=sd)
    return fam, index


def _fit(fam: Family, q: np.ndarray, start: np.ndarray, index: int) -> tuple[np.ndarray, float]:
    """(MAP, Laplace sd of weight ``index``; NaN if the Hessian is not positive definite)."""
    theta = fam.fit(start, q=q)
    cov = laplace_covariance(fam.hessian(theta, q=q))
    return theta, float(np.sqrt(cov[index, index]))


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
    model: Model,
    link: str | None = None,
    *,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    n: Sequence[int] | int = DEFAULT_N,
    coded: Sequence[str] | None = None,
    missing: float = 0.3,
    replicates: int = 100,
    seed: int | None = 0,
    level: float = DEFAULT_LEVEL,
    prior: str = "elicited",
    progress: bool = False,
) -> pd.DataFrame:
    """Expected precision of a link's weight after a phase-2 study of n cases.

    ``link`` is ``FROM:TO`` (default: the ``link`` of the theory's
    ``headline.yaml``). ``replicates`` true worlds are drawn from the priors
    with ``seed`` (a simulation, not the model's own draws: pass a model with
    point values). The studies are of the whole population: a background
    (``evidence``, ``do``, ``scenario``) is not supported yet and is refused.

    Returns one row per n with ``link``, ``n``; ``expected_ci_width`` (mean width of the
    central ``level`` credible interval of the link weight, log-odds);
    ``ci_width_low`` / ``ci_width_high`` (10th / 90th percentile of that width
    across replicate studies); ``p_sign_correct`` (share of studies whose
    posterior mean has the true weight's sign); ``p_excludes_zero`` (share
    whose interval excludes 0: the study "says whether the link matters");
    ``p_data_settles`` (assurance from the data alone: share of studies whose
    interval under a sceptical Normal(0, 2) prior on the weight excludes 0 on
    the true side); ``p_verdict_changes`` (share of studies after which the
    link would be flagged on its own: posterior probability of the side a
    verdict would claim beyond the refinement margin, ``p_claim`` of
    :func:`~bayes_cmo.update.refinement.refine`, >= 1 - the default FDR); ``narrowing``
    (1 - expected interval width / prior width); ``replicates``; the analysis
    ``level`` and ``prior``; the prior alone for reference: ``prior_ci_width``
    (its ``level`` interval width) and ``prior_p_sign_correct``; ``settled_by``
    (the same on every row): one line when the prior, not the data, settles
    the sign (else ""). ``coded`` lists the nodes the case studies record
    (default: all); ``missing`` is the chance each recorded cell is blank.
    Seeded: same arguments, same table.
    """
    theory = check_model(model).theory
    if theory is None:
        raise BayesCMOError(
            f"{model.source}: a sample-size plan needs a priors folder (link weights and confidences); "
            "a network file has point probabilities only"
        )
    check.point_values(model.network.batch_size, "model")
    if Background.of(model, evidence, do, scenario):
        raise BayesCMOError("sample_size: a background (evidence, do, scenario) is not supported; plan for the whole population")
    link = _headline.link(theory) if link is None else link
    grid = _check_args(n, missing, replicates, level, prior)
    studied = _studied_link(theory, link)
    if studied.lag:
        raise BayesCMOError(f"link '{link}' is a feedback (lagged) link; choose a link within one round")
    if studied.target in theory.tables:
        raise BayesCMOError(f"link '{link}': {studied.target} has an explicit CPT table, so the link has no weight to learn")
    if coded is None:
        coded = list(theory.order())
    else:
        coded = [coded] if isinstance(coded, str) else list(dict.fromkeys(coded))
        for node in coded:
            check.node(model.network.states, node, "coded")
        coded = [v for v in theory.order() if v in coded]

    from tqdm.auto import tqdm

    show = bool(progress) and sys.stderr.isatty()
    order = theory.order()
    states = {v: theory.nodes[v].states for v in order}
    parents = {v: theory.parents(v) for v in order}
    # Independent streams for the true worlds and for the cases drawn from them.
    truth_seed, cases_seed = np.random.SeedSequence(seed).spawn(2)
    truth = draw_parameters(theory, int(replicates), truth_seed)
    true_cpts = build_cpts(theory, truth)
    true_weight = np.asarray(truth.weights[studied.id])
    case_seeds = np.random.default_rng(cases_seed).integers(0, 2**32 - 1, size=int(replicates))
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

    fam, index = _analysis_family(theory, target, studied.id, prior)
    from scipy.stats import norm  # lazy: slow to import, and no other verb needs it

    # the data alone: the same fit with the sceptical prior on the studied weight (issue 12)
    alone = fam if prior == "sceptical" else _analysis_family(theory, target, studied.id, "sceptical")[0]
    z = norm.ppf(0.5 + level / 2.0)
    means = np.full((int(replicates), len(grid)), np.nan)
    sds = np.full_like(means, np.nan)
    alone_means, alone_sds = np.full_like(means, np.nan), np.full_like(means, np.nan)
    with one_blas_thread():
        for r in tqdm(range(int(replicates)), desc="updating", disable=not show, leave=False):
            start = fam.prior_mode()
            start_alone = alone.prior_mode()
            for i, size in enumerate(grid):
                theta, sd = _fit(fam, q[r, :size], start, index)
                means[r, i], sds[r, i] = theta[index], sd
                start = theta  # warm start: the next study extends this one
                if alone is fam:
                    alone_means[r, i], alone_sds[r, i] = theta[index], sd
                else:
                    theta_alone, sd_alone = _fit(alone, q[r, :size], start_alone, index)
                    alone_means[r, i], alone_sds[r, i] = theta_alone[index], sd_alone
                    start_alone = theta_alone

    rows = []
    true_sign = np.sign(true_weight)
    elicited = float(studied.weight)
    prior_width = 2.0 * z * fam.prior_sd[index]
    for i, size in enumerate(grid):
        ok = np.isfinite(sds[:, i])
        width = 2.0 * z * sds[ok, i]
        a_ok = np.isfinite(alone_sds[:, i])
        settles = (np.abs(alone_means[a_ok, i]) > z * alone_sds[a_ok, i]) & (np.sign(alone_means[a_ok, i]) == true_sign[a_ok])
        stronger, weaker, reversed_ = departure_probabilities(elicited, means[ok, i], sds[ok, i], DEFAULT_MARGIN)
        departure = np.maximum(stronger, weaker + reversed_)  # the side a verdict would claim (refine's p_claim)
        rows.append(
            {
                "link": studied.id,
                "n": size,
                "expected_ci_width": float(width.mean()),
                "ci_width_low": float(np.quantile(width, 0.1)),
                "ci_width_high": float(np.quantile(width, 0.9)),
                "p_sign_correct": float(np.mean(np.sign(means[ok, i]) == true_sign[ok])),
                "p_excludes_zero": float(np.mean(np.abs(means[ok, i]) > z * sds[ok, i])),
                "replicates": int(ok.sum()),
                # issue 12: where the certainty comes from
                "p_data_settles": float(np.mean(settles)),
                "p_verdict_changes": float(np.mean(departure >= 1.0 - DEFAULT_FDR)),
                "narrowing": float(1.0 - width.mean() / prior_width),
            }
        )
    # The prior alone (n = 0), for reference in plots and reports.
    frame = pd.DataFrame(rows)
    frame["level"], frame["prior"] = float(level), prior
    frame["prior_ci_width"] = float(2.0 * z * fam.prior_sd[index])
    frame["prior_p_sign_correct"] = (
        float(np.mean(np.sign(fam.prior_mean[index]) == true_sign)) if fam.prior_mean[index] else 0.5
    )
    frame["settled_by"] = _settled_by(frame, fam.prior_mean[index], fam.prior_sd[index], z, level)
    return frame


def _settled_by(frame: pd.DataFrame, mean: float, sd: float, z: float, level: float) -> str:
    """One line when the prior, not the data, settles the sign; else ''."""
    if not (abs(mean) > z * sd):
        return ""
    last = frame.iloc[-1]
    return (
        f"the prior, not the data, settles the sign: its {level:.0%} interval already excludes 0, so p_sign_correct is "
        f"high at every n; the study's own data settle it in {last.p_data_settles:.0%} of studies at n = {int(last.n)}"
    )
