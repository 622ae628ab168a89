"""How many cases? Preposterior simulation for one CMO link, or every link.

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

Replicate r draws its truth and its cases from the r-th
``numpy.random.SeedSequence`` spawned from ``seed``, whichever links are
planned and wherever it runs (:class:`bayes_cmo._runner.Runner`: in this
process, on ``jobs`` local processes or on a Dask ``cluster``), so every way
of running a plan gives the same table, and the rows of one link in an
all-links plan are that link's own plan.

Two fits (``fit=``):

* ``"family"`` (the fast default) fits the family of the link's target node —
  the weights of every link into it and its cutpoints — by maximum a
  posteriori under the family model of :mod:`bayes_cmo.update.ordered_logit`
  (weights: Normal(elicited weight, weight_sd); cutpoints: ess * baseline
  pseudo-observations at eta = 0, the same prior as :mod:`bayes_cmo.update`),
  with the rest of the network held at its elicited values, and a Laplace
  (Normal) approximation for the interval (exact Hessian of the log posterior,
  by differences of the analytic gradient). Blanks are handled exactly: with
  the family's CPT factored out, the engine gives each case's likelihood over
  the family's configurations once, and the observed-data likelihood of the
  family parameters is then a small sum.
* ``"full"`` refits the whole model by EM (:func:`bayes_cmo.update_priors`)
  on the first n cases of each study and reads the link's posterior mean and
  Laplace sd from the update, so what the study teaches about the other
  families counts too. One EM per study and size serves every planned link.
  The data-alone assurance (``p_data_settles``) is then taken from the same
  posterior by exchanging the studied weight's Normal prior for the sceptical
  one (exact when the likelihood is Normal in that weight) instead of a second
  EM. With ``prior="sceptical"`` every planned link gets the sceptical prior
  in the one EM.

``prior="sceptical"`` analyses the studied link with a Normal(0, 2) prior
instead of the elicited one: "how many cases until the data alone settle it".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from .. import _validate as check
from .._errors import BayesCMOError
from .._lazy import pandas as pd
from .._runner import Runner, child_seeds, spawn_seeds
from ..engine import core as _engine
from ..inference import headline as _headline
from ..inference.background import Background, check_model
from ..inference.summary import DEFAULT_LEVEL
from ..network.elicitation import Parameters, build_cpts, draw_parameters, elicited_parameters
from ..network.model import Model, build_model
from ..theory import Link, Scenario, Theory
from ..update.ordered_logit import Family, laplace_covariance, one_blas_thread
from ..update.refinement import DEFAULT_FDR, DEFAULT_MARGIN, departure_probabilities
from ..update.simulate import simulate_cases

#: sd of the sceptical prior on the studied weight (log-odds): 95% within +/-4.
SCEPTICAL_SD = 2.0
#: Priors the studied link can be analysed with.
PRIORS = ("elicited", "sceptical")
#: How each replicate study is analysed: the studied link's family alone, or the whole model by EM.
FITS = ("family", "full")
#: Default grid of study sizes.
DEFAULT_N = (10, 20, 40, 80)
#: ``link=ALL`` plans every link with a weight to learn.
ALL = "all"
#: Default assurance for :func:`cases_needed`: the share of studies whose own data settle the sign.
DEFAULT_ASSURANCE = 0.8
#: Cases per engine contraction (bounds memory).
_CHUNK = 200

__all__ = ["ALL", "DEFAULT_ASSURANCE", "DEFAULT_N", "FITS", "cases_needed", "plannable_links", "sample_size"]


def _check_args(n, missing, replicates, level, prior, fit):
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
    check.choice(fit, "fit", FITS)
    return grid


def plannable_links(theory: Theory) -> list[str]:
    """The links a sample-size plan can settle: within one round, into a node built from link weights."""
    return [link.id for link in theory.dag_links if link.target not in theory.tables]


def _studied_link(theory: Theory, link: str) -> Link:
    """The link ``FROM:TO``; a lagged link or a link that does not exist says so in one step."""
    ids = {other.id: other for other in theory.links}
    if link in ids:
        studied = ids[link]
    else:
        lagged = [other for other in theory.links if other.lag and f"{other.source}:{other.target}" == link]
        if lagged:
            studied = lagged[0]  # refused below as a feedback link
        else:
            source, sep, target = str(link).partition(":")
            if sep and source in theory.nodes and target in theory.nodes:
                into = [other.id for other in theory.links_into(target)]
                raise BayesCMOError(
                    f"unknown link '{link}': {source} is not a cause of {target} in the theory"
                    f"{'; links into ' + target + ': ' + ', '.join(into) if into else ''}"
                )
            studied = theory.link(link)  # one-line error with did-you-mean
    if studied.lag:
        raise BayesCMOError(f"link '{link}' is a feedback (lagged) link; choose a link within one round")
    if studied.target in theory.tables:
        raise BayesCMOError(f"link '{link}': {studied.target} has an explicit CPT table, so the link has no weight to learn")
    return studied


def _studied_links(theory: Theory, link) -> list[Link]:
    if link is None:
        link = _headline.link(theory)
    names = [link] if isinstance(link, str) else list(link)
    if not names:
        raise check.fail("link", f"a link FROM:TO, a list of them, or '{ALL}'", names)
    if ALL in names:
        names = plannable_links(theory)
        if not names:
            raise BayesCMOError(f"link '{ALL}': the theory has no link with a weight to learn")
    return list({s.id: s for s in (_studied_link(theory, name) for name in names)}.values())


def _sceptical(theory: Theory, links: Sequence[str]) -> Theory:
    """``theory`` with the Normal(0, SCEPTICAL_SD) prior on each of ``links``."""
    chosen = set(links)
    return dataclasses.replace(
        theory, links=tuple(link.with_weight(0.0, sd=SCEPTICAL_SD) if link.id in chosen else link for link in theory.links)
    )


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


def _likelihoods(frames: list[pd.DataFrame], net: _engine.NetworkArrays, coded: Sequence[str]) -> dict[str, np.ndarray]:
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


def exchange_prior(mean, sd, old_mean, old_sd, new_mean, new_sd) -> tuple[np.ndarray, np.ndarray]:
    """A Normal posterior (``mean``, ``sd``) under prior N(``old_mean``, ``old_sd``) re-expressed under N(``new_mean``, ``new_sd``).

    The data's information is the posterior precision less the prior's; where
    it is not positive the data carried none and the new prior is returned. A
    NaN sd (no Laplace approximation) stays NaN.
    """
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    data_precision = 1.0 / sd**2 - 1.0 / old_sd**2
    informed = data_precision > 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        data_mean = np.where(informed, (mean / sd**2 - old_mean / old_sd**2) / data_precision, 0.0)
    precision = np.where(informed, data_precision, 0.0) + 1.0 / new_sd**2
    out_mean = (data_mean * np.where(informed, data_precision, 0.0) + new_mean / new_sd**2) / precision
    out_sd = 1.0 / np.sqrt(precision)
    missing = ~np.isfinite(sd)
    return np.where(missing, np.nan, out_mean), np.where(missing, np.nan, out_sd)


# ----------------------------------------------------------------------------
# One replicate study: the tasks of the runner (module level, so they pickle)


@dataclasses.dataclass(frozen=True)
class _Study:
    """What every replicate task of one plan shares."""

    theory: Theory  # the truths are drawn from it
    analysis: Theory  # the update starts from it (the sceptical prior already in, for fit="full")
    links: tuple[str, ...]
    grid: tuple[int, ...]
    coded: tuple[str, ...]
    missing: float
    prior: str
    fit: str


def true_world(theory: Theory, seed: np.random.SeedSequence) -> tuple[Parameters, Model]:
    """One true programme theory drawn from the priors with ``seed``: its point parameters and its network."""
    drawn = draw_parameters(theory, 1, seed)
    point = Parameters(
        weights={k: np.asarray(v, dtype=float)[0] for k, v in drawn.weights.items()},
        baselines={k: np.asarray(v, dtype=float)[0] for k, v in drawn.baselines.items()},
        tables={k: np.asarray(v, dtype=float)[0] for k, v in drawn.tables.items()},
    )
    return point, build_model(theory, point)


def _world(study: _Study, seed: np.random.SeedSequence) -> tuple[dict[str, float], pd.DataFrame]:
    """The replicate's true link weights and its ``max(n)`` simulated cases, from its own seed only."""
    truth_seed, cases_seed = child_seeds(seed, 2)
    point, world = true_world(study.theory, truth_seed)
    cases = simulate_cases(world, study.grid[-1], missing=study.missing, seed=cases_seed, observed=list(study.coded))
    return {link: float(point.weights[link]) for link in study.links}, cases


