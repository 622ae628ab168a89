"""Phase-2 case data: one row per partnership, a column per node a case speaks to.

Format (CSV, or a pandas DataFrame in Python)::

    case_id,label,notes,context_a,mechanism_b,outcome_c
    A01,Hospital alliance,,present,high,yes
    A02,GP network,coded from interviews,absent,,no

* ``case_id`` (required, unique): the case's name.
* ``label``, ``notes`` (optional): free text, ignored by the update.
* every other column is a node id of the model, holding one of that node's
  state names. A blank cell means "not observed" (``NA`` and ``N/A`` are read
  as blank too, unless they are a state name); in a DataFrame so are
  ``None``/``NaN``.

A file saved from a spreadsheet is read as the spreadsheet shows it, wherever
the reading is unambiguous: a UTF-8 byte-order mark, Windows line endings,
``;`` or tab separators (when the header has no comma), spaces around cells,
trailing empty columns (no header, no values) and rows blank in every cell are
accepted silently. Headers and states match case-insensitively with spaces or
hyphens for underscores (``Context A`` is ``context_a``,
``Present`` is ``present``) when exactly one name matches. Anything else, such
as ``yes`` for a node whose states are ``absent``/``present``, is an error
with a did-you-mean.

:func:`read_cases` validates a file or frame against a model and returns a
clean frame (strings, ``None`` for blanks). Mistakes are one-line
:class:`BayesCMOError` messages naming the file, row and column; a column that
is blank in every case only warns (``warnings.warn``), since it carries no
information but is not wrong.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _validate
from .._errors import BayesCMOError, did_you_mean
from .._files import read_csv
from ..network.model import Model

#: Columns that are not nodes.
ID_COLUMN = "case_id"
TEXT_COLUMNS = ("label", "notes")
#: Cell values read as "not observed" (unless they are one of the node's states).
BLANKS = ("", "NA", "N/A", "n/a", "na")
_SPREADSHEETS = (".xlsx", ".xls", ".xlsm", ".ods", ".numbers")


class AllBlankColumnWarning(UserWarning):
    """A node column that no case observed."""


def read_cases(source: str | Path | pd.DataFrame, model: Model) -> pd.DataFrame:
    """Validate a case file (or DataFrame) against ``model``.

    Returns a DataFrame with ``case_id``, any ``label``/``notes`` columns, then
    the node columns in network order; node cells are state names or ``None``.
    ``frame.attrs["source"]`` names where the cases came from (file path or
    "DataFrame"), and ``frame.attrs["rows"]`` the spreadsheet row of each case.
    """
    if isinstance(source, pd.DataFrame):
        where = "cases"
        raw = source.copy()
        raw.columns = [str(c).strip() for c in raw.columns]
        rows = [f"row {i}" for i in range(len(raw))]  # 0-based positions, as in frame.iloc
    elif isinstance(source, (str, Path)):
        path = Path(source)
        where = str(path)
        if path.is_dir():
            raise BayesCMOError(f"{path}: is a folder; expected a CSV file of cases")
        raw, numbers = read_table(path)
        rows = [f"row {i}" for i in numbers]  # as a spreadsheet shows it: the header is row 1
    else:
        raise _validate.InvalidParameter("source", f"expected a CSV path or a DataFrame, got {type(source).__name__}")
    if not isinstance(model, Model):
        _validate.instance(model, "model", Model, "a Model")
    net = model.network
    raw.columns = [_canonical(c, [ID_COLUMN, *TEXT_COLUMNS, *net.variables]) for c in raw.columns]
    _check_duplicate_columns(list(raw.columns), where)

    if ID_COLUMN not in raw.columns:
        near = difflib.get_close_matches(ID_COLUMN, [str(c) for c in raw.columns], n=1, cutoff=0.6)
        hint = f"; column '{near[0]}': did you mean '{ID_COLUMN}'?" if near else (
            f" (found {', '.join(map(str, raw.columns[:5]))}{'...' if len(raw.columns) > 5 else ''})"
            if len(raw.columns) else ""
        )
        if len(raw.columns) <= 1 and not isinstance(source, pd.DataFrame):
            raise BayesCMOError(
                f"{where}: not a CSV case file: expected a comma-separated header with a '{ID_COLUMN}' column and node columns{hint}"
            )
        raise BayesCMOError(f"{where}: row 1: missing the '{ID_COLUMN}' column{hint}")
    nodes = []
    for column in raw.columns:
        if column == ID_COLUMN or column in TEXT_COLUMNS:
            continue
        if column not in net.states:
            raise BayesCMOError(
                f"{where}: row 1, column '{column}': unknown column (not a node of the model, nor "
                f"{ID_COLUMN}/{'/'.join(TEXT_COLUMNS)}){did_you_mean(column, [*net.variables, ID_COLUMN, *TEXT_COLUMNS])}"
            )
        nodes.append(column)

    ids = [_cell(v) for v in raw[ID_COLUMN]]
    first_row: dict[str, str] = {}
    for row, case_id in zip(rows, ids, strict=True):
        if case_id is None:
            raise BayesCMOError(f"{where}: {row}, column {ID_COLUMN}: blank case id (every case needs a name)")
        if case_id in first_row:
            raise BayesCMOError(f"{where}: {row}, column {ID_COLUMN}: duplicate case id '{case_id}' (also on {first_row[case_id]})")
        first_row[case_id] = row

    out = pd.DataFrame({ID_COLUMN: pd.Series(ids, dtype=object)})
    for column in TEXT_COLUMNS:
        if column in raw.columns:
            out[column] = pd.Series([_cell(v) or "" for v in raw[column]], dtype=object)
    empty = []
    for node in (v for v in net.variables if v in nodes):  # network order
        states = net.states[node]
        values = []
        for row, case_id, value in zip(rows, ids, raw[node], strict=True):
            text = _cell(value, blanks=() if isinstance(value, str) and value.strip() in states else BLANKS)
            if text is not None and text not in states:
                text = _canonical(text, states)
            if text is not None and text not in states:
                raise BayesCMOError(
                    f"{where}: {row} (case '{case_id}'), column {node}: unknown state '{text}' "
                    f"(expected one of {', '.join(states)}, or blank if not observed){_state_hint(text, states)}"
                )
            values.append(text)
        out[node] = pd.Series(values, dtype=object)
        if len(out) and all(v is None for v in values):
            empty.append(node)
    if empty:  # one warning, however many columns
        names = ", ".join(f"'{node}'" for node in empty)
        warnings.warn(
            f"{where}: column{'s' if len(empty) > 1 else ''} {names} "
            f"{'are' if len(empty) > 1 else 'is'} blank in every case; {'they carry' if len(empty) > 1 else 'it carries'} no information",
            AllBlankColumnWarning,
            stacklevel=2,
        )
    out.attrs["source"] = where
    out.attrs["rows"] = dict(zip(ids, rows, strict=True))
    return out


def _cell(value, blanks: Sequence[str] = BLANKS) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return None if text in blanks or text == "" else text


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip()).lower()


def _canonical(name: str, known: Sequence[str]) -> str:
    """``name`` itself if known, else the one known name equal to it up to case and spaces/hyphens for underscores."""
    if name in known:
        return name
    matches = [k for k in known if _key(k) == _key(name)]
    return matches[0] if len(matches) == 1 else name


_YES_NO = {"yes": -1, "y": -1, "true": -1, "no": 0, "n": 0, "false": 0}


def _state_hint(text: str, states: Sequence[str]) -> str:
    """did-you-mean, and for a yes/no answer to a two-state node, which state means which."""
    pole = _YES_NO.get(text.lower())
    if pole is not None and len(states) == 2:  # states run from the absent/lowest pole up
        return f"; did you mean '{states[pole]}'?"
    return did_you_mean(text, states)


def _separator(path: Path) -> str:
    """',' unless the first line has no comma but a ';' (Excel in many locales) or a tab."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
    except (UnicodeDecodeError, OSError):
        return ","  # read_csv reports it
    if "," not in first:
        for sep in (";", "\t"):
            if sep in first:
                return sep
    return ","


