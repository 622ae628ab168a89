"""Simulation-based calibration of the update's link intervals (truths drawn from the priors).

Each replicate draws a "true" programme theory from the priors (every link
weight and baseline from its second-order distribution, seeded), simulates a
phase-2 study from it (``--n`` cases, ``--missing`` blanks), updates the
elicited priors with it, and records whether each link's central 90%
interval covers the true weight: with the per-node (block) Laplace sd of the
update and, with ``--joint``, with the sd from the joint observed information
(:mod:`bayes_cmo.update.joint`). If the posterior is calibrated, 90% of
link-runs are covered overall and no link falls far below.
Targets: overall 85 - 95%, no link below 75% over 20+ replicates.

Truths (``--truths``): ``update`` (default) draws them from the prior the
update itself uses: link weights Normal(elicited, sd) and, for nodes built
from links, the baseline from the cutpoints' prior ``prod pi0_k^(ess*b_k)`` in
cutpoint space (:mod:`bayes_cmo.update.ordered_logit`), by resampling
Dirichlet(ess * b) draws with weights ``prod_k pi_k / prod_j F_j (1 - F_j)``
(F = cumulative baseline; the weight is 1 for two states). ``elicitation``
draws every baseline from Dirichlet(ess * b) (:func:`bayes_cmo.draw_parameters`),
which is not the update's prior for three or more states: a calibration study
must draw truths from the prior it tests.

Chance: with R replicates a perfectly calibrated link's coverage is
Binomial(R, 0.9) / R, so the worst of ~60 links falls below 75% in about half
of 20-replicate studies. The script prints that reference (how often a
calibrated posterior shows a worst link as low as observed), a dispersion
test of the per-link coverage counts against the binomial, and the spread
of the standardised errors ``(mean - truth) / sd`` (1 if calibrated).

Prints overall coverage, per-link coverage (worst first), the verdict.

Run: python benchmarks/calibration.py [--replicates 20] [--n 200] [--missing 0.3] [--seed 0] [--joint]
     [--truths update|elicitation] [--out FILE.csv]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import numpy as np
import pandas as pd
from scipy.stats import binom, chi2, norm

from bayes_cmo import build_model, draw_parameters, load_theory, simulate_cases, update_priors
from bayes_cmo.engine.core import with_cpts
from bayes_cmo.network.model import Model


def update_prior_baselines(theory, truths, replicates: int, seed, oversample: int = 50):
    """``truths`` with the baseline of every node built from links redrawn from the update's cutpoint prior (SIR)."""
    from bayes_cmo.update.ordered_logit import families

    rng = np.random.default_rng(seed)
    baselines = dict(truths.baselines)
    for node, spec in families(theory).items():
        alpha = np.maximum(spec.pseudo, 1e-3)
        draws = rng.dirichlet(alpha, size=oversample * replicates)
        cum = np.cumsum(draws, axis=1)[:, :-1]
        log_w = np.log(draws).sum(axis=1) - np.log(cum * (1 - cum)).sum(axis=1)
        w = np.exp(log_w - log_w.max())
        baselines[node] = draws[rng.choice(draws.shape[0], size=replicates, replace=False, p=w / w.sum())]
    return dataclasses.replace(truths, baselines=baselines)


def coverage_table(theory, replicates: int, n: int, missing: float, seed: int, joint: bool, level: float = 0.9,
                   truths_from: str = "update"):
    """One row per (replicate, link): truth, posterior mean, sds, covered_block (and covered_joint), EM iterations."""
    from tqdm import tqdm

    from bayes_cmo.update.joint import joint_uncertainty

    prior = build_model(theory)
    z = norm.ppf(0.5 + level / 2)
    worlds, studies = np.random.SeedSequence(seed).spawn(2)
    truths = draw_parameters(theory, replicates, worlds)
    if truths_from == "update":
        truths = update_prior_baselines(theory, truths, replicates, worlds.spawn(1)[0])
    case_seeds = np.random.default_rng(studies).integers(0, 2**31, size=replicates)
    batched = build_model(theory, truths).network
    rows, times = [], []
    for r in tqdm(range(replicates), desc="replicates", leave=False):
        cpts = {v: (c[r] if batched.is_batched(v) else c) for v, c in batched.cpts.items()}
        world = Model(network=with_cpts(batched, **cpts), theory=theory, source="truth")
        cases = simulate_cases(world, n, missing=missing, seed=int(case_seeds[r]))
        t0 = time.perf_counter()
        result = update_priors(prior, cases)
        js = joint_uncertainty(result).link_sd if joint else {}
        times.append(time.perf_counter() - t0)
        for row in result.links[result.links["updated"]].itertuples():
            truth = float(np.asarray(truths.weights[row.link])[r])
            out = {"replicate": r, "link": row.link, "truth": truth, "mean": row.posterior_weight,
                   "block_sd": row.posterior_sd,
                   "covered_block": abs(truth - row.posterior_weight) <= z * row.posterior_sd,
                   "iterations": result.iterations, "converged": result.converged}
            if joint:
                out["joint_sd"] = js[row.link]
                out["covered_joint"] = abs(truth - row.posterior_weight) <= z * js[row.link]
            rows.append(out)
    return pd.DataFrame(rows), times