def _family_task(argument: tuple[_Study, np.random.SeedSequence]) -> dict[str, np.ndarray]:
    """One replicate, every size, the family fit: ``{link: (5, sizes) array}`` of truth, mean, sd, data-alone mean, sd."""
    study, seed = argument
    truths, cases = _world(study, seed)
    theory = study.analysis
    order = theory.order()
    states = {v: theory.nodes[v].states for v in order}
    parents = {v: theory.parents(v) for v in order}
    point_cpts = build_cpts(theory, elicited_parameters(theory))
    liks = _likelihoods([cases], _engine.NetworkArrays(order, states, parents, point_cpts), study.coded)
    n_max, out = study.grid[-1], {}
    by_target: dict[str, list[str]] = {}
    for link in study.links:
        by_target.setdefault(theory.link(link).target, []).append(link)
    with one_blas_thread():
        for target, links in by_target.items():
            # the analysis network: elicited values, the studied family's CPT factored out (uniform)
            family = (target, *parents[target])
            shape = (len(states[target]), *(len(states[p]) for p in parents[target]))
            cpts = {**point_cpts, target: np.full(shape, 1.0 / shape[0])}
            analysis = _engine.NetworkArrays(order, states, parents, cpts)
            q = np.empty((n_max, int(np.prod(shape))))
            for start in range(0, n_max, _CHUNK):
                part = {v: m[start : start + _CHUNK] for v, m in liks.items()}
                q[start : start + _CHUNK] = _engine.query(analysis, list(family), likelihoods=part).reshape(-1, q.shape[1])
            fitted: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            for link in links:
                rows = np.full((5, len(study.grid)), np.nan)
                rows[0] = truths[link]
                fam, index = _analysis_family(theory, target, link, study.prior)
                key = link if study.prior == "sceptical" else ""  # the elicited fit is one per family
                if key not in fitted:
                    fitted[key] = _grid_fit(fam, q, study.grid)
                thetas, covs = fitted[key]
                rows[1], rows[2] = thetas[:, index], np.sqrt(covs[:, index])
                if study.prior == "sceptical":
                    rows[3], rows[4] = rows[1], rows[2]
                else:  # the data alone: the same fit with the sceptical prior on the studied weight
                    alone, _ = _analysis_family(theory, target, link, "sceptical")
                    thetas_alone, covs_alone = _grid_fit(alone, q, study.grid)
                    rows[3], rows[4] = thetas_alone[:, index], np.sqrt(covs_alone[:, index])
                out[link] = rows
    return out


