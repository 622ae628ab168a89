"""Options and output shared by every verb."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import BayesCMOError
from .._files import write_atomically
from ..network.model import Model, load_model


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
    _Wide.reset()  # the parser is built afresh for each command line, so a previous --wide does not linger
    parser.add_argument(
        "--wide", action=_Wide, help=f"print tables at full width (default: fit {TABLE_WIDTH} columns, wrapping text)"
    )
    if csv:
        parser.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    if plot:
        parser.add_argument("--plot", metavar="FILE.png", help="also draw the figure (png, pdf or svg)")
    parser.add_argument("--force", action="store_true", help="replace output files that already exist")


def add_good(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--good", action="append", default=[], metavar="NODE=STATE",
        help="the state of an outcome that is good for the partnership, for colours and words "
        "(repeatable; default: the priors' headline section, else the highest state)",
    )


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


def emit(frame: pd.DataFrame, args: argparse.Namespace, *, digits: int = 4) -> None:
    """Print a table (or JSON rows) and write --csv when asked."""
    if getattr(args, "csv", None):
        write_atomic(Path(args.csv), frame.to_csv(index=False), force=args.force)
    if getattr(args, "json", False):
        rows = [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        print(json.dumps(rows, indent=2))
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