def read_table(path: str | Path) -> tuple[pd.DataFrame, list[int]]:
    """A CSV saved from a spreadsheet, as strings: the frame and each row's spreadsheet row number.

    Forgiving where the reading is unambiguous (see the module docstring): a
    byte-order mark, CRLF, ``;``/tab separators, surrounding spaces, trailing
    columns with neither header nor values, rows blank in every cell (dropped;
    the row numbers still count them). Header names are stripped but not
    otherwise changed; ``frame.attrs["separator"]`` is the separator found.
    Spreadsheet files (``.xlsx`` ...) are refused with a hint to save as CSV.
    """
    path = Path(path)
    if path.suffix.lower() in _SPREADSHEETS:
        raise BayesCMOError(f"{path}: not a CSV file (a spreadsheet); save it as CSV (comma-separated) first")
    sep = _separator(path)
    grid = read_csv(path, header=None, sep=sep, encoding="utf-8-sig", skip_blank_lines=False)
    grid = grid.map(lambda v: _cell(v, blanks=("",)))  # None for empty cells
    if grid.empty:
        raise BayesCMOError(f"{path}: not a readable CSV file (the file is empty)")
    header = [v or "" for v in grid.iloc[0]]
    body = grid.iloc[1:]
    keep = [j for j, name in enumerate(header) if name or body.iloc[:, j].notna().any()]
    for j in keep:
        if not header[j]:
            raise BayesCMOError(
                f"{path}: row 1, column {j + 1}: blank header above values; name the column (e.g. a node id) or delete it"
            )
    body = body.iloc[:, keep]
    filled = body.notna().any(axis=1).to_numpy()
    values = body[filled].to_numpy(dtype=object, copy=True)
    values[pd.isna(values)] = None
    frame = pd.DataFrame(values, columns=[header[j] for j in keep], dtype=object)
    numbers = [int(i) + 1 for i in body.index[filled]]  # iloc 1 is spreadsheet row 2
    frame.attrs["separator"] = sep
    return frame, numbers


