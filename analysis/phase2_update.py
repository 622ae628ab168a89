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

import sys
from pathlib import Path

import _script
import bayes_cmo as bc
from bayes_cmo.plots.update import conflict_plot, forest_plot

EXAMPLE = _script.HERE / "example_cases.csv"
FIGURES = ("forest_links.png", "data_conflict.png")


def main(argv=None) -> int:
    made = _script.parser(__doc__, out=_script.HERE / "output", out_help="folder for the updated priors and figures")
    made.add_argument("--cases", default=str(EXAMPLE), help="case file (default: the synthetic example)")
    return _script.run(_run, made, argv)


def _run(args) -> int:
    out = Path(args.out)
    model = bc.load_model(args.priors)
    cases = bc.read_cases(args.cases, model)
    if not len(cases):
        raise bc.BayesCMOError(f"{args.cases}: no cases (only a header, or every row blank)")
    inputs = [model.source, args.cases]  # never overwritten: the priors and the case file
    outputs = _script.outputs(args, dict.fromkeys(FIGURES, "figure"), inputs=inputs)
    folder = out / "priors_updated"
    priors_out = bc.check_output("--out", folder, "folder", inputs=inputs, force=args.force)
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
              f"{legal.n_both} cases saw both ends: {legal.verdict}")
    print("\nCases the theory explains worst (data conflict > 0):")
    print(conflict[conflict["flagged"]].head(5).round(2).to_string(index=False))

    bc.write_priors(result, folder, force=args.force, output=priors_out)
    print(f"\nwrote {folder}")
    for name, fig in zip(FIGURES, (forest_plot(links, only_informed=True), conflict_plot(conflict))):
        print(f"wrote {outputs[name].save_figure(fig)}")

    print("\nHeadline queries, default priors (a) vs updated (b):")
    print(bc.compare_models(model, result.model).round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
