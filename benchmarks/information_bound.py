"""Benchmark: how much can ANY method learn about one link from a phase-2 study? An oracle bound.

Issue 11 asks that a study of 50 cases with 30% blanks, simulated from a
truth in which one medium-confidence link is 2 log-odds stronger than
elicited, flags that link in 70% of studies; issue 12 asks that the flags of
a study simulated from the elicited model itself stay at 0.3 links per run or
fewer. This script asks what the cases themselves can say, whatever the
method, for every same-round medium-confidence link:

* truth = elicited weight + ``--shift`` log-odds (away from 0), every other
  judgement as elicited;
* an **oracle** that knows every other parameter exactly and uses no prior
  (more than any real study has: a real one estimates the other weights and
  cutpoints of the same node from the same cases);
* the expected Fisher information of the weight per case, with ``--missing``
  blanks, by Monte Carlo: the score is the central difference of log P(a
  case's findings) over the weight (exact inference), averaged over
  ``--cases`` simulated cases (default 20,000).

By the Cramer-Rao bound no unbiased estimate from ``n`` cases has a standard
error below ``1 / sqrt(n I)``, so an ideal one-sided test of "stronger than
elicited" at level alpha has power at most about ``Phi(shift / se - z_alpha)``.
Printed per link: the information per case, the oracle's standard error at
``--n`` cases, its power at alpha = 10% and 5% (one link asked about on its
own) and at the per-link level that keeps chance flags across all the
theory's links at 0.3 per run (``0.3 / (2 * links)`` a side), and the number
of cases the oracle needs for 70% power at 5% and at that level.

Run: python benchmarks/information_bound.py [--n 50] [--missing 0.3] [--shift 2] [--cases 20000] [--seed 1] [--out FILE.csv]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy.stats import norm

from bayes_cmo import build_model, load_theory, read_cases, set_link_weight, simulate_cases
from bayes_cmo.engine import core
from bayes_cmo.update.cases import case_likelihoods

#: Chance flags per run that issue 12's null target allows.
NULL_FLAGS = 0.3
STEP = 0.05  # central-difference step in log-odds


def information_per_case(theory, link_id: str, shift: float, missing: float, cases: int, seed: int) -> float:
    """Expected Fisher information of the link's weight per case, at the truth, everything else known."""
    link = theory.link(link_id)
    direction = -1.0 if link.weight < 0 else 1.0
    truth_weight = link.weight + direction * shift
    truth = build_model(set_link_weight(theory, link_id, truth_weight))
    drawn = read_cases(simulate_cases(truth, cases, missing=missing, seed=seed), truth)
    log_p = []
    for weight in (truth_weight - STEP, truth_weight + STEP):
        model = build_model(set_link_weight(theory, link_id, weight))
        log_p.append(np.log(core.probability_of_evidence(model.network, likelihoods=case_likelihoods(drawn, model))))
    score = (log_p[1] - log_p[0]) / (2 * STEP)
    return float(np.mean(score**2))


def bound_row(link_id: str, info: float, n: int, shift: float, alpha_family: float) -> dict:
    se = 1.0 / np.sqrt(n * info)
    power = lambda alpha: float(norm.cdf(shift / se - norm.ppf(1 - alpha)))  # noqa: E731
    needed = lambda alpha: float((norm.ppf(0.7) + norm.ppf(1 - alpha)) ** 2 / (shift**2 * info))  # noqa: E731
    return {
        "link": link_id, "information_per_case": info, "oracle_se": se,
        "power_10pct": power(0.10), "power_5pct": power(0.05), "power_family": power(alpha_family),
        "n_70pct_at_5pct": needed(0.05), "n_70pct_family": needed(alpha_family),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50, help="study size (cases)")
    parser.add_argument("--missing", type=float, default=0.3, help="share of blank cells")
    parser.add_argument("--shift", type=float, default=2.0, help="truth minus elicited weight, log-odds")
    parser.add_argument("--cases", type=int, default=20_000, help="simulated cases for the Monte Carlo information")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="also write the table as CSV")
    args = parser.parse_args()
    theory = load_theory()
    links = [link.id for link in theory.links if link.confidence == "medium" and not link.lag]
    informed = sum(1 for link in theory.links if not link.lag)
    alpha_family = NULL_FLAGS / (2 * informed)
    print(f"oracle bound: {args.n} cases, {args.missing:.0%} blanks, truth = elicited + {args.shift:g}; "
          f"{len(links)} medium-confidence links; family level {alpha_family:.4f} a side "
          f"({NULL_FLAGS} chance flags per run over {informed} same-round links); {args.cases} simulated cases each")
    rows = []
    for link_id in links:
        info = information_per_case(theory, link_id, args.shift, args.missing, args.cases, args.seed)
        rows.append(bound_row(link_id, info, args.n, args.shift, alpha_family))
        r = rows[-1]
        print(f"  {link_id:50s} I {info:.4f}/case  se {r['oracle_se']:.2f}  power 10% {r['power_10pct']:.0%}  "
              f"5% {r['power_5pct']:.0%}  family {r['power_family']:.0%}  | n for 70%: 5% {r['n_70pct_at_5pct']:.0f}, "
              f"family {r['n_70pct_family']:.0f}", flush=True)
    table = pd.DataFrame(rows)
    reach = lambda column: int((table[column] >= 0.7).sum())  # noqa: E731
    print(f"links the oracle flags in >= 70% of {args.n}-case studies: at 10% {reach('power_10pct')}, "
          f"at 5% {reach('power_5pct')}, at the family level {reach('power_family')} of {len(table)}")
    if args.out:
        table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
