"""Cases observed over rounds (long format: one row per case and round) -> the lagged links learnt.

A case file with a ``round`` column holds one row per case and round (``case_id``
repeated; contexts may be given on any of a case's rows, they are the same in every
round). :func:`update_over_rounds` is the round-aware update:

* **Round 1** rows are ordinary single-round cases (in round 1 a lagged link has
  no previous round, exactly as in the one-round network), so every link and node
  that is not lagged is updated by the exact EM (:func:`bayes_cmo.update.update_priors`)
  on the round-1 rows, the contexts once per case.
* **Lagged links** (``lag: 1``) are learnt by a *two-slice approximation*: each pair
  of consecutive rounds (r - 1, r) of a case is one case of the theory unrolled over
  two rounds (:func:`bayes_cmo.inference.rounds.unroll_theory`), round r - 1 in the
  first slice and round r in the second, and the same exact EM runs on those pairs.
  A lagged link exists once in the two-round network (into the second slice), so its
  posterior weight and sd are read from there. The approximation: the first slice of a
  pair is treated as a fresh round (its own lagged inputs at their midpoint, not at the
  round before it), and a case's contexts enter once per pair.

Without a ``round`` column, use :func:`~bayes_cmo.update.update_priors` (the
single-round format is unchanged).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .. import _tables
from .._errors import BayesCMOError
from .._lazy import pandas as pd
from ..inference.rounds import MAX_ROUNDS, dynamic_nodes, round_name, unroll_theory
from ..network.model import Model, build_model
from . import cases as cases_mod
from .em import DEFAULT_MAX_ITER, DEFAULT_TOL, UpdateResult, update_priors

__all__ = ["ROUND_COLUMN", "has_rounds", "two_slice_cases", "update_over_rounds"]

ROUND_COLUMN = "round"
METHOD = (
    "round 1 rows: exact MAP EM on the one-round network; lagged links: exact MAP EM on consecutive-round "
    "pairs of the theory unrolled over two rounds (two-slice approximation)"
)


def _frame(source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source.copy().set_axis([str(c).strip() for c in source.columns], axis=1), "cases"
    table = _tables.read_table(Path(source), header_hint="e.g. a node id")
    return table.frame, table.where


def has_rounds(source: str | Path | pd.DataFrame) -> bool:
    """Does the case file (or frame) carry a ``round`` column?"""
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        return False
    frame, _ = _frame(source)
    return any(_tables.key(c) == ROUND_COLUMN for c in frame.columns)


def _rounds(frame: pd.DataFrame, where: str) -> tuple[pd.DataFrame, str]:
    column = next(c for c in frame.columns if _tables.key(c) == ROUND_COLUMN)
    if cases_mod.ID_COLUMN not in frame.columns:
        raise BayesCMOError(f"{where}: a case file with a '{column}' column needs a '{cases_mod.ID_COLUMN}' column (one row per case and round)")
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = ~(values.notna() & (values % 1 == 0) & (values >= 1) & (values <= MAX_ROUNDS))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise BayesCMOError(f"{where}: row {i + 2}, column '{column}': expected a whole number from 1 to {MAX_ROUNDS}, got {frame[column].iloc[i]!r}")
    frame = frame.assign(**{column: values.astype(int)})
    twice = frame.duplicated([cases_mod.ID_COLUMN, column])
    if twice.any():
        i = int(np.flatnonzero(twice.to_numpy())[0])
        raise BayesCMOError(f"{where}: row {i + 2}: case '{frame[cases_mod.ID_COLUMN].iloc[i]}' has round {frame[column].iloc[i]} twice")
    return frame, column


def _per_case_statics(frame: pd.DataFrame, statics: list[str], where: str) -> pd.DataFrame:
    """One row per case: each context's single value over the case's rounds (blank if never given)."""
    out = {}
    for case, rows in frame.groupby(cases_mod.ID_COLUMN, sort=False):
        values = {}
        for v in statics:
            given = {str(x).strip() for x in rows[v] if _tables.cell(x, cases_mod.BLANKS) is not None}
            if len(given) > 1:
                raise BayesCMOError(f"{where}: case '{case}': {v} is the same in every round but is given as {', '.join(sorted(given))}")
            values[v] = given.pop() if given else None
        out[case] = values
    return pd.DataFrame.from_dict(out, orient="index", columns=statics).rename_axis(cases_mod.ID_COLUMN).reset_index()


def two_slice_cases(model: Model, source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(round-1 cases of the one-round network, consecutive-round pairs as cases of the two-round network).

    Both are plain case frames (``case_id`` then node columns); the pairs' ids are ``CASE@r`` (rounds r - 1 and r).
    """
    theory = model.theory
    if theory is None:
        raise BayesCMOError(f"{model.source}: cases over rounds need a priors folder (its lagged links)")
    frame, where = _frame(source)
    frame, column = _rounds(frame, where)
    dynamic = set(dynamic_nodes(theory))
    if not dynamic:
        raise BayesCMOError(f"{theory.path}: no link has 'lag: 1'; drop the '{column}' column (there is nothing to learn over rounds)")
    nodes = [c for c in frame.columns if c in theory.nodes]
    statics = [c for c in nodes if c not in dynamic]
    moving = [c for c in nodes if c in dynamic]
    other = [c for c in frame.columns if c not in nodes and c not in (column, cases_mod.ID_COLUMN)]
    contexts = _per_case_statics(frame, statics, where)
    first = frame[frame[column] == 1][[cases_mod.ID_COLUMN, *moving, *other]]
    first = contexts.merge(first, on=cases_mod.ID_COLUMN, how="left")
    by_round = frame.set_index([cases_mod.ID_COLUMN, column])[moving]
    pairs = []
    for (case, r), row in by_round.iterrows():
        if r < 2 or (case, r - 1) not in by_round.index:
            continue
        before = by_round.loc[(case, r - 1)]
        pair = {cases_mod.ID_COLUMN: f"{case}@{r}"}
        pair.update(contexts.set_index(cases_mod.ID_COLUMN).loc[case].to_dict())
        pair.update({round_name(v, 1): before[v] for v in moving})
        pair.update({round_name(v, 2): row[v] for v in moving})
        pairs.append(pair)
    if not pairs:
        raise BayesCMOError(f"{where}: no case has two consecutive rounds; the lagged links need a case observed in rounds r - 1 and r")
    return first, pd.DataFrame(pairs)


