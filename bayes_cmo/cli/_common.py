"""Options and output shared by every verb."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

import numpy as np

from .. import _validate as check
from .._errors import BayesCMOError
from .._lazy import pandas as pd
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
NONNEGATIVE = check.option(check.nonnegative)
UNIT = check.option(check.level)  # a share strictly between 0 and 1 (a false discovery rate)
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
    _Wide.reset()  # the parser is built afresh for each command line, so a previous --wide does not linger
    parser.add_argument(
        "--wide", action=_Wide, help=f"print tables at full width (default: fit {TABLE_WIDTH} columns, wrapping text)"
    )
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


def add_good(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--good", action="append", default=[], metavar="NODE=STATE",
        help="the state of an outcome that is good for the partnership, for colours and words "
        "(repeatable; default: the priors' headline section, else the highest state)",
    )


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


def json_rows(table) -> list[dict]:
    """One dict per row of a DataFrame or of a dict of equal-length columns (numpy arrays); NaN as null."""
    names = list(table.keys())
    columns = [table[name].tolist() for name in names]
    return [{k: _jsonable(v) for k, v in zip(names, row)} for row in zip(*columns)]


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
    """Print a table (or JSON rows) and write --csv / --xlsx when asked (JSON alone: ``frame`` may be a dict of columns)."""
    if getattr(args, "csv", None):
        write_table(args, "csv", frame)
    write_xlsx(args, {getattr(args, "verb", None) or "table": frame})
    if getattr(args, "json", False):
        print(json.dumps(json_rows(frame), indent=2))
    else:
        print(format_table(frame, digits))


#: Terminal tables fit this many columns unless --wide.
TABLE_WIDTH = 100
_MIN_TEXT = 12


class _Wide(argparse.Action):
    """``--wide``: every table of this command at full width (also those a verb prints directly)."""

    full = False

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=False, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        _Wide.full = True
        setattr(namespace, self.dest, True)

    @staticmethod
    def reset() -> None:
        _Wide.full = False


_NUMBER_LIKE = re.compile(r"^[\s\d.,+\-−%\[\]()e]*$")


def _cells(frame: pd.DataFrame, digits: int) -> tuple[list[str], list[list[str]], list[bool]]:
    """Headers, cells as text, and which columns hold numbers (also formatted ones: 41.2%, [+0.3, +3.2])."""
    headers = [str(c) for c in frame.columns]
    columns, numeric = [], []
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_float_dtype(values):
            cells = ["" if pd.isna(v) else f"{v:.{digits}f}" for v in values]
        else:
            cells = ["" if (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values]
        columns.append(cells)
        numeric.append(not pd.api.types.is_bool_dtype(values) and all(_NUMBER_LIKE.match(c) for c in cells))
    return headers, columns, numeric


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width``: breaks after spaces, hyphens, colons and underscores (ids), hard breaks if need be."""
    if len(text) <= width:
        return [text]
    lines, line = [], ""
    for piece in re.split(r"(?<=[ _/:-])", text):
        while len(piece) > width:  # a word longer than the column
            if line:
                lines.append(line.rstrip())
                line = ""
            lines.append(piece[:width])
            piece = piece[width:]
        if len((line + piece).rstrip()) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _floor(header: str, cells: list[str], numeric: bool) -> int:
    """The narrowest a column may get: numbers never wrap; text down to its longest word (8 to 16)."""
    longest_cell = max((len(c) for c in cells), default=0)
    header_word = max((len(w) for w in header.split()), default=0)
    if numeric:
        return max(longest_cell, header_word)
    words = [len(w) for c in [header, *cells] for w in re.split(r"(?<=[ _/:-])", c)]
    return min(max(len(header), longest_cell), max(8, min(max(words, default=0), 16)))


def _shrink(widths: list[int], floor: list[int], numeric: list[bool], width: int) -> list[int]:
    """Narrow the widest text columns (then long headers) until the row fits ``width``."""
    widths = list(widths)
    gaps = 2 * (len(widths) - 1)
    while sum(widths) + gaps > width:
        candidates = [i for i in range(len(widths)) if widths[i] > floor[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: (not numeric[i], widths[i] - floor[i]))
        widths[widest] -= 1
    return widths


def _blocks(floor: list[int], numeric: list[bool], width: int) -> list[list[int]]:
    """Column indices per block: one block if the columns fit at their narrowest, else several,
    each repeating the leading text columns (the row's key) so every block reads alone."""
    n = len(floor)
    if sum(floor) + 2 * (n - 1) <= width:
        return [list(range(n))]
    key: list[int] = []
    for i in range(n):
        if numeric[i] or sum(floor[j] + 2 for j in key) + floor[i] > 0.6 * width:
            break
        key.append(i)
    blocks, current = [], list(key)
    for i in range(len(key), n):
        used = sum(floor[j] for j in current) + 2 * len(current)
        if len(current) > len(key) and used + floor[i] > width:
            blocks.append(current)
            current = list(key)
        current.append(i)
    blocks.append(current)
    return blocks


def format_table(frame: pd.DataFrame, digits: int = 4, width: int | None = -1) -> str:
    """The frame as text: numbers right-aligned, text left; fits ``width`` columns (default 100, None: full width).

    Text cells and long headers wrap onto further lines; a table too wide even
    then is printed in blocks of columns, each repeating the row's leading text
    columns. ``--wide`` prints one block at full width.
    """
    if width == -1:
        width = None if _Wide.full else TABLE_WIDTH
    headers, columns, numeric = _cells(frame, digits)
    if not headers:
        return frame.to_string(index=False)
    full = [max([len(h)] + [len(v) for v in col]) for h, col in zip(headers, columns)]
    if width is None:
        blocks, floor = [list(range(len(headers)))], full
    else:
        floor = [_floor(h, c, num) for h, c, num in zip(headers, columns, numeric)]
        blocks = _blocks(floor, numeric, width)

    def render(cells: list[str], idx: list[int], widths: list[int]) -> list[str]:
        wrapped = [_wrap(cells[i], w) for i, w in zip(idx, widths)]
        height = max(len(w) for w in wrapped)
        lines = []
        for k in range(height):
            parts = []
            for lines_of, w, i in zip(wrapped, widths, idx):
                text = lines_of[k] if k < len(lines_of) else ""
                parts.append(text.rjust(w) if numeric[i] else text.ljust(w))
            lines.append("  ".join(parts).rstrip())
        return lines

    out: list[str] = []
    for b, idx in enumerate(blocks):
        widths = [full[i] for i in idx]
        if width is not None:
            widths = _shrink(widths, [floor[i] for i in idx], [numeric[i] for i in idx], width)
        if b:
            out.append("")
        out += render(headers, idx, widths)
        for r in range(len(frame)):
            out += render([col[r] for col in columns], idx, widths)
    return "\n".join(out)


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
