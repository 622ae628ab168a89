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
from .._files import write_atomically
from ..network.model import Model, load_model

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
        help="priors folder, or a network file (.bif, .xmlbif, .net, .xdsl) from GeNIe, Hugin, Netica...; "
        "default: the shipped priors",
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
    if plot:
        parser.add_argument("--plot", type=FIGURE, metavar="FILE.png", help="also draw the figure (png, pdf or svg)")
    parser.add_argument("--force", action="store_true", help="replace output files that already exist")


def add_draws(parser: argparse.ArgumentParser, default: int = 0) -> None:
    parser.add_argument(
        "--draws",
        type=COUNT,
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


def emit(frame: pd.DataFrame, args: argparse.Namespace, *, digits: int = 4) -> None:
    """Print a table (or JSON rows) and write --csv when asked."""
    if getattr(args, "csv", None):
        write_atomic(Path(args.csv), frame.to_csv(index=False), force=args.force)
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


def check_new_file(path: Path, force: bool) -> None:
    if path.is_dir():
        raise BayesCMOError(f"{path}: is a folder; give a file name inside it")
    if path.exists() and not force:
        raise BayesCMOError(f"{path}: already exists; choose another name or pass --force to replace it")
    if not path.parent.exists():
        raise BayesCMOError(f"{path.parent}: folder does not exist")


def write_atomic(path: Path, text: str, *, force: bool) -> None:
    """Write text through a temporary file in the same folder, so a crash never leaves half a file."""
    check_new_file(path, force)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            out.write(text)

    write_atomically(path, write)


def check_figure(path: str | Path | None, force: bool, option: str = "--plot") -> None:
    if not path:
        return
    check.figure_path(path, option)
    check_new_file(Path(path), force)


def check_outputs(args: argparse.Namespace, **options: str | None) -> None:
    """Refuse bad or existing output files, and one file named twice, before any work is done."""
    seen: dict[Path, str] = {}
    for option, path in options.items():
        if not path:
            continue
        flag = "--" + option.replace("_", "-")
        if option == "csv":
            check_new_file(Path(path), args.force)
        else:
            check_figure(path, args.force, flag)
        key = Path(path).resolve()
        if key in seen:
            raise BayesCMOError(f"{path}: named by both {seen[key]} and {flag}; give each its own file")
        seen[key] = flag


def save_figure(fig, path: str | None, force: bool, option: str = "--plot") -> None:
    if not path:
        return
    target = Path(path)
    check_figure(path, force, option)
    try:
        fig.savefig(target, dpi=200, bbox_inches="tight")
    except OSError as exc:
        raise BayesCMOError(f"{target}: cannot write it ({exc.strerror or exc})") from None
    print(f"wrote {target}", file=sys.stderr)  # stdout stays pure table / JSON