def update_over_rounds(
    model: Model,
    cases: str | Path | pd.DataFrame,
    *,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
    progress: bool = False,
) -> UpdateResult:
    """Update a theory's priors with cases observed over rounds (a ``round`` column; see the module docstring).

    Returns an :class:`~bayes_cmo.update.UpdateResult` like :func:`~bayes_cmo.update.update_priors`:
    its ``links`` table has the lagged links ``updated`` (``n_both``: consecutive-round pairs observing
    both ends), everything else from the round-1 rows; ``cases`` are the round-1 cases.
    """
    first, pairs = two_slice_cases(model, cases)
    theory = model.theory
    base = update_priors(model, first, max_iter=max_iter, tol=tol, progress=progress)
    unrolled, link_map, _ = unroll_theory(theory, 2)
    two = update_priors(build_model(unrolled, source=f"{theory.path} over two rounds"), pairs, max_iter=max_iter, tol=tol, progress=progress)
    lagged = {link.id for link in theory.links if link.lag}
    learnt = two.links[two.links.link.map(link_map).isin(lagged)].assign(link=lambda f: f.link.map(link_map)).set_index("link")
    links, table = [], base.links.set_index("link")
    for link in base.theory.links:
        if link.id in learnt.index:
            row = learnt.loc[link.id]
            links.append(link.with_weight(float(row.posterior_weight), sd=float(row.posterior_sd), label_digits=4))
            table.loc[link.id, ["posterior_weight", "posterior_sd", "n_both", "updated"]] = [
                float(row.posterior_weight), float(row.posterior_sd), int(row.n_both), bool(row.updated)
            ]
        else:
            links.append(link)
    updated = dataclasses.replace(base.theory, links=tuple(links))
    table = table.reset_index().astype({"n_both": int, "updated": bool})
    return dataclasses.replace(
        base,
        theory=updated,
        model=build_model(updated, source=f"{model.source} updated with {len(first)} case(s) over rounds"),
        links=table,
    )
