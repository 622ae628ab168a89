"""Phase-2 case data: one row per partnership, a column per node a case speaks to.

Format (CSV, an Excel ``.xlsx`` workbook's first or named sheet, or a pandas DataFrame in Python)::

    case_id,label,notes,context_a,mechanism_b,outcome_c
    A01,Hospital alliance,,present,high,yes
    A02,GP network,coded from interviews,absent,,no

* ``case_id`` (required, unique): the case's name.
* ``label``, ``notes`` (optional): free text, ignored by the update.
* a column whose header starts with ``#``, ``note_`` or ``notes_`` (``# coder``,
  ``Note Trust``) is a coder's column and skipped; so is any column named in
  ``ignore_columns`` (``--ignore-column NAME`` on the command line).
* every other column is a node id of the model, holding one of that node's
  state names. A blank cell means "not observed" (``NA`` and ``N/A`` are read
  as blank too, unless they are a state name); in a DataFrame so are
  ``None``/``NaN``.

A file saved from a spreadsheet is read as the spreadsheet shows it, wherever
the reading is unambiguous (the rules of :mod:`bayes_cmo._tables`, shared
with priors tables and cost files): a UTF-8 byte-order mark, Windows line
endings, ``;`` or tab separators (when the header has no comma), spaces around
cells, trailing empty columns (no header, no values) and rows blank in every
cell are accepted silently. Headers and states match case-insensitively with spaces or
hyphens for underscores (``Context A`` is ``context_a``,
``Present`` is ``present``) when exactly one name matches. Anything else, such
as ``yes`` for a node whose states are ``absent``/``present``, is an error
with a did-you-mean.

:func:`read_cases` validates a file or frame against a model and returns a
clean frame (strings, ``None`` for blanks). Mistakes are one-line
:class:`BayesCMOError` messages naming the file (and sheet), row and column;
every unknown column, bad case id and unknown state of a file is reported at
once (up to 20, numbered, in one :class:`CaseFileError`); a column that
is blank in every case only warns (``warnings.warn``), since it carries no
information but is not wrong.
"""

from __future__ import annotations

import dataclasses
import difflib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .. import _tables
from .. import _validate
from .._errors import BayesCMOError, did_you_mean
from .._lazy import pandas as pd
from ..network.model import Model

#: Columns that are not nodes.
ID_COLUMN = "case_id"
TEXT_COLUMNS = ("label", "notes")
#: Cell values read as "not observed" (unless they are one of the node's states).
BLANKS = ("", "NA", "N/A", "n/a", "na")


class AllBlankColumnWarning(UserWarning):
    """A node column that no case observed."""


#: A header starting with one of these is a coder's column (``# interviewer``, ``note_trust``), never a node.
IGNORED_PREFIXES = ("#", "note_", "notes_")
#: How many problems of one file are listed in one error.
MAX_PROBLEMS = 20


class CaseFileError(BayesCMOError):
    """Every problem found in a case file, listed on one line; ``problems`` holds them one by one."""

    def __init__(self, where: str, problems: Sequence[str]):
        self.where = where
        self.problems = tuple(problems)
        shown = self.problems[:MAX_PROBLEMS]
        if len(self.problems) == 1:
            text = f"{where}: {shown[0]}"
        else:
            more = f" (and {len(self.problems) - MAX_PROBLEMS} more)" if len(self.problems) > MAX_PROBLEMS else ""
            listed = " ".join(f"({i}) {p}" for i, p in enumerate(shown, 1))
            text = f"{where}: {len(self.problems)} problems{more}: {listed}"
        super().__init__(text)


