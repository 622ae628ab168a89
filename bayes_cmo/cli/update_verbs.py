"""update, simulate, compare: phase-2 case data and the programme theory's refinement."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import yaml

from ..update.cases import read_cases
from ..network.model import build_model, load_model
from ..update.write import write_priors
from ..update.refinement import (
    VERDICTS,
    DEFAULT_FDR, DEFAULT_MARGIN, chance_line, compare_models, data_conflict, global_check, global_line, refine,
)
from ..update.simulate import parse_link_setting, set_link_weight, simulate_cases
from ..update.em import DEFAULT_ESS, DEFAULT_MAX_ITER, METHOD, table_refinement, update_priors
from .._errors import BayesCMOError
from . import _common




def register(subparsers) -> None:
    update = subparsers.add_parser(
        "update",
        help="update the priors with phase-2 case data; report which CMO links the cases refined",
        description=(
            "Read a case CSV (case_id, optional label/notes, one column per node holding state names, "
            "blank = not observed; with a round column: one row per case and round, and the lagged links are learnt "
            "by two-slice EM), update the priors by exact-inference EM, write a complete new priors "
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
        help="case data file, CSV or .xlsx (as saved from a spreadsheet: ';' separators, a byte-order mark, blank rows are fine)",
    )
    update.add_argument("--sheet", metavar="NAME", help="the sheet of an .xlsx case file (default: the first)")
    update.add_argument(
        "--ignore-column",
        action="append",
        default=[],
        metavar="NAME",
        help="a column of the case file that is not a node, to skip (repeatable; headers starting with '#' or 'note_' are skipped anyway)",
    )
    update.add_argument("--xlsx", metavar="FILE.xlsx", help="also write the link and case tables as an Excel workbook (a sheet each)")
    update.add_argument(
        "--out", required=True, metavar="DIR",
        help="new priors folder to write; for a network-file --model, a network file of the same format (never overwritten without --force)",
    )
    _common.add_model(update)
    update.add_argument(
        "--ess", type=float, metavar="N",
        help=f"for a network-file --model: equivalent sample size of each CPT column's Dirichlet prior (default {DEFAULT_ESS:g})",
    )
    update.add_argument("--max-iter", type=_common.POSITIVE, default=DEFAULT_MAX_ITER, metavar="N", help=f"EM iterations at most (default {DEFAULT_MAX_ITER})")
    _common.add_level(update)
    update.add_argument("--margin", type=_common.NONNEGATIVE, default=DEFAULT_MARGIN, metavar="LOGODDS",
                        help=f"practical margin: a link counts as stronger/weaker/reversed only beyond it (default {DEFAULT_MARGIN:g}, half a verbal-strength step)")
    update.add_argument("--fdr", type=_common.UNIT, default=DEFAULT_FDR,
                        help=f"Bayesian false discovery rate the verdicts control across links (default {DEFAULT_FDR:g})")
    update.add_argument("--joint", action="store_true",
                        help="link sd from the joint observed information of all weights and cutpoints (slower: ~30 s on the shipped priors)")
    update.add_argument("--report", metavar="FILE.csv", help="also write the link table as CSV")
    update.add_argument("--conflict-report", metavar="FILE.csv", help="also write the per-case data-conflict table as CSV")
    update.add_argument("--plot", type=_common.FIGURE, metavar="FILE.png", help="also draw the forest plot of prior vs posterior link weights")
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
            "--seed 1 --out cases.csv --set-link FROM:TO=3.0"
        ),
    )
    _common.add_model(simulate)
    simulate.add_argument("--n", type=_common.POSITIVE, required=True, help="number of cases")
    simulate.add_argument(
        "--missing", type=_common.fraction("1 would leave every cell blank"), default=0.0,
        help="fraction of cells left blank at random (default 0)",
    )
    simulate.add_argument("--seed", type=_common.COUNT, default=0, help="random seed (default 0)")
    simulate.add_argument("--set-link", action="append", default=[], metavar="FROM:TO=WEIGHT", help="simulate with this link's signed weight (repeatable)")
    simulate.add_argument("--observe", action="append", default=[], metavar="NODE", help="record only these nodes (repeatable; default all)")
    simulate.add_argument("--out", required=True, metavar="FILE.csv", help="case file to write")
    simulate.add_argument("--force", action="store_true", help="replace FILE.csv if it exists")
    simulate.set_defaults(run=run_simulate)

    compare = subparsers.add_parser(
        "compare",
        help="the headline queries under two versions of the priors, side by side",
        description=(
            "P(target) for the headline targets of PRIORS_A's headline.yaml (or --target nodes) and their "
            "shift by its headline context, under PRIORS_A and PRIORS_B, with the difference B - A. "
            "Example: bayes-cmo compare default priors_v2"
        ),
    )
    compare.add_argument("priors_a", metavar="PRIORS_A", type=_common.model_path, help="priors folder or network file ('default': the shipped priors)")
    compare.add_argument("priors_b", metavar="PRIORS_B", type=_common.model_path, help="priors folder or network file ('default': the shipped priors)")
    compare.add_argument("--target", "-t", action="append", metavar="NODE", help="node to compare (repeatable; default: the headline targets)")
    _common.add_findings(compare, do=False)
    _common.add_output(compare)
    compare.set_defaults(run=run_compare)


def _read_update_cases(args: argparse.Namespace, model):
    """The case file of ``update``, its warnings printed as notices; no cases is a one-line error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cases = read_cases(args.cases, model, sheet=args.sheet, ignore_columns=args.ignore_column)
    if not len(cases):
        raise BayesCMOError(f"{args.cases}: no cases (only a header, or every row blank); expected one row per partnership")
    _print_warnings(caught)
    return cases


