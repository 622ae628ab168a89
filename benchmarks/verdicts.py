"""Do the refinement's verdicts survive chance? Null and four-changed-links simulations on the shipped priors.

* Null: case sets simulated from the shipped model itself (nothing changed),
  ``--n`` cases, ``--missing`` blanks, one per seed; every flag is false.
  Target: on average at most 0.3 links flagged per run (10+ seeds).
* Changed: the same with four links changed (legal_agreements:initial_trust
  = 3.0, trust:synergy = 0.5, faith:synergy = -1.0, conflict:dissolution =
  2.5). A changed link is flagged "in the right direction" when its verdict is
  strengthened for a truth beyond the elicited weight (away from 0), and
  weakened or reversed for a truth toward or past 0. Target: at least three
  of the four in 70% of seeds.

Verdicts: :func:`bayes_cmo.refine` with its defaults (margin 0.5 log-odds,
Bayesian FDR 10%); ``--joint`` uses the joint-information sd. Also printed:
the old per-link interval rule (``interval_verdict``) for comparison.

Per changed link it also prints the medians over seeds of the posterior
weight, sd, sd_ratio and p_departure, the share of seeds in which the link is
prior-dominated (the cases narrowed its interval by less than 20%), and a
normal-normal projection of the study size at which its median p_departure
would reach 1 - FDR (each case's information taken from the runs:
``(1/sd_post^2 - 1/sd_prior^2) / n``; posterior mean = precision-weighted
prior and truth).

Run: python benchmarks/verdicts.py [--seeds 10] [--first-seed 1] [--n 200] [--missing 0.3] [--joint] [--out PREFIX]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from bayes_cmo import build_model, load_theory, refine, set_link_weight, simulate_cases, update_priors

CHANGED = {
    "legal_agreements:initial_trust": 3.0,
    "trust:synergy": 0.5,
    "faith:synergy": -1.0,
    "conflict:dissolution": 2.5,
}


def right_direction(prior: float, truth: float, verdict: str) -> bool:
    d = -1.0 if prior < 0 else 1.0
    if d * truth > abs(prior):
        return verdict == "strengthened"
    return verdict in ("weakened", "reversed")


def projected_n(prior_w, prior_sd, truth, info, margin, target, n_max=100_000):
    """Smallest study size whose normal-normal posterior gives p_departure >= ``target`` (None beyond ``n_max``)."""
    from bayes_cmo.update.refinement import departure_probabilities

    sizes = np.unique(np.geomspace(1, n_max, 400).astype(int))
    precision = 1 / prior_sd**2 + sizes * info
    mean = (prior_w / prior_sd**2 + sizes * info * truth) / precision
    p = np.sum(departure_probabilities(np.full(sizes.size, prior_w), mean, 1 / np.sqrt(precision), margin), axis=0)
    hit = np.flatnonzero(p >= target)
    return int(sizes[hit[0]]) if hit.size else None


def run(theory, truth_theory, seeds, n, missing, joint, margin, fdr):
    from tqdm import tqdm

    from bayes_cmo.update.joint import joint_uncertainty

    prior = build_model(theory)
    truth = build_model(truth_theory)
    out = []
    for seed in tqdm(list(seeds), desc="seeds", leave=False):
        t0 = time.perf_counter()
        result = update_priors(prior, simulate_cases(truth, n, missing=missing, seed=seed))
        table = refine(result, margin=margin, fdr=fdr, joint=joint_uncertainty(result) if joint else None)
        out.append((table.set_index("link"), time.perf_counter() - t0))
    return out


def _write(path, seeds, tables) -> None:
    pd.concat([t.reset_index().assign(seed=s) for s, (t, _) in zip(seeds, tables)]).to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1, help="seeds run from here (fresh seeds for a held-out check)")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--missing", type=float, default=0.3)
    parser.add_argument("--margin", type=float, default=0.5)
    parser.add_argument("--fdr", type=float, default=0.1)
    parser.add_argument("--joint", action="store_true")
    parser.add_argument("--out", help="also write every run's refinement table to PREFIX_null.csv / PREFIX_changed.csv")
    args = parser.parse_args()
    theory = load_theory()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    changed = theory
    for link, w in CHANGED.items():
        changed = set_link_weight(changed, link, w)

    null = run(theory, theory, seeds, args.n, args.missing, args.joint, args.margin, args.fdr)
    if args.out:
        _write(f"{args.out}_null.csv", seeds, null)
    flags = [int(t["flagged"].sum()) for t, _ in null]
    old = [int(t["interval_verdict"].isin(["strengthened", "weakened", "reversed"]).sum()) for t, _ in null]
    expected = [float(t["expected_false_flags"].iloc[0]) for t, _ in null]
    print(f"shipped priors, n = {args.n}, {args.missing:.0%} blanks, margin {args.margin}, FDR {args.fdr:.0%}, "
          f"{'joint' if args.joint else 'block'} sd, {args.seeds} seeds; median {statistics.median(t for _, t in null):.1f} s per run")
    print(f"null: {np.mean(flags):.2f} links flagged per run on average (target <= 0.3), "
          f"{np.mean(np.array(flags) > 0):.0%} of runs flag any; per run {flags}; "
          f"flags expected by chance (stated) {np.mean(expected):.2f}; old interval rule {np.mean(old):.2f} per run")
    named = [",".join(t.index[t["flagged"]]) for t, _ in null if t["flagged"].any()]
    if named:
        print("  null flags:", "; ".join(named))

    hits, detail = [], []
    runs = run(theory, changed, seeds, args.n, args.missing, args.joint, args.margin, args.fdr)
    if args.out:
        _write(f"{args.out}_changed.csv", seeds, runs)
    for table, _ in runs:
        ok = {link: right_direction(theory.link(link).weight, w, table.loc[link, "verdict"]) for link, w in CHANGED.items()}
        hits.append(sum(ok.values()))
        detail.append(ok)
    share = np.mean(np.array(hits) >= 3)
    others = [int(t["flagged"].sum() - t.loc[list(CHANGED), "flagged"].sum()) for t, _ in runs]
    total = sum(int(t["flagged"].sum()) for t, _ in runs)
    wrong = sum(others) + sum(int(t.loc[link, "flagged"]) - int(d[link]) for (t, _), d in zip(runs, detail) for link in CHANGED)
    print(f"four links changed: unchanged links flagged {np.mean(others):.2f} per run {others}; realised false-flag "
          f"share {wrong / max(total, 1):.0%} of {total} flags (stated: {np.mean([t['expected_false_flags'].iloc[0] for t, _ in runs]):.2f} per run)")
    print(f"four links changed: >= 3 of 4 flagged in the right direction in {share:.0%} of seeds (target >= 70%); "
          f"hits per seed {hits}")
    for link in CHANGED:
        rows = pd.DataFrame([t.loc[link] for t, _ in runs])
        med = rows[["posterior_weight", "posterior_sd", "sd_ratio", "p_departure"]].median()
        prior_w, prior_sd = float(rows["prior_weight"].iloc[0]), float(rows["prior_sd"].iloc[0])
        info = float(np.median((1 / rows["posterior_sd"] ** 2 - 1 / prior_sd**2) / args.n))
        need = projected_n(prior_w, prior_sd, CHANGED[link], info, args.margin, 1 - args.fdr)
        print(f"  {link} ({prior_w:+g} sd {prior_sd:.2f} -> {CHANGED[link]:+g}): right in "
              f"{np.mean([d[link] for d in detail]):.0%} of seeds; median posterior {med.posterior_weight:+.2f} "
              f"sd {med.posterior_sd:.2f} (sd_ratio {med.sd_ratio:.2f}), p_departure {med.p_departure:.2f}; "
              f"prior-dominated in {np.mean(rows['dominance'] == 'prior-dominated'):.0%}; verdicts "
              f"{rows['verdict'].value_counts().to_dict()}; projected n for median p_departure >= {1 - args.fdr:.0%}: "
              f"{need if need else '> 100000'}")


if __name__ == "__main__":
    main()
