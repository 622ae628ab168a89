"""Replicate studies of the update: are its intervals calibrated, how often do its verdicts cry wolf?

* :func:`calibration_study` — each replicate draws a "true" programme theory
  from the priors (every link weight and baseline from its second-order
  distribution), simulates a phase-2 study of ``n`` cases from it
  (``missing`` blanks), updates the elicited priors with it
  (:func:`bayes_cmo.update_priors`) and refines (:func:`bayes_cmo.refine`);
  per link it records whether the central ``level`` interval covers the true
  weight. If the posterior is calibrated, ``level`` of the link-runs are
  covered, overall and link by link (simulation-based calibration).
* :func:`null_study` — each replicate simulates its cases from the elicited
  theory itself (nothing changed: every flag is a false alarm), or from a
  ``truth`` theory with some links changed
  (:func:`bayes_cmo.set_link_weight`: flags on those are hits).

Replicate r draws from the r-th ``numpy.random.SeedSequence`` spawned from
``seed``; the replicates run in this process, on ``jobs`` local processes or
on a Dask ``cluster`` (:class:`bayes_cmo._runner.Runner`) with the same
result. Both return one row per replicate and updated link; :func:`coverage`
and :func:`flag_rates` summarise them per link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import _validate as check
from .._errors import BayesCMOError
from .._lazy import pandas as pd
from .._runner import Runner, child_seeds, spawn_seeds
from ..inference.summary import DEFAULT_LEVEL
from ..network.model import Model, build_model
from ..theory import Theory
from ..update.refinement import DEFAULT_FDR, DEFAULT_MARGIN
from ..update.simulate import simulate_cases
from .sample_size import true_world

__all__ = ["calibration_study", "coverage", "flag_rates", "null_study"]

#: Columns of a study's runs (``block_sd`` follows ``posterior_sd`` with ``joint=True``).
RUN_COLUMNS = (
    "replicate", "link", "truth", "prior_weight", "posterior_weight", "posterior_sd", "posterior_low", "posterior_high",
    "covered", "n_both", "p_departure", "flagged", "verdict", "level", "n", "missing",
)


@dataclass(frozen=True)
class _UpdateStudy:
    prior: Theory
    truth: Theory | None  # None: a truth drawn from the priors per replicate
    n: int
    missing: float
    coded: tuple[str, ...] | None
    level: float
    margin: float
    fdr: float
    joint: bool


def _update_task(argument: tuple[_UpdateStudy, np.random.SeedSequence]) -> pd.DataFrame:
    """One replicate: simulate, update, refine; one row per updated link."""
    from ..update.em import update_priors
    from ..update.refinement import refine

    study, seed = argument
    world_seed, cases_seed = child_seeds(seed, 2)
    if study.truth is None:
        point, world = true_world(study.prior, world_seed)
        truths = {k: float(v) for k, v in point.weights.items()}
    else:
        world = build_model(study.truth)
        truths = {link.id: float(link.weight) for link in study.truth.links}
    observed = list(study.coded) if study.coded is not None else None
    cases = simulate_cases(world, study.n, missing=study.missing, seed=cases_seed, observed=observed)
    result = update_priors(build_model(study.prior), cases)
    joint = None
    if study.joint:
        from ..update.joint import joint_uncertainty

        joint = joint_uncertainty(result)
    table = refine(result, study.level, margin=study.margin, fdr=study.fdr, joint=joint)
    updated = set(result.links.loc[result.links["updated"], "link"])
    table = table[table["link"].isin(updated)].reset_index(drop=True)
    truth = table["link"].map(truths).astype(float)
    out = pd.DataFrame(
        {
            "link": table["link"],
            "truth": truth,
            "prior_weight": table["prior_weight"],
            "posterior_weight": table["posterior_weight"],
            "posterior_sd": table["posterior_sd"],
            "posterior_low": table["posterior_low"],
            "posterior_high": table["posterior_high"],
            "covered": (table["posterior_low"] <= truth) & (truth <= table["posterior_high"]),
            "n_both": table["n_both"],
            "p_departure": table["p_departure"],
            "flagged": table["flagged"].astype(bool),
            "verdict": table["verdict"],
        }
    )
    if "block_sd" in table:
        out.insert(out.columns.get_loc("posterior_sd") + 1, "block_sd", table["block_sd"])
    return out


def _study(
    model: Model, truth: Theory | None, *, n, missing, coded, replicates, seed, level, margin, fdr, joint, jobs, cluster,
    progress, desc,
) -> pd.DataFrame:
    if not isinstance(model, Model):
        check.instance(model, "model", Model, "a Model (build_model(theory) or load_model(path))")
    theory = model.theory
    if theory is None:
        raise BayesCMOError(f"{model.source}: a study of the update needs a priors folder (link weights and confidences)")
    check.point_values(model.network.batch_size, "model")
    n = check.integer(n, "n")
    check.fraction(missing, "missing", one="1 would leave every cell blank")
    replicates = check.integer(replicates, "replicates")
    level = check.level(level)
    fdr = check.level(fdr, "fdr")
    margin = check.nonnegative(margin, "margin")
    if coded is not None:
        coded = [coded] if isinstance(coded, str) else list(dict.fromkeys(coded))
        for node in coded:
            check.node(model.network.states, node, "coded")
        coded = tuple(v for v in theory.order() if v in coded)
    if truth is not None:
        if not isinstance(truth, Theory):
            check.instance(truth, "truth", Theory, "a Theory (e.g. set_link_weight(theory, link, weight))")
        if set(truth.nodes) != set(theory.nodes):
            raise BayesCMOError("truth: expected a theory with the model's nodes (e.g. set_link_weight(model.theory, ...))")
    runner = Runner(jobs=jobs, cluster=cluster, progress=progress)
    study = _UpdateStudy(theory, truth, n, float(missing), coded, level, float(margin), float(fdr), bool(joint))
    seeds = spawn_seeds(seed, replicates)
    parts = runner.map(_update_task, [(s,) for s in seeds], desc=desc, shared=study)
    runs = pd.concat([p.assign(replicate=r) for r, p in enumerate(parts)], ignore_index=True)
    runs["level"], runs["n"], runs["missing"] = level, n, float(missing)
    columns = list(RUN_COLUMNS)
    if joint:
        columns.insert(columns.index("posterior_sd") + 1, "block_sd")
    return runs[columns]


def calibration_study(
    model: Model,
    *,
    n: int = 200,
    missing: float = 0.3,
    coded: Sequence[str] | None = None,
    replicates: int = 20,
    seed: int | None = 0,
    level: float = DEFAULT_LEVEL,
    margin: float = DEFAULT_MARGIN,
    fdr: float = DEFAULT_FDR,
    joint: bool = False,
    jobs: int = 1,
    cluster: str | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Simulation-based calibration of the update's link intervals (truths drawn from the priors).

    One row per replicate and updated link: ``replicate``, ``link``,
    ``truth`` (the replicate's true weight), ``prior_weight``,
    ``posterior_weight``, ``posterior_sd`` (with ``joint=True`` the sd from
    the joint information, the per-node one kept as ``block_sd``),
    ``posterior_low`` / ``posterior_high`` (central ``level`` interval),
    ``covered`` (the interval holds the truth), ``n_both``, ``p_departure``,
    ``flagged``, ``verdict`` (the refinement's rule with ``margin`` and
    ``fdr``), ``level``, ``n``, ``missing``. Summarise with :func:`coverage`.
    """
    return _study(
        model, None, n=n, missing=missing, coded=coded, replicates=replicates, seed=seed, level=level, margin=margin,
        fdr=fdr, joint=joint, jobs=jobs, cluster=cluster, progress=progress, desc="calibration replicates",
    )