def _check_duplicate_columns(columns: list[str], where: str) -> None:
    seen = set()
    for column in columns:
        if column in seen:
            raise BayesCMOError(f"{where}: row 1, column '{column}': duplicate column (merge the two)")
        seen.add(column)


def node_columns(cases: pd.DataFrame) -> list[str]:
    """The node columns of a validated case frame."""
    return [c for c in cases.columns if c != ID_COLUMN and c not in TEXT_COLUMNS]


def case_findings(cases: pd.DataFrame) -> list[dict[str, str]]:
    """One ``{node: state}`` dict per case (observed cells only)."""
    nodes = node_columns(cases)
    return [
        {node: value for node, value in zip(nodes, row, strict=True) if value is not None}
        for row in cases[nodes].itertuples(index=False)
    ]


def case_likelihoods(cases: pd.DataFrame, model: Model) -> dict[str, np.ndarray]:
    """Findings as ``(E, card)`` 0/1 likelihood rows, all-ones where a case left the node blank.

    Only nodes observed in at least one case appear; this is what lets every
    case, whatever its blanks, go through one batched contraction.
    """
    net = model.network
    out: dict[str, np.ndarray] = {}
    for node in node_columns(cases):
        states = net.states[node]
        values = cases[node].to_numpy(dtype=object)
        seen = np.array([v is not None for v in values], dtype=bool)
        if not seen.any():
            continue
        index = np.array([states.index(v) if v is not None else 0 for v in values])
        lik = np.ones((len(values), len(states)))
        lik[seen] = np.eye(len(states))[index[seen]]
        out[node] = lik
    return out


def observed_counts(cases: pd.DataFrame) -> Mapping[str, int]:
    """How many cases observed each node column."""
    return {node: int(cases[node].notna().sum()) for node in node_columns(cases)}
