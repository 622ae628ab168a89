"""update, simulate, compare: phase-2 case data and the programme theory's refinement."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

from ..update.cases import read_cases
from ..network.model import build_model, load_model
from ..update.write import write_priors
from ..update.refinement import (
    VERDICTS,
    DEFAULT_FDR, DEFAULT_MARGIN, chance_line, compare_models, data_conflict, global_check, global_line, refine,
)
from ..update.simulate import parse_link_setting, set_link_weight, simulate_cases
from ..theory import default_priors_path
from ..update.em import DEFAULT_MAX_ITER, update_priors
from .._errors import BayesCMOError
from . import _common


def check_not_input(output: str | Path | None, option: str, inputs: Iterable[str | Path | None]) -> None:
    """Refuse an output that is an input, lies inside an input folder, or would replace a folder holding an input.

    Applies even with --force: nothing the user gave is ever modified.
    """
    if not output:
        return
    target = Path(output).resolve()
    for given in inputs:
        if given is None:
            continue
        source = Path(given).resolve()
        if target == source:
            problem = f"is the input {given}"
        elif source.is_relative_to(target):
            problem = f"would replace the folder holding the input {given}"
        elif source.is_dir() and target.is_relative_to(source):
            problem = f"is inside the input folder {given}"
        else:
            continue
        raise BayesCMOError(f"{option} {output}: {problem}; inputs are never overwritten, choose another name")


def check_plot_name(path: str | None) -> None:
    """The --plot suffix, checked before the work rather than after it."""
    if path and Path(path).suffix.lower() not in (".png", ".pdf", ".svg"):
        raise BayesCMOError(f"--plot {path}: expected a .png, .pdf or .svg file name")


def check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        hint = f"; did you mean {level / 100:g}?" if 1.0 < level < 100.0 else ", e.g. 0.9"
        raise BayesCMOError(f"--level {level:g}: expected a credible level between 0 and 1{hint}")


def check_missing(missing: float) -> None:
    if not 0.0 <= missing < 1.0:
        hint = f"; did you mean {missing / 100:g}?" if 1.0 < missing < 100.0 else (
            " (1 would leave every cell blank)" if missing == 1.0 else ""
        )
        raise BayesCMOError(f"--missing {missing:g}: expected the fraction of blank cells, at least 0 and below 1{hint}")


def register(subparsers) -> None:
    update = subparsers.add_parser(
        "update",
        help="update the priors with phase-2 case data; report which CMO links the cases refined",
        description=(
            "Read a case CSV (case_id, optional label/notes, one column per node holding state names, "
            "blank = not observed), update the priors by exact-inference EM, write a complete new priors "
            "folder (--out, loadable with --model) with provenance, and print the refinement: each link's "
            "prior vs posterior weight with intervals and a verdict (strengthened / weakened / reversed by more than "
            "--margin, chosen so that the Bayesian false discovery rate across links is at most --fdr; otherwise "
            "consistent / no information / needs cases observed over rounds), a global predictive check, then the "
            "cases the theory explains poorly (beyond the 95th percentile of the model's own cases). "
            "Example: bayes-cmo update cases.csv --out priors_v2"
        ),
    )
    update.add_argument(
        "cases",
        metavar="CASES.csv",
        help="case data file (as saved from a spreadsheet: ';' separators, a byte-order mark, blank rows are fine)",
    )
    update.add_argument("--out", required=True, metavar="DIR", help="new priors folder to write (never overwritten without --force)")
    _common.add_model(update)
    update.add_argument("--max-iter", type=int, default=DEFAULT_MAX_ITER, metavar="N", help=f"EM iterations at most (default {DEFAULT_MAX_ITER})")
    update.add_argument("--level", type=float, default=0.9, help="credible level of the intervals (default 0.9)")
    update.add_argument("--margin", type=float, default=DEFAULT_MARGIN, metavar="LOGODDS",
                        help=f"practical margin: a link counts as stronger/weaker/reversed only beyond it (default {DEFAULT_MARGIN:g}, half a verbal-strength step)")
    update.add_argument("--fdr", type=float, default=DEFAULT_FDR,
                        help=f"Bayesian false discovery rate the verdicts control across links (default {DEFAULT_FDR:g})")
    update.add_argument("--joint", action="store_true",
                        help="link sd from the joint observed information of all weights and cutpoints (slower: ~30 s on the shipped priors)")
    update.add_argument("--report", metavar="FILE.csv", help="also write the link table as CSV")
    update.add_argument("--conflict-report", metavar="FILE.csv", help="also write the per-case data-conflict table as CSV")
    update.add_argument("--plot", metavar="FILE.png", help="also draw the forest plot of prior vs posterior link weights")
    update.add_argument("--json", action="store_true", help="print JSON ({links: [...], cases: [...]}) instead of tables")
    update.add_argument("--force", action="store_true", help="replace --out / report / plot files that already exist")
    update.add_argument("--quiet", action="store_true", help="no progress bar")
    update.set_defaults(run=run_update)

    simulate = subparsers.add_parser(
        "simulate",
        help="draw synthetic cases from the model (clearly marked synthetic) to try the update",
        description=(
            "Forward-sample N partnerships from the model and blank a fraction of the cells at random. "
            "--set-link FROM:TO=WEIGHT draws from a version of the theory with that link's log-odds weight "
            "changed, to check that 'update' notices. Example: bayes-cmo simulate --n 40 --missing 0.3 "
            "--seed 1 --out cases.csv --set-link legal_agreements:initial_trust=3.0"
        ),
    )
    _common.add_model(simulate)
    simulate.add_argument("--n", type=int, required=True, help="number of cases")
    simulate.add_argument("--missing", type=float, default=0.0, help="fraction of cells left blank at random (default 0)")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--set-link", action="append", default=[], metavar="FROM:TO=WEIGHT", help="simulate with this link's signed weight (repeatable)")
    simulate.add_argument("--observe", action="append", default=[], metavar="NODE", help="record only these nodes (repeatable; default all)")
    simulate.add_argument("--out", required=True, metavar="FILE.csv", help="case file to write")
    simulate.add_argument("--force", action="store_true", help="replace FILE.csv if it exists")
    simulate.set_defaults(run=run_simulate)

    compare = subparsers.add_parser(
        "compare",
        help="the headline queries under two versions of the priors, side by side",
        description=(
            "P(synergy), P(dissolution) and their shift by legal_agreements (or --target nodes) under "
            "PRIORS_A and PRIORS_B, with the difference B - A. Example: bayes-cmo compare priors priors_v2"
        ),
    )
    compare.add_argument("priors_a", metavar="PRIORS_A", help="priors folder or network file")
    compare.add_argument("priors_b", metavar="PRIORS_B", help="priors folder or network file")
    compare.add_argument("--target", "-t", action="append", metavar="NODE", help="node to compare (repeatable; default synergy, dissolution)")
    _common.add_findings(compare, do=False)
    _common.add_output(compare)
    compare.set_defaults(run=run_compare)


def _print_warnings(caught) -> None:
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)


def run_update(args: argparse.Namespace) -> int:
    # Every check before the work: a mistake costs seconds, not an EM run.
    out = Path(args.out)
    if args.max_iter < 1:
        raise BayesCMOError(f"--max-iter {args.max_iter}: expected a positive number of EM iterations")
    check_level(args.level)
    if not 0.0 < args.fdr < 1.0:
        raise BayesCMOError(f"--fdr {args.fdr:g}: expected a false discovery rate between 0 and 1, e.g. 0.1")
    if not args.margin >= 0:
        raise BayesCMOError(f"--margin {args.margin:g}: expected a log-odds margin >= 0, e.g. 0.5")
    check_plot_name(args.plot)
    model = load_model(args.model)
    inputs = (args.cases, args.model or model.source)
    for option, value in (("--out", args.out), ("--report", args.report), ("--conflict-report", args.conflict_report), ("--plot", args.plot)):
        check_not_input(value, option, inputs)
    if out.exists() and not args.force:
        raise BayesCMOError(f"{out}: already exists; choose another --out or pass --force to replace it")
    for option in ("report", "conflict_report", "plot"):
        if getattr(args, option):
            _common.check_new_file(Path(getattr(args, option)), args.force)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cases = read_cases(args.cases, model)
    if not len(cases):
        raise BayesCMOError(f"{args.cases}: no cases (only a header, or every row blank); expected one row per partnership")
    _print_warnings(caught)
    progress = not args.quiet and sys.stderr.isatty()
    result = update_priors(model, cases, max_iter=args.max_iter, progress=progress)
    joint = None
    if args.joint:
        from ..update.joint import joint_uncertainty

        joint = joint_uncertainty(result)
    links = refine(result, level=args.level, margin=args.margin, fdr=args.fdr, joint=joint)
    conflict = data_conflict(result.model, result.cases)
    overall = global_check(result)
    write_priors(result, out, force=args.force)
    if args.report:
        _common.write_atomic(Path(args.report), links.to_csv(index=False), force=args.force)
    if args.conflict_report:
        _common.write_atomic(Path(args.conflict_report), conflict.to_csv(index=False), force=args.force)
    if args.plot:
        from ..plots.update import forest_plot

        _common.save_figure(forest_plot(links), args.plot, args.force)
    if args.json:
        payload = {
            "out": str(out),
            "iterations": result.iterations,
            "converged": result.converged,
            "global_check": [{k: _common._jsonable(v) for k, v in row.items()} for row in overall.to_dict(orient="records")],
            "summary": {k: _common._jsonable(v) for k, v in links.attrs.items()},
            "conflict_threshold": _common._jsonable(conflict.attrs.get("threshold", 0.0)),
            "links": [{k: _common._jsonable(v) for k, v in row.items()} for row in links.to_dict(orient="records")],
            "cases": [{k: _common._jsonable(v) for k, v in row.items()} for row in conflict.to_dict(orient="records")],
        }
        print(json.dumps(payload, indent=2))
        return 0
    status = "converged" if result.converged else "did NOT converge (raise --max-iter)"
    print(f"{len(result.cases)} case(s) from {args.cases}; EM {status} after {result.iterations} iteration(s)")
    print(f"wrote {out} (load it with --model {out})")
    print(global_line(overall))
    print()
    sd = "joint" if joint is not None else "per-node Laplace"
    print(f"CMO links: prior vs posterior log-odds weight, {args.level:.0%} intervals ({sd} sd)")
    shown = links[["link", "prior_weight", "posterior_weight", "posterior_low", "posterior_high", "n_both", "p_departure", "verdict"]]
    print(_common.format_table(shown, digits=2))
    counts = links["verdict"].value_counts()
    print("\n" + ", ".join(f"{counts[v]} {v}" for v in VERDICTS if v in counts))
    print(chance_line(links))
    flagged = conflict[conflict["flagged"]]
    print()
    threshold = conflict.attrs.get("threshold", 0.0)
    if flagged.empty:
        print(f"no case explained poorly (every data-conflict score <= {threshold:.2f}, the 95th percentile among the model's own cases)")
    else:
        print(f"cases the theory explains poorly (data conflict > {threshold:.2f}, which 5% of the model's own cases exceed; "
              f"{len(flagged)} of {len(conflict)}, worst first; contradicts = findings whose removal lowers the conflict most):")
        print(_common.format_table(flagged.head(10).drop(columns=["flagged", "threshold"]), digits=2))
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.n < 1:
        raise BayesCMOError(f"--n {args.n}: expected a positive number of cases to simulate")
    check_missing(args.missing)
    if out.is_dir():
        raise BayesCMOError(f"--out {out}: is a folder; expected a CSV file name, e.g. {out / 'cases.csv'}")
    check_not_input(out, "--out", [args.model or default_priors_path()])
    _common.check_new_file(out, args.force)
    if args.set_link:
        model = load_model(args.model)
        if model.theory is None:
            raise BayesCMOError(f"--set-link needs a priors folder (--model), not the network file {args.model}")
        theory = model.theory
        for setting in args.set_link:
            link_id, weight = parse_link_setting(setting)
            theory = set_link_weight(theory, link_id, weight)
        model = build_model(theory, source=model.source)
    else:
        model = load_model(args.model)
    frame = simulate_cases(model, args.n, missing=args.missing, seed=args.seed, observed=args.observe or None)
    changed = f" with {', '.join(args.set_link)}" if args.set_link else ""
    _common.write_atomic(out, frame.to_csv(index=False), force=args.force)
    print(f"wrote {out}: {args.n} synthetic case(s) from {model.source}{changed}, {args.missing:.0%} blanks, seed {args.seed}", file=sys.stderr)
    return 0


def run_compare(args: argparse.Namespace) -> int:
    check_not_input(args.csv, "--csv", [args.priors_a, args.priors_b])
    model_a, model_b = load_model(args.priors_a), load_model(args.priors_b)
    evidence = _common.parse_findings(args.evidence, "--evidence")
    table = compare_models(model_a, model_b, targets=args.target, evidence=evidence)
    if not args.json:
        print(f"A = {args.priors_a}\nB = {args.priors_b}")
    _common.emit(table, args)
    return 0
