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

Prints overall coverage, per-link coverage (worst first), the verdict.

Run: python benchmarks/calibration.py [--replicates 20] [--n 200] [--missing 0.3] [--seed 0] [--joint]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
from scipy.stats import norm

from bayes_cmo import build_model, draw_parameters, load_theory, simulate_cases, update_priors
from bayes_cmo.engine.core import with_cpts
from bayes_cmo.network.model import Model


def coverage_table(theory, replicates: int, n: int, missing: float, seed: int, joint: bool, level: float = 0.9):
    """One row per (replicate, link): truth, posterior mean, sds, covered_block (and covered_joint)."""
    from bayes_cmo.update.joint import joint_uncertainty

    prior = build_model(theory)
    z = norm.ppf(0.5 + level / 2)
    worlds, studies = np.random.SeedSequence(seed).spawn(2)
    truths = draw_parameters(theory, replicates, worlds)
    case_seeds = np.random.default_rng(studies).integers(0, 2**31, size=replicates)
    batched = build_model(theory, truths).network
    rows, times = [], []
    for r in range(replicates):
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
                   "covered_block": abs(truth - row.posterior_weight) <= z * row.posterior_sd}
            if joint:
                out["joint_sd"] = js[row.link]
                out["covered_joint"] = abs(truth - row.posterior_weight) <= z * js[row.link]
            rows.append(out)
    return pd.DataFrame(rows), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--missing", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--joint", action="store_true", help="also the joint-information sd (about 30 s per replicate)")
    parser.add_argument("--worst", type=int, default=10)
    parser.add_argument("--out", help="also write the per-link-run table to this CSV")
    args = parser.parse_args()
    theory = load_theory()
    table, times = coverage_table(theory, args.replicates, args.n, args.missing, args.seed, args.joint)
    if args.out:
        table.to_csv(args.out, index=False)
    print(f"{args.replicates} replicates, truths drawn from the priors, n = {args.n}, {args.missing:.0%} blanks, "
          f"seed {args.seed}; median {statistics.median(times):.1f} s per replicate")
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
    print("\nper-link coverage, worst first:")
    print(per_link.sort_values(f"covered_{kinds[-1]}").head(args.worst).round(3).to_string())
    print("\nall links:")
    print(per_link.sort_index().round(3).to_string())


if __name__ == "__main__":
    main()
