"""Options and output shared by every verb."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _validate as check
from .._errors import BayesCMOError
from .._outputs import Output, plan_outputs
from ..network.model import Model, load_model
from ..theory import SHIPPED, priors_path


def model_path(text: str) -> str:
    """argparse type of every priors-folder argument: 'default' names the shipped priors."""
    return str(priors_path(text)) if text == SHIPPED else text

# argparse converters: the library's checks, so an option and its keyword are refused in the same words.
LEVEL = check.option(check.level)
COUNT = check.option(check.integer, check.parse_int, minimum=0)
POSITIVE = check.option(check.integer, check.parse_int)
FIGURE = check.option(check.figure_path, str)


def at_least(minimum: int, maximum: int | None = None):
    return check.option(check.integer, check.parse_int, minimum=minimum, maximum=maximum)


def fraction(one: str = ""):
    return check.option(check.fraction, one=one)


def add_level(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--level", type=LEVEL, default=0.9, help="credible level of the intervals (default 0.9)")


def add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        metavar="PATH",
        type=model_path,
        help="priors folder, or a network file (.bif, .xmlbif, .net, .xdsl) from GeNIe, Hugin, Netica...; "
        "default (or 'default'): the shipped priors",
    )


def add_findings(parser: argparse.ArgumentParser, *, do: bool = True) -> None:
    parser.add_argument(
        "--evidence",
        "-e",
        action="append",
        default=[],
        metavar="NODE=STATE",
        help="observed finding (repeat, or comma-separate: a=x,b=y)",
    )
    if do:
        parser.add_argument(
            "--do",
            action="append",
            default=[],
            metavar="NODE=STATE",
            help="intervention: set NODE to STATE by graph surgery (repeatable)",
        )


def add_output(parser: argparse.ArgumentParser, *, csv: bool = True, plot: bool = False) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list of row objects instead of a table")
    if csv:
        parser.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
        parser.add_argument(
            "--xlsx", metavar="FILE.xlsx", help="also write the table(s) as an Excel workbook: a sheet per table, with notes, labels and units"
        )
    if plot:
        parser.add_argument("--plot", type=FIGURE, metavar="FILE.png", help="also draw the figure (png, pdf or svg)")
    parser.add_argument("--force", action="store_true", help="replace output files that already exist")


def _draws(text: str) -> int:
    """--draws: 0 for point values, else at least 2 (one draw gives an interval of zero width)."""
    n = COUNT(text)
    if n == 1:
        raise argparse.ArgumentTypeError(
            "expected 0 (point values) or at least 2 parameter draws, got 1 (an interval needs two; 1,000 are usually plenty)"
        )
    return n


def add_draws(parser: argparse.ArgumentParser, default: int = 0) -> None:
    parser.add_argument(
        "--draws",
        type=_draws,
        default=default,
        metavar="N",
        help="parameter draws from the judgements' second-order uncertainty for credible intervals "
        f"(0 = point values; default {default})",
    )
    parser.add_argument("--seed", type=COUNT, default=0, help="random seed for the draws (default 0)")
    add_level(parser)


def parse_findings(items: list[str], option: str) -> dict[str, str]:
    findings: dict[str, str] = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            node, sep, state = part.partition("=")
            if not sep or not node.strip() or not state.strip():
                raise BayesCMOError(f"{option} '{part}' must look like NODE=STATE, e.g. context=present")
            node = node.strip()
            if node in findings and findings[node] != state.strip():
                raise BayesCMOError(f"{option} gives '{node}' twice ({findings[node]} and {state.strip()})")
            findings[node] = state.strip()
    return findings


def model_from(args: argparse.Namespace) -> Model:
    """--model with --draws and --seed (the seed also drives Monte Carlo views such as rounds)."""
    model = load_model(args.model)
    draws = getattr(args, "draws", 0) or 0
    if draws:
        return model.with_draws(draws, seed=args.seed)
    return dataclasses.replace(model, seed=getattr(args, "seed", None))


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def write_xlsx(args: argparse.Namespace, tables: dict[str, pd.DataFrame]) -> None:
    """--xlsx: every table of the verb, a sheet each, noting the command and the model (through the output guard)."""
    if not getattr(args, "xlsx", None):
        return
    from .._xlsx import fill_workbook

    model = getattr(args, "model", None) or "the shipped priors"
    notes = {name: f"bayes-cmo {getattr(args, 'verb', '')}: {name}; model {model}" for name in tables}
    path = output(args, "xlsx", "xlsx").write_with(lambda tmp: fill_workbook(tmp, tables, notes))
    print(f"wrote {path}", file=sys.stderr)


def emit(frame: pd.DataFrame, args: argparse.Namespace, *, digits: int = 4) -> None:
    """Print a table (or JSON rows) and write --csv / --xlsx when asked."""
    if getattr(args, "csv", None):
        write_table(args, "csv", frame)
    write_xlsx(args, {getattr(args, "verb", None) or "table": frame})
    if getattr(args, "json", False):
        rows = [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        print(json.dumps(rows, indent=2))
    else:
        print(format_table(frame, digits))


def format_table(frame: pd.DataFrame, digits: int = 4) -> str:
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
    return shown.to_string(index=False)


#: Output options and the kind of file each writes (see _outputs.KINDS); --out differs by verb.
OUTPUT_KINDS = {"csv": "csv", "plot": "figure", "heatmap": "figure", "report": "csv", "conflict_report": "csv"}
#: Namespace attributes that name inputs: never written, whatever the options.
INPUT_OPTIONS = ("model", "cases", "costs", "priors_a", "priors_b")


def inputs_of(args: argparse.Namespace) -> list[str | Path]:
    """The files and folders a verb reads (the shipped priors when --model is left out)."""
    found: list[str | Path] = [getattr(args, name) for name in INPUT_OPTIONS if getattr(args, name, None)]
    if hasattr(args, "model") and not args.model:
        from ..theory import default_priors_path

        found.append(default_priors_path())
    return found


def check_outputs(args: argparse.Namespace, **options: str | tuple[str | None, str] | None) -> dict[str, Output]:
    """Every output option through the one guard (_outputs.plan_outputs), before any work.

    ``options`` maps an option's attribute to its path, or to ``(path, kind)``
    (``out=(args.out, "folder")``). The planned outputs are kept on ``args`` for
    :func:`output`, :func:`emit`, :func:`write_table` and :func:`save_figure`.
    """
    specs = []
    if getattr(args, "xlsx", None) and "xlsx" not in options:
        options = {**options, "xlsx": (args.xlsx, "xlsx")}
    for name, value in options.items():
        path, kind = value if isinstance(value, tuple) else (value, OUTPUT_KINDS.get(name, "text"))
        specs.append(("--" + name.replace("_", "-"), path, kind))
    planned = plan_outputs(specs, inputs=inputs_of(args), force=bool(getattr(args, "force", False)))
    args._outputs = {**getattr(args, "_outputs", {}), **planned}
    return planned


def output(args: argparse.Namespace, name: str, kind: str | None = None) -> Output:
    """The checked output for option ``name`` (checked now if the verb did not do it up front)."""
    flag = "--" + name.replace("_", "-")
    planned = getattr(args, "_outputs", {})
    if flag not in planned:
        check_outputs(args, **{name: (getattr(args, name), kind or OUTPUT_KINDS.get(name, "text"))})
        planned = args._outputs
    return planned[flag]


def write_table(args: argparse.Namespace, name: str, frame: pd.DataFrame) -> None:
    """A table into the CSV option ``name`` (spreadsheet-safe, atomic, checked again before the rename)."""
    output(args, name, "csv").write_csv(frame)


def save_figure(fig, args: argparse.Namespace, name: str = "plot") -> None:
    """The figure into the option ``name`` (--plot, --heatmap), atomically."""
    if not getattr(args, name, None):
        return
    path = output(args, name, "figure").save_figure(fig)
    print(f"wrote {path}", file=sys.stderr)  # stdout stays pure table / JSON
