"""Phase-2 update, worked through on the shipped example case file.

``analysis/example_cases.csv`` holds 40 SYNTHETIC partnerships (every row's
notes say "synthetic"; ids sim-001...), drawn with
``bayes-cmo simulate --n 40 --missing 0.3 --seed 1 --set-link legal_agreements:initial_trust=3.0``,
i.e. from a world where legal agreements build initial trust more strongly
(log-odds 3.0) than the experts judged (1.0), with 30% of the cells blank.

Through the public API only, this script updates the default priors with
those cases, prints the refinement of the programme theory (which CMO links
the cases strengthened, weakened or reversed, and which cases the theory
explains poorly), writes the updated priors folder and two figures, and
compares the headline queries before and after.

Usage:
    python analysis/phase2_update.py [--cases analysis/example_cases.csv] [--out analysis/output] [--priors PATH] [--force]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import bayes_cmo as bc
from bayes_cmo._outputs import check_output, plan_folder_files
from bayes_cmo.plots.update import conflict_plot, forest_plot

HERE = Path(__file__).parent


EXAMPLE = HERE / "example_cases.csv"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=str(EXAMPLE))
    parser.add_argument("--out", default=str(HERE / "output"))
    parser.add_argument("--priors", default=None, help="priors folder (default: the shipped priors)")
    parser.add_argument("--force", action="store_true", help="replace earlier outputs")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except bc.BayesCMOError as exc:  # a mistake in the input: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise bc.BayesCMOError(f"--out {out}: is a file; expected a folder for the updated priors and figures")
    model = bc.load_model(args.priors)
    cases = bc.read_cases(args.cases, model)
    if not len(cases):
        raise bc.BayesCMOError(f"{args.cases}: no cases (only a header, or every row blank)")
    # the one output guard: never an input (priors, case file), existing files only with --force
    inputs = [model.source, args.cases]
    figures = ("forest_links.png", "data_conflict.png")
    keep = {name for name in figures if (out / name).exists() and not args.force}
    outputs = plan_folder_files("--out", out, {n: "figure" for n in figures if n not in keep}, inputs=inputs, force=args.force)
    folder = out / "priors_updated"
    priors_out = None if folder.exists() and not args.force else check_output("--out", folder, "folder", inputs=inputs, force=args.force)
    result = bc.update_priors(model, cases)
    links = bc.refine(result, level=0.9)
    conflict = bc.data_conflict(result.model, cases)
    print(f"{len(cases)} cases; EM converged={result.converged} after {result.iterations} iterations\n")

    moved = links[links["verdict"].isin(["strengthened", "weakened", "reversed"])]
    print("Links the cases refined (90% intervals):")
    print(moved[["link", "prior_weight", "posterior_weight", "posterior_low", "posterior_high", "n_both", "verdict"]]
          .round(2).to_string(index=False) if len(moved) else "  none")
    print("\nVerdicts:", links["verdict"].value_counts().to_dict())
    indexed = links.set_index("link")
    if "legal_agreements:initial_trust" in indexed.index:
        legal = indexed.loc["legal_agreements:initial_trust"]
        example = Path(args.cases).resolve() == EXAMPLE.resolve()
        print(f"legal_agreements -> initial_trust{' (simulated truth 3.0)' if example else ''}: prior {legal.prior_weight:.2f}, "
              f"posterior {legal.posterior_weight:.2f} [{legal.posterior_low:.2f}, {legal.posterior_high:.2f}], "
              f"{legal.n_both} cases saw both ends: {legal.verdict}"
              f"{' (40 cases move it, but not yet beyond the prior)' if example else ''}")
    print("\nCases the theory explains worst (data conflict > 0):")
    print(conflict[conflict["flagged"]].head(5).round(2).to_string(index=False))

    if priors_out is None:
        print(f"\n{folder} exists; kept (pass --force to replace)")
    else:
        bc.write_priors(result, folder, force=args.force, output=priors_out)
        print(f"\nwrote {folder}")
    for name, fig in (("forest_links.png", forest_plot(links, only_informed=True)),
                      ("data_conflict.png", conflict_plot(conflict))):
        if name in keep:
            print(f"{out / name} exists; kept")
            continue
        print(f"wrote {outputs[name].save_figure(fig)}")

    print("\nHeadline queries, default priors (a) vs updated (b):")
    print(bc.compare_models(model, result.model).round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
