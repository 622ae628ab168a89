"""Options and output shared by every verb."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import BayesCMOError
from .._files import write_atomically
from ..network.model import Model, load_model
from ..theory import SHIPPED, priors_path


def model_path(text: str) -> str:
    """argparse type of every priors-folder argument: 'default' names the shipped priors."""
    return str(priors_path(text)) if text == SHIPPED else text


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
        parser.add_argument("--plot", metavar="FILE.png", help="also draw the figure (png, pdf or svg)")
    parser.add_argument("--force", action="store_true", help="replace output files that already exist")


def add_draws(parser: argparse.ArgumentParser, default: int = 0) -> None:
    parser.add_argument(
        "--draws",
        type=int,
        default=default,
        metavar="N",
        help="parameter draws from the judgements' second-order uncertainty for credible intervals "
        f"(0 = point values; default {default})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed for the draws (default 0)")
    parser.add_argument("--level", type=float, default=0.9, help="credible level of the intervals (default 0.9)")


def parse_findings(items: list[str], option: str) -> dict[str, str]:
    findings: dict[str, str] = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            node, sep, state = part.partition("=")
            if not sep or not node.strip() or not state.strip():
                raise BayesCMOError(f"{option} '{part}' must look like NODE=STATE, e.g. legal_agreements=present")
            node = node.strip()
            if node in findings and findings[node] != state.strip():
                raise BayesCMOError(f"{option} gives '{node}' twice ({findings[node]} and {state.strip()})")
            findings[node] = state.strip()
    return findings


def check_draws(args: argparse.Namespace) -> None:
    """--draws, --seed and --level, checked before any work (--level even without draws)."""
    draws = getattr(args, "draws", 0) or 0
    if draws < 0:
        raise BayesCMOError(f"--draws must be 0 or a positive number of draws, got {draws}")
    seed = getattr(args, "seed", 0)
    if seed is not None and seed < 0:
        raise BayesCMOError(f"--seed must be 0 or a positive integer, got {seed}")
    level = getattr(args, "level", None)
    if level is not None and not 0.0 < level < 1.0:
        hint = f"; did you mean {level / 100:g}?" if 50.0 <= level < 100.0 else ""  # a percentage
        raise BayesCMOError(f"--level must be a credible level between 0 and 1 (e.g. 0.9), got {level:g}{hint}")


def model_from(args: argparse.Namespace) -> Model:
    check_draws(args)
    model = load_model(args.model)
    draws = getattr(args, "draws", 0) or 0
    if draws:
        model = model.with_draws(draws, seed=args.seed)
    return model


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
    """--xlsx: every table of the verb, a sheet each, noting the command and the model."""
    if not getattr(args, "xlsx", None):
        return
    from .._xlsx import write_workbook

    check_new_file(Path(args.xlsx), args.force)
    model = getattr(args, "model", None) or "the shipped priors"
    notes = {name: f"bayes-cmo {getattr(args, 'verb', '')}: {name}; model {model}" for name in tables}
    write_workbook(args.xlsx, tables, notes)
    print(f"wrote {args.xlsx}", file=sys.stderr)


def emit(frame: pd.DataFrame, args: argparse.Namespace, *, digits: int = 4) -> None:
    """Print a table (or JSON rows) and write --csv / --xlsx when asked."""
    if getattr(args, "csv", None):
        write_atomic(Path(args.csv), frame.to_csv(index=False), force=args.force)
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


FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def check_figure(path: str | None, force: bool, option: str = "--plot") -> None:
    if not path:
        return
    target = Path(path)
    check_new_file(target, force)
    if target.suffix.lower() not in FIGURE_SUFFIXES:
        raise BayesCMOError(f"{option} {path}: expected a .png, .pdf or .svg file name")


def check_outputs(args: argparse.Namespace, **options: str | None) -> None:
    """Refuse bad or existing output files, and one file named twice, before any work is done."""
    seen: dict[Path, str] = {}
    options = {**options, "xlsx": getattr(args, "xlsx", None)}
    for option, path in options.items():
        if not path:
            continue
        flag = "--" + option.replace("_", "-")
        if option == "xlsx" and Path(path).suffix.lower() != ".xlsx":
            raise BayesCMOError(f"--xlsx {path}: expected a file name ending in .xlsx")
        if option in ("csv", "xlsx"):
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