def read_cases(
    source: str | Path | pd.DataFrame,
    model: Model,
    *,
    sheet: str | None = None,
    ignore_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Validate a case file (CSV or ``.xlsx``: the first sheet, or ``sheet``) or DataFrame against ``model``.

    Returns a DataFrame with ``case_id``, any ``label``/``notes`` columns, then
    the node columns in network order; node cells are state names or ``None``.
    ``frame.attrs["source"]`` names where the cases came from (file path, with
    the sheet for a workbook, or "cases"), and ``frame.attrs["rows"]`` the
    spreadsheet row of each case. Columns named in ``ignore_columns`` (matched
    ignoring case and spaces) or starting with one of :data:`IGNORED_PREFIXES`
    are skipped. Every problem of the file (up to :data:`MAX_PROBLEMS`) is
    reported at once in one :class:`CaseFileError`.
    """
    if not isinstance(model, Model):
        _validate.instance(model, "model", Model, "a Model")
    if isinstance(ignore_columns, str):
        ignore_columns = (ignore_columns,)
    net = model.network
    known = [ID_COLUMN, *TEXT_COLUMNS, *net.variables]
    if isinstance(source, pd.DataFrame):
        where = "cases"
        table = _tables.Table(
            frame=source.copy().set_axis([str(c).strip() for c in source.columns], axis=1), rows=(), where=where
        )
        rows = [f"row {i}" for i in range(len(source))]  # 0-based positions, as in frame.iloc
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            raise BayesCMOError(f"{path}: is a folder; expected a CSV or .xlsx file of cases")
        table = _tables.read_table(path, sheet=sheet, header_hint="e.g. a node id")
        where = table.where
        rows = [f"row {i}" for i in table.rows]  # as a spreadsheet shows it: the header is row 1
    else:
        raise _validate.InvalidParameter("source", f"expected a CSV or .xlsx path or a DataFrame, got {type(source).__name__}")
    skip = {_tables.key(name) for name in ignore_columns}
    raw = table.frame[[c for c in table.frame.columns if not _ignored(c, skip)]]
    raw = _tables.canonical_columns(dataclasses.replace(table, frame=raw), known)
    header = f"row {table.header_row}"

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
        raise BayesCMOError(f"{where}: {header}: missing the '{ID_COLUMN}' column{hint}")
    problems: list[str] = []
    nodes = []
    for position, column in enumerate(raw.columns, start=1):
        if column == ID_COLUMN or column in TEXT_COLUMNS:
            continue
        if str(column).strip() in ("", "nan") or str(column).startswith("Unnamed: "):
            raise BayesCMOError(
                f"{where}: row 1, column {position}: blank header cell; write the node's name there (or delete the column)"
            )
        if column not in net.states:
            problems.append(
                f"{header}, column '{column}': unknown column (not a node of the model, nor "
                f"{ID_COLUMN}/{'/'.join(TEXT_COLUMNS)}){_column_hint(column, [*net.variables, ID_COLUMN, *TEXT_COLUMNS])}"
                f" (to skip it: --ignore-column '{column}', or start its header with '#')"
            )
            continue
        nodes.append(column)

    ids = [_cell(v) for v in raw[ID_COLUMN]]
    first_row: dict[str, str] = {}
    for row, case_id, given in zip(rows, ids, raw[ID_COLUMN], strict=True):
        if case_id is None:
            written = "" if given is None or (isinstance(given, float) and np.isnan(given)) else str(given).strip()
            reads = f" ('{written}' reads as blank, not observed; call the case e.g. '{written}_1')" if written else ""
            problems.append(f"{row}, column {ID_COLUMN}: blank case id{reads} (every case needs a name)")
        elif case_id in first_row:
            problems.append(f"{row}, column {ID_COLUMN}: duplicate case id '{case_id}' (also on {first_row[case_id]})")
        else:
            first_row[case_id] = row

    out = pd.DataFrame({ID_COLUMN: pd.Series(ids, dtype=object)})
    for column in TEXT_COLUMNS:
        if column in raw.columns:
            out[column] = pd.Series([_cell(v) or "" for v in raw[column]], dtype=object)
    empty = []
    for node in (v for v in net.variables if v in nodes):  # network order
        values = _node_column(raw[node], net.states[node], node, rows, ids, problems)
        out[node] = pd.Series(values, dtype=object)
        if len(out) and all(v is None for v in values):
            empty.append(node)
    if problems:
        raise CaseFileError(where, problems)
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


def _column_hint(column: str, known: Sequence[str]) -> str:
    """did-you-mean by spelling, else the node ids sharing a word with the header ('Trust Level' -> a *_trust node)."""
    hint = did_you_mean(_tables.key(column), known) or did_you_mean(column, known)
    if hint:
        return hint
    words = {w for w in _tables.key(column).split("_") if len(w) > 2}
    sharing = [k for k in known if words & set(_tables.key(k).split("_"))][:3]
    return f"; did you mean {' or '.join(repr(k) for k in sharing)}?" if sharing else ""


def _ignored(column: str, skip: set[str]) -> bool:
    name = str(column).strip()
    return _tables.key(name) in skip or name.startswith("#") or _tables.key(name).startswith(IGNORED_PREFIXES[1:])


def _node_column(column: pd.Series, states: Sequence[str], node: str, rows, ids, problems: list[str]) -> list[str | None]:
    """One node's cells as state names (None = not observed); unknown states go to ``problems``."""
    values = []
    for row, case_id, value in zip(rows, ids, column, strict=True):
        text = _cell(value, blanks=() if isinstance(value, str) and value.strip() in states else BLANKS)
        if text is not None and text not in states:
            text = _tables.canonical(text, states)
        if text is not None and text not in states:
            problems.append(
                f"{row} (case '{case_id}'), column {node}: unknown state '{text}' "
                f"(expected one of {', '.join(states)}, or blank if not observed){_state_hint(text, states)}"
            )
            text = None
        values.append(text)
    return values


def _cell(value, blanks: Sequence[str] = BLANKS) -> str | None:
    return _tables.cell(value, blanks)


_YES_NO = {"yes": -1, "y": -1, "true": -1, "no": 0, "n": 0, "false": 0}


def _state_hint(text: str, states: Sequence[str]) -> str:
    """did-you-mean, and for a yes/no answer to a two-state node, which state means which."""
    pole = _YES_NO.get(text.lower())
    if pole is not None and len(states) == 2:  # states run from the absent/lowest pole up
        return f"; did you mean '{states[pole]}'?"
    return did_you_mean(text, states)


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
    columns = list(node_columns(cases))
    seen = cases[columns].notna().to_numpy().sum(axis=0)  # one selection: each column access deep-copies attrs
    return {node: int(n) for node, n in zip(columns, seen, strict=True)}