def chance_line(table: pd.DataFrame, covered: str, sd: str, level: float = 0.9) -> str:
    """How a calibrated posterior would look with this many replicates and links, against what was seen."""
    per_link = table.groupby("link")[covered].agg(["sum", "count"])
    links, reps = len(per_link), int(per_link["count"].median())
    worst = int(per_link["sum"].min())
    p_worst = 1 - (1 - binom.cdf(worst, reps, level)) ** links  # P(some link covers <= worst | calibrated)
    expected = per_link["count"] * level
    stat = float((((per_link["sum"] - expected) ** 2) / (expected * (1 - level))).sum())
    z = (table["mean"] - table["truth"]) / table[sd]
    return (f"if calibrated: a worst link at or below {worst}/{reps} in {p_worst:.0%} of such studies; "
            f"dispersion of per-link coverage vs Binomial({reps}, {level}): chi2 {stat:.1f} on {links} df, "
            f"p = {chi2.sf(stat, links):.2f}; standardised errors sd {z.std():.2f} (1 if calibrated)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--missing", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--joint", action="store_true", help="also the joint-information sd (about 30 s per replicate)")
    parser.add_argument("--worst", type=int, default=10)
    parser.add_argument("--out", help="also write the per-link-run table to this CSV")
    parser.add_argument("--truths", choices=("update", "elicitation"), default="update",
                        help="draw truths from the update's own prior (default) or the elicitation's Dirichlet baselines")
    args = parser.parse_args()
    theory = load_theory()
    table, times = coverage_table(theory, args.replicates, args.n, args.missing, args.seed, args.joint,
                                  truths_from=args.truths)
    if args.out:
        table.to_csv(args.out, index=False)
    print(f"{args.replicates} replicates, truths drawn from the priors, n = {args.n}, {args.missing:.0%} blanks, "
          f"seed {args.seed}, truths from the {args.truths} prior; median {statistics.median(times):.1f} s per replicate; "
          f"EM converged in {table.groupby('replicate')['converged'].first().mean():.0%} of replicates "
          f"(median {table.groupby('replicate')['iterations'].first().median():.0f} iterations)")
    kinds = ["block"] + (["joint"] if args.joint else [])
    per_link = table.groupby("link")[[f"covered_{k}" for k in kinds]].mean()
    spread = table.assign(err=(table["mean"] - table["truth"]) / table["block_sd"]).groupby("link")["err"].std()
    per_link["error_sd_in_block_sds"] = spread
    for k in kinds:
        overall = table[f"covered_{k}"].mean()
        worst = per_link[f"covered_{k}"].min()
        ok = 0.85 <= overall <= 0.95 and worst >= 0.75
        print(f"{k:>6} sd: overall 90% coverage {overall:.1%} of {len(table)} link-runs; worst link {worst:.0%} "
              f"-> {'PASS' if ok else 'FAIL'} (target 85-95% overall, no link below 75%)")
        print("        " + chance_line(table, f"covered_{k}", f"{k}_sd" if k == "joint" else "block_sd"))
    print("\nper-link coverage, worst first:")
    print(per_link.sort_values(f"covered_{kinds[-1]}").head(args.worst).round(3).to_string())
    print("\nall links:")
    print(per_link.sort_index().round(3).to_string())


if __name__ == "__main__":
    main()
