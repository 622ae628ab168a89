"""Benchmark: is the prior proportionate? Can a realistic phase-2 study move a medium-confidence link?

A study of ``--n`` cases (default 50) with ``--missing`` blanks (default 30%)
is simulated from a truth in which one medium-confidence link (default
``legal_agreements:accountability``) is ``--shift`` log-odds (default 2) stronger
than elicited, every other judgement as elicited. The priors are updated with
the cases (exact-inference EM) and the link's verdict read from the refinement
table. Prints, over ``--replicates`` seeded studies (default 20), how often the
link is flagged "strengthened" (target: at least 70%), the median posterior
weight, the median sd ratio (posterior sd / prior sd), the link's
prior-equivalent cases, and the same study under the v0.1 confidence scale for
comparison.

``--link medium`` runs the study for every same-round medium-confidence link
(one truth per link) and prints one row per link: the number of links into its
target, the flagged share, the median posterior weight and sd ratio
(``--out FILE.csv`` also writes the rows, one link at a time as they finish).

Run: python benchmarks/prior_weight.py [--link ID|medium] [--replicates 20] [--n 50] [--missing 0.3] [--seed 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_cmo import build_model, load_theory, refine, update_priors
from bayes_cmo.theory import Theory, scales
from bayes_cmo.theory.lint import prior_cases
from bayes_cmo.update.cases import read_cases
from bayes_cmo.update.simulate import set_link_weight, simulate_cases

LINK = "legal_agreements:accountability"


def on_scale(theory: Theory, scale: str) -> Theory:
    """The same theory with its confidence words read on another scale."""
    sds = scales.CONFIDENCE_SCALES[scale]
    links = tuple(dataclasses.replace(link, confidence_sd=sds[link.confidence]) for link in theory.links)
    return dataclasses.replace(theory, links=links, confidence_scale=scale)


def family_theory(theory: Theory, link_id: str) -> Theory:
    """The link's two nodes and the link alone, with the shipped judgements (a fast stand-in for the tests)."""
    link = theory.link(link_id)
    keep = (link.source, link.target)
    return dataclasses.replace(
        theory,
        nodes={n: theory.nodes[n] for n in keep},
        links=(link,),
        claims=(),
        scenarios=(),
        tables={},
        reference={n: s for n, s in theory.reference.items() if n in keep},
    )


def flag_study(
    theory: Theory,
    link_id: str = LINK,
    shift: float = 2.0,
    n: int = 50,
    missing: float = 0.3,
    replicates: int = 20,
    seed: int = 0,
) -> list[dict]:
    """One row per simulated study: verdict, posterior weight and sd ratio of ``link_id``."""
    link = theory.link(link_id)
    truth = build_model(set_link_weight(theory, link_id, link.weight + np.sign(link.weight or 1.0) * shift))
    model = build_model(theory)
    seeds = np.random.SeedSequence(seed).generate_state(replicates)
    rows = []
    for r, s in enumerate(seeds):
        cases = read_cases(simulate_cases(truth, n, missing=missing, seed=int(s)), model)
        table = refine(update_priors(model, cases)).set_index("link")
        row = table.loc[link_id]
        rows.append({"replicate": r, "verdict": row["verdict"], "posterior_weight": float(row["posterior_weight"]),
                     "sd_ratio": float(row["sd_ratio"]), "dominance": row["dominance"]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--link", default=LINK)
    parser.add_argument("--shift", type=float, default=2.0)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--missing", type=float, default=0.3)
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare-v01", action="store_true", help="also run the study under the v0.1 scale")
    parser.add_argument("--out", type=Path, help="with --link medium: write the per-link rows to this CSV")
    args = parser.parse_args()

    shipped = load_theory()
    if args.link == "medium":
        return every_medium_link(shipped, args)
    print(f"{args.link}: truth = elicited + {args.shift:g} log-odds; {args.n} cases, {args.missing:.0%} blanks, "
          f"{args.replicates} seeded studies")
    for scale in ("cases", "v0.1") if args.compare_v01 else ("cases",):
        theory = on_scale(shipped, scale)
        link = theory.link(args.link)
        start = time.perf_counter()
        rows = flag_study(theory, args.link, args.shift, args.n, args.missing, args.replicates, args.seed)
        took = time.perf_counter() - start
        flagged = sum(r["verdict"] == "strengthened" for r in rows) / len(rows)
        print(
            f"  scale {scale:5s}: prior sd {link.weight_sd:.2f} ({prior_cases(theory, link):.0f} prior cases); "
            f"flagged strengthened in {flagged:.0%}; median posterior weight "
            f"{statistics.median(r['posterior_weight'] for r in rows):.2f} (elicited {link.weight:g}); "
            f"median sd ratio {statistics.median(r['sd_ratio'] for r in rows):.2f}; "
            f"prior-dominated in {sum(r['dominance'] == 'prior-dominated' for r in rows) / len(rows):.0%}; "
            f"median {took / len(rows):.2f} s per study"
        )


def medium_links(theory: Theory) -> list[str]:
    """Every same-round link elicited with medium confidence, in file order."""
    return [link.id for link in theory.links if link.confidence == "medium" and not link.lag]


def every_medium_link(theory: Theory, args) -> None:
    links = medium_links(theory)
    print(f"every medium-confidence link ({len(links)}): truth = elicited + {args.shift:g} log-odds; {args.n} cases, "
          f"{args.missing:.0%} blanks, {args.replicates} seeded studies each")
    rows = []
    for link_id in links:
        start = time.perf_counter()
        study = flag_study(theory, link_id, args.shift, args.n, args.missing, args.replicates, args.seed)
        link = theory.link(link_id)
        rows.append({
            "link": link_id, "parents_of_target": len(theory.links_into(link.target)), "n": args.n,
            "replicates": len(study), "flagged": sum(r["verdict"] == "strengthened" for r in study) / len(study),
            "median_posterior_weight": statistics.median(r["posterior_weight"] for r in study),
            "elicited_weight": link.weight, "median_sd_ratio": statistics.median(r["sd_ratio"] for r in study),
            "seconds_per_study": (time.perf_counter() - start) / len(study),
        })
        r = rows[-1]
        print(f"  {link_id:55s} {r['parents_of_target']:2d} links into target: flagged {r['flagged']:.0%}; "
              f"median posterior {r['median_posterior_weight']:.2f} (elicited {r['elicited_weight']:g}); "
              f"median sd ratio {r['median_sd_ratio']:.2f}", flush=True)
        if args.out:
            pd.DataFrame(rows).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