def _print_warnings(caught) -> None:
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)


def run_update(args: argparse.Namespace) -> int:
    # Every check before the work: a mistake costs seconds, not an EM run.
    out = Path(args.out)
    model = load_model(args.model)
    if model.theory is None:
        return _update_network(args, model)
    if args.ess is not None:
        raise BayesCMOError(f"--ess {args.ess:g}: only for a network-file --model; a priors folder's nodes carry their own baseline_confidence")
    # one guard for all four outputs: never an input, never one path twice, --force only over our own outputs
    outputs = _common.check_outputs(
        args, out=(args.out, "folder"), report=args.report, conflict_report=args.conflict_report, plot=args.plot
    )
    progress = not args.quiet and sys.stderr.isatty()
    from ..update.over_rounds import has_rounds, update_over_rounds

    if has_rounds(args.cases):  # long format (one row per case and round): the lagged links are learnt too
        result = update_over_rounds(model, args.cases, max_iter=args.max_iter, progress=progress)
    else:
        result = update_priors(model, _read_update_cases(args, model), max_iter=args.max_iter, progress=progress)
    joint = None
    if args.joint:
        from ..update.joint import joint_uncertainty

        joint = joint_uncertainty(result)
    links = refine(result, level=args.level, margin=args.margin, fdr=args.fdr, joint=joint)
    conflict = data_conflict(result.model, result.cases)
    overall = global_check(result)
    write_priors(result, out, force=args.force, output=outputs["--out"])
    if args.report:
        _common.write_table(args, "report", links)
    if args.conflict_report:
        _common.write_table(args, "conflict_report", conflict)
    _common.write_xlsx(args, {"links": links, "cases": conflict})
    if args.plot:
        from ..plots.update import forest_plot

        _common.save_figure(forest_plot(links), args)
    if args.json:
        payload = {
            "out": str(out),
            "iterations": result.iterations,
            "converged": result.converged,
            "global_check": [{k: _common._jsonable(v) for k, v in row.items()} for row in overall.to_dict(orient="records")],
            "summary": chance_line(links),
            "conflict_threshold": _common._jsonable(conflict["threshold"].iloc[0]) if len(conflict) else 0.0,
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
    shown = links[["link", "prior_weight", "prior_cases", "posterior_weight", "posterior_low", "posterior_high", "n_both", "p_claim", "verdict", "dominance"]]
    print(_common.format_table(shown, digits=2))
    counts = links["verdict"].value_counts()
    print("\n" + ", ".join(f"{counts[v]} {v}" for v in VERDICTS if v in counts))
    print(chance_line(links))
    flagged = conflict[conflict["flagged"]]
    print()
    threshold = float(conflict["threshold"].iloc[0]) if len(conflict) else 0.0
    if flagged.empty:
        print(f"no case explained poorly (every data-conflict score <= {threshold:.2f}, the 95th percentile among the model's own cases)")
    else:
        print(f"cases the theory explains poorly (data conflict > {threshold:.2f}, which 5% of the model's own cases exceed; "
              f"{len(flagged)} of {len(conflict)}, worst first; contradicts = findings whose removal lowers the conflict most):")
        print(_common.format_table(flagged.head(10).drop(columns=["flagged", "threshold"]), digits=2))
    return 0


def _update_network(args: argparse.Namespace, model) -> int:
    """update --model network.bif: Dirichlet priors on every CPT, EM, a network file of the same format + provenance."""
    from .._files import file_sha256
    from .._version import __version__
    from ..network.model import format_from_suffix, network_text

    out = Path(args.out)
    fmt = format_from_suffix(Path(model.source))
    if args.ess is not None and not args.ess > 0:
        raise BayesCMOError(f"--ess {args.ess:g}: expected a positive equivalent sample size")
    if out.suffix.lower() not in (Path(model.source).suffix.lower(),):
        raise BayesCMOError(
            f"--out {out}: the update of the {fmt.upper()} network {model.source} is written as a {fmt.upper()} file; "
            f"name it e.g. {out.with_suffix(Path(model.source).suffix).name}"
        )
    provenance = out.with_name(out.name + ".provenance.yaml")
    if args.plot:
        raise BayesCMOError("--plot: the forest plot shows link weights; a network file has none (use --report for the CPT columns)")
    outputs = _common.check_outputs(
        args, out=(args.out, "network"), report=args.report, out_provenance=(str(provenance), "text")
    )
    cases = _read_update_cases(args, model)
    progress = not args.quiet and sys.stderr.isatty()
    result = update_priors(model, cases, max_iter=args.max_iter, progress=progress, ess=args.ess)
    tables = table_refinement(result, level=args.level)
    outputs["--out"].write_text(network_text(result.model, fmt))
    record = {
        "method": METHOD.split(":")[0] + f": Dirichlet priors on every CPT column (equivalent sample size {result.ess:g})",
        "model": {"path": str(model.source), "sha256": file_sha256(Path(model.source))},
        "cases": {"path": str(args.cases), "sha256": file_sha256(Path(args.cases)), "n": len(cases)},
        "ess": result.ess,
        "iterations": result.iterations,
        "converged": result.converged,
        "bayes_cmo": __version__,
    }
    text = yaml.safe_dump(record, sort_keys=False)
    outputs["--out-provenance"].write_text(text)
    if args.report:
        _common.write_table(args, "report", tables)
    _common.write_xlsx(args, {"tables": tables})
    if args.json:
        rows = [{k: _common._jsonable(v) for k, v in row.items()} for row in tables.to_dict(orient="records")]
        print(json.dumps({"out": str(out), "iterations": result.iterations, "converged": result.converged, "tables": rows}, indent=2))
        return 0
    status = "converged" if result.converged else "did NOT converge (raise --max-iter)"
    print(f"{len(cases)} case(s) from {args.cases}; EM {status} after {result.iterations} iteration(s); ess {result.ess:g}")
    print(f"wrote {out} and {provenance.name} (load it with --model {out})")
    changed = tables[tables["changed"]]
    print(f"\nCPT columns: {len(changed)} of {len(tables)} cells moved outside their {args.level:.0%} posterior interval")
    shown = (changed if len(changed) else tables).head(20)
    print(_common.format_table(shown[["node", "parents", "state", "prior_p", "posterior_p", "posterior_low", "posterior_high", "n_column"]], digits=3))
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.is_dir():
        raise BayesCMOError(f"--out {out}: is a folder; expected a CSV file name, e.g. {out / 'cases.csv'}")
    planned = _common.check_outputs(args, out=(args.out, "csv"))["--out"]
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
    planned.write_text(frame.to_csv(index=False))  # the tool's own case format: state names as they are
    print(f"wrote {out}: {args.n} synthetic case(s) from {model.source}{changed}, {args.missing:.0%} blanks, seed {args.seed}", file=sys.stderr)
    return 0


def run_compare(args: argparse.Namespace) -> int:
    _common.check_outputs(args, csv=args.csv)
    model_a, model_b = load_model(args.priors_a), load_model(args.priors_b)
    evidence = _common.parse_findings(args.evidence, "--evidence")
    table = compare_models(model_a, model_b, targets=args.target, evidence=evidence)
    if not args.json:
        print(f"A = {args.priors_a}\nB = {args.priors_b}")
    _common.emit(table, args)
    return 0