def null_study(
    model: Model,
    *,
    truth: Theory | None = None,
    n: int = 200,
    missing: float = 0.3,
    coded: Sequence[str] | None = None,
    replicates: int = 10,
    seed: int | None = 0,
    level: float = DEFAULT_LEVEL,
    margin: float = DEFAULT_MARGIN,
    fdr: float = DEFAULT_FDR,
    joint: bool = False,
    jobs: int = 1,
    cluster: str | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """How often the verdicts flag links when the cases come from the model itself (or from ``truth``).

    Same rows as :func:`calibration_study`, with ``truth`` the weight the
    cases were simulated with (the elicited one, or ``truth``'s). Summarise
    with :func:`flag_rates`.
    """
    truth = model.theory if truth is None and isinstance(model, Model) else truth
    return _study(
        model, truth, n=n, missing=missing, coded=coded, replicates=replicates, seed=seed, level=level, margin=margin,
        fdr=fdr, joint=joint, jobs=jobs, cluster=cluster, progress=progress, desc="null-study replicates",
    )


def coverage(runs: pd.DataFrame) -> pd.DataFrame:
    """Per link, the share of replicates whose interval covered the truth, worst first.

    Columns: ``link``, ``coverage``, ``replicates``, ``error_sd``
    (sd of (posterior mean - truth) / posterior sd across replicates: 1 when
    the sd is right, above 1 when the intervals are too narrow), ``level``;
    the same on every row: ``overall_coverage`` (share of all link-runs
    covered) and ``link_runs``.
    """
    z_error = (runs["posterior_weight"] - runs["truth"]) / runs["posterior_sd"]
    grouped = runs.assign(_z=z_error).groupby("link", sort=False)
    table = pd.DataFrame(
        {
            "coverage": grouped["covered"].mean(),
            "replicates": grouped["covered"].size(),
            "error_sd": grouped["_z"].std(),
        }
    ).reset_index()
    table["level"] = float(runs["level"].iloc[0]) if len(runs) else np.nan
    table["overall_coverage"] = float(runs["covered"].mean()) if len(runs) else np.nan
    table["link_runs"] = len(runs)
    return table.sort_values(["coverage", "link"], kind="stable").reset_index(drop=True)


def flag_rates(runs: pd.DataFrame) -> pd.DataFrame:
    """Per link, how often the refinement flagged it, most flagged first.

    Columns: ``link``, ``truth`` (the weight the cases came from),
    ``prior_weight``, ``p_flagged``, ``p_strengthened``, ``p_weakened``,
    ``p_reversed`` (share of replicates with each verdict), ``replicates``;
    the same on every row: ``flags_per_run`` (mean number of links flagged per
    replicate) and ``p_any_flag`` (share of replicates flagging any link).
    """
    grouped = runs.groupby("link", sort=False)
    table = pd.DataFrame(
        {
            "truth": grouped["truth"].first(),
            "prior_weight": grouped["prior_weight"].first(),
            "p_flagged": grouped["flagged"].mean(),
            **{f"p_{v}": grouped["verdict"].apply(lambda s, v=v: float((s == v).mean())) for v in ("strengthened", "weakened", "reversed")},
            "replicates": grouped["flagged"].size(),
        }
    ).reset_index()
    per_run = runs.groupby("replicate")["flagged"].sum()
    table["flags_per_run"] = float(per_run.mean()) if len(per_run) else np.nan
    table["p_any_flag"] = float((per_run > 0).mean()) if len(per_run) else np.nan
    return table.sort_values(["p_flagged", "link"], ascending=[False, True], kind="stable").reset_index(drop=True)