def _grid_fit(fam: Family, q: np.ndarray, grid: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """MAP and Laplace variances of every parameter at each study size, warm-started along the grid."""
    start = fam.prior_mode()
    thetas, variances = [], []
    for size in grid:
        theta = fam.fit(start, q=q[:size])
        variances.append(np.diag(laplace_covariance(fam.hessian(theta, q=q[:size]))))
        thetas.append(theta)
        start = theta  # the next study extends this one
    return np.array(thetas), np.array(variances)


def _full_task(argument: tuple[_Study, np.random.SeedSequence, int]) -> dict[str, np.ndarray]:
    """One replicate at one size, the whole model refit by EM: ``{link: (5,) array}`` as in :func:`_family_task`."""
    from ..update.em import update_priors

    study, seed, size = argument
    truths, cases = _world(study, seed)
    result = update_priors(build_model(study.analysis), cases.iloc[:size].reset_index(drop=True))
    posterior = result.links.set_index("link")
    out = {}
    for link in study.links:
        mean = float(posterior.at[link, "posterior_weight"])
        sd = float(posterior.at[link, "posterior_sd"])
        if study.prior == "sceptical":
            alone_mean, alone_sd = mean, sd
        else:
            prior = study.analysis.link(link)
            alone_mean, alone_sd = exchange_prior(mean, sd, prior.weight, prior.weight_sd, 0.0, SCEPTICAL_SD)
        out[link] = np.array([truths[link], mean, sd, float(alone_mean), float(alone_sd)])
    return out


def _run(study: _Study, replicates: int, seed, runner: Runner) -> dict[str, np.ndarray]:
    """``{link: (replicates, 5, sizes) array}``: every replicate task, run by ``runner``."""
    seeds = spawn_seeds(seed, replicates)
    if study.fit == "family":
        results = runner.map(_family_task, [(s,) for s in seeds], desc="replicate studies", shared=study)
        return {link: np.stack([r[link] for r in results]) for link in study.links}
    tasks = [(s, size) for s in seeds for size in study.grid]
    results = runner.map(_full_task, tasks, desc="replicate studies (full EM)", shared=study)
    g = len(study.grid)
    return {
        link: np.stack([np.stack([results[r * g + i][link] for i in range(g)], axis=1) for r in range(replicates)])
        for link in study.links
    }


# ----------------------------------------------------------------------------
# The plan


def sample_size(
    model: Model,
    link: str | Sequence[str] | None = None,
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
    fit: str = "family",
    jobs: int = 1,
    cluster: str | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Expected precision of a link's weight after a phase-2 study of n cases.

    ``link`` is ``FROM:TO`` (default: the ``link`` of the theory's
    ``headline.yaml``), a list of them, or ``"all"`` (every link within one
    round into a node built from link weights: :func:`plannable_links`).
    ``replicates`` true worlds are drawn from the priors with ``seed`` (a
    simulation, not the model's own draws: pass a model with point values).
    The studies are of the whole population: a background (``evidence``,
    ``do``, ``scenario``) is not supported yet and is refused. ``fit``:
    ``"family"`` (fast) or ``"full"`` (EM of the whole model per study; see
    the module docstring). ``jobs`` local processes or a Dask ``cluster``
    (``"local:N"`` or a scheduler address) run the replicate studies; the
    table is the same however they run.

    Returns one row per link and n with ``link``, ``n``; ``expected_ci_width`` (mean width of the
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
    ``level``, ``prior`` and ``fit``; the prior alone for reference: ``prior_ci_width``
    (its ``level`` interval width) and ``prior_p_sign_correct``; ``settled_by``
    (the same on every row of a link): one line when the prior, not the data, settles
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
    grid = _check_args(n, missing, replicates, level, prior, fit)
    runner = Runner(jobs=jobs, cluster=cluster, progress=progress)
    studied = _studied_links(theory, link)
    if coded is None:
        coded = list(theory.order())
    else:
        coded = [coded] if isinstance(coded, str) else list(dict.fromkeys(coded))
        for node in coded:
            check.node(model.network.states, node, "coded")
        coded = [v for v in theory.order() if v in coded]
    ids = tuple(s.id for s in studied)
    analysis = _sceptical(theory, ids) if (prior == "sceptical" and fit == "full") else theory
    study = _Study(theory, analysis, ids, tuple(grid), tuple(coded), float(missing), prior, fit)
    arrays = _run(study, int(replicates), seed, runner)

    from statistics import NormalDist  # scipy.stats would cost a second to import here

    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    frames = []
    for s in studied:
        prior_mean, prior_sd = (0.0, SCEPTICAL_SD) if prior == "sceptical" else (float(s.weight), float(s.weight_sd))
        frames.append(_link_rows(s, arrays[s.id], grid, z, level, prior, fit, prior_mean, prior_sd))
    return pd.concat(frames, ignore_index=True)


def _link_rows(studied: Link, a: np.ndarray, grid, z, level, prior, fit, prior_mean, prior_sd) -> pd.DataFrame:
    """The table of one link from its ``(replicates, 5, sizes)`` results."""
    true_weight, means, sds, alone_means, alone_sds = a[:, 0, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4]
    rows = []
    true_sign = np.sign(true_weight)
    elicited = float(studied.weight)
    prior_width = 2.0 * z * prior_sd
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
                "expected_ci_width": float(width.mean()) if ok.any() else np.nan,
                "ci_width_low": float(np.quantile(width, 0.1)) if ok.any() else np.nan,
                "ci_width_high": float(np.quantile(width, 0.9)) if ok.any() else np.nan,
                "p_sign_correct": float(np.mean(np.sign(means[ok, i]) == true_sign[ok])),
                "p_excludes_zero": float(np.mean(np.abs(means[ok, i]) > z * sds[ok, i])),
                "replicates": int(ok.sum()),
                # issue 12: where the certainty comes from
                "p_data_settles": float(np.mean(settles)),
                "p_verdict_changes": float(np.mean(departure >= 1.0 - DEFAULT_FDR)),
                "narrowing": float(1.0 - width.mean() / prior_width) if ok.any() else np.nan,
            }
        )
    frame = pd.DataFrame(rows)
    frame["level"], frame["prior"], frame["fit"] = float(level), prior, fit
    # The prior alone (n = 0), for reference in plots and reports.
    frame["prior_ci_width"] = float(prior_width)
    frame["prior_p_sign_correct"] = float(np.mean(np.sign(prior_mean) == true_sign)) if prior_mean else 0.5
    frame["settled_by"] = _settled_by(frame, prior_mean, prior_sd, z, level)
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


def cases_needed(frame: pd.DataFrame, assurance: float = DEFAULT_ASSURANCE) -> pd.DataFrame:
    """Every link of a :func:`sample_size` table ranked by the cases a study needs to settle it.

    One row per link: ``link``, ``cases_needed`` (the
    smallest n of the grid at which the study's own data settle the link's
    sign in at least ``assurance`` of studies, ``p_data_settles``; NaN when no
    n of the grid does), ``reached`` (False then: more than ``largest_n``
    cases are needed), ``smallest_n`` and ``largest_n`` (the plan's grid), ``p_data_settles`` and
    ``expected_ci_width`` and ``narrowing`` at ``largest_n``,
    ``prior_ci_width``, ``prior_settles`` (the prior alone already excludes 0:
    its ``settled_by`` line), ``assurance``, ``fit``, ``prior``,
    ``replicates``. Ranked: fewest cases first; links the grid does not
    settle last, the nearest first.
    """
    check.level(assurance, "assurance")
    rows = []
    for link, part in frame.groupby("link", sort=False):
        part = part.sort_values("n")
        met = part[part["p_data_settles"] >= assurance]
        last = part.iloc[-1]
        rows.append(
            {
                "link": link,
                "cases_needed": float(met["n"].iloc[0]) if len(met) else np.nan,
                "reached": bool(len(met)),
                "smallest_n": int(part["n"].iloc[0]),
                "largest_n": int(last["n"]),
                "p_data_settles": float(last["p_data_settles"]),
                "expected_ci_width": float(last["expected_ci_width"]),
                "narrowing": float(last["narrowing"]),
                "prior_ci_width": float(last["prior_ci_width"]),
                "prior_settles": bool(last["settled_by"]),
                "assurance": float(assurance),
                "fit": last["fit"],
                "prior": last["prior"],
                "replicates": int(part["replicates"].min()),
            }
        )
    ranking = pd.DataFrame(rows)
    if ranking.empty:
        return ranking
    ranking["_unreached"] = ~ranking["reached"]
    ranking = ranking.sort_values(
        ["_unreached", "cases_needed", "p_data_settles", "link"], ascending=[True, True, False, True], kind="stable"
    )
    return ranking.drop(columns="_unreached").reset_index(drop=True)
