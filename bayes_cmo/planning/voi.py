"""Value of information: which factor should the next case studies measure first?

For a target T (say ``dissolution``) and what is already known (evidence e),
measuring a node X is worth

* ``mutual_information_bits``: I(T; X | e) = H(T | e) - E_x H(T | e, X = x), the
  expected reduction in the entropy of T, in bits;
* ``expected_abs_change``: E_x |P(T = t* | e, X = x) - P(T = t* | e)|, the expected
  shift of the probability of the target state t* (default: the target's
  highest state, e.g. ``dissolved`` or ``synergy``). For a two-state target this
  equals the expected total-variation change of the whole distribution.

Both come from P(T, X | e): one exact engine contraction per candidate. A
node already in the evidence has value 0 (measuring it again tells nothing).

The best *set* of k measurements is chosen greedily: each step adds the node
with the largest gain I(T; S + X | e) - I(T; S | e) given the earlier picks S,
computed exactly from the joint P(T, S, X | e) (so k is kept small). With
costs, each step maximises gain per unit cost.

Costs come from a CSV with columns ``node,cost``. The file lists what *can* be
measured: with costs, the candidates are the nodes in the file (a node the file
leaves out is not ranked); costs must be positive numbers. A file saved from a
spreadsheet (or an ``.xlsx`` workbook) is read by the rules of
:mod:`bayes_cmo._tables`, as case files are (byte-order mark, ``;`` separators,
blank rows and trailing empty columns; headers and node ids up to case and
spaces for underscores), and in a ``;``-separated file a decimal comma
(``1,5``) is read as a decimal point.

With a batched model (parameter draws), each value is the mean over draws and
``*_ci_low`` / ``*_ci_high`` columns give the credible interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine import core as _engine
from .._errors import BayesCMOError, did_you_mean
from .. import _tables
from ..inference.whatif import DEFAULT_LEVEL, check_findings, check_targets, target_state_index
from ..network.model import Model

#: Largest joint P(T, picks, X | e) the greedy search builds (cells).
MAX_JOINT_CELLS = 2_000_000

__all__ = ["best_measurements", "entropy_bits", "mutual_information_bits", "read_costs", "value_of_information"]


def entropy_bits(p: np.ndarray, axis: int | tuple[int, ...] = -1) -> np.ndarray:
    """Shannon entropy in bits over ``axis`` (0 log 0 = 0)."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=axis)


def mutual_information_bits(joint: np.ndarray) -> np.ndarray:
    """I(A; B) in bits from a joint ``(*batch, KA, KB)`` that sums to one over the last two axes."""
    joint = np.asarray(joint, dtype=float)
    pa = joint.sum(axis=-1)
    pb = joint.sum(axis=-2)
    h_ab = entropy_bits(joint, axis=(-2, -1))
    # Clip tiny negative round-off: MI is nonnegative.
    return np.maximum(entropy_bits(pa) + entropy_bits(pb) - h_ab, 0.0)


def _expected_abs_change(joint: np.ndarray, state: int) -> np.ndarray:
    """E_x |P(t*|x) - P(t*)| from ``joint`` shaped ``(*batch, KT, KX)``."""
    pt = joint.sum(axis=-1)[..., state]  # (*batch,)
    # sum_x |P(t*, x) - P(t*) P(x)| = sum_x P(x) |P(t*|x) - P(t*)|
    px = joint.sum(axis=-2)
    return np.abs(joint[..., state, :] - pt[..., None] * px).sum(axis=-1)


def read_costs(path: str | Path, model: Model, *, sheet: str | None = None) -> dict[str, float]:
    """``{node: cost}`` from a CSV or ``.xlsx`` table with columns node,cost; one-line errors naming file and row."""
    table = _tables.read_table(Path(path), sheet=sheet, header_hint="node or cost")
    frame = _tables.canonical_columns(table, ("node", "cost"))
    for column in ("node", "cost"):
        if column not in frame.columns:
            raise BayesCMOError(
                f"{table.where}: row {table.header_row}: missing column '{column}' (expected columns node,cost)"
                f"{did_you_mean(column, frame.columns)}"
            )
    costs: dict[str, float] = {}
    for number, node, text in zip(table.rows, frame["node"], frame["cost"], strict=True):
        where = f"{table.where}, row {number}"
        if node is None:
            raise BayesCMOError(f"{where}, column node: blank node id (cost {text}); name the node or delete the row")
        node = _tables.canonical(node, model.variables)
        if node not in model.network.states:
            raise BayesCMOError(f"{where}, column node: unknown node '{node}'{did_you_mean(node, model.variables)}")
        if node in costs:
            raise BayesCMOError(f"{where}, column node: '{node}' is listed twice")
        if text is None:
            raise BayesCMOError(
                f"{where}, column cost: blank cost for '{node}' (expected a positive number; "
                "leave the node out of the file if it cannot be measured)"
            )
        try:
            cost = _tables.number(text, table)
        except ValueError:
            cost = np.nan
        if not np.isfinite(cost) or cost <= 0:
            raise BayesCMOError(f"{where}, column cost: expected a positive number for '{node}', got '{text}'")
        costs[node] = cost
    if not costs:
        raise BayesCMOError(f"{table.where}: no rows (expected columns node,cost and one row per measurable node)")
    return _Costs(costs, source=table.where)


class _Costs(dict):
    """``{node: cost}`` that remembers its file, so later messages can name it."""

    def __init__(self, costs: Mapping[str, float], source: str) -> None:
        super().__init__(costs)
        self.source = source


def _setup(model, target, evidence, candidates, costs, state, caller):
    if not isinstance(model, Model):
        raise BayesCMOError(f"The 'model' parameter of {caller} must be a Model. Got {type(model).__name__} instead.")
    (target,) = check_targets(model, [target])
    evidence = check_findings(model, evidence, "evidence")
    if target in evidence:
        raise BayesCMOError(f"'{target}' is both the target and given as evidence; drop one of them")
    state_index = target_state_index(model, target, state)
    costs_file = getattr(costs, "source", None)
    if costs is not None and not isinstance(costs, Mapping):
        costs_file = costs
        costs = read_costs(costs, model)
    if costs is not None:
        for node, cost in costs.items():
            if node not in model.network.states:
                raise BayesCMOError(f"costs: unknown node '{node}'{did_you_mean(node, model.variables)}")
            if not np.isfinite(float(cost)) or float(cost) <= 0:
                raise BayesCMOError(f"costs: the cost of '{node}' must be a positive number, got {cost!r}")
        costs = {n: float(c) for n, c in costs.items()}
    if candidates is None:
        pool = list(costs) if costs is not None else list(model.variables)
        candidates = [v for v in model.variables if v in pool and v != target and v not in evidence]
    else:
        if isinstance(candidates, str):
            candidates = [candidates]
        candidates = list(dict.fromkeys(candidates))
        for node in candidates:
            if node not in model.network.states:
                raise BayesCMOError(f"candidates: unknown node '{node}'{did_you_mean(node, model.variables)}")
            if node == target:
                raise BayesCMOError(f"candidates: '{node}' is the target itself; measure something else")
            if costs is not None and node not in costs:
                raise BayesCMOError(f"candidates: '{node}' has no cost in the costs file; add a row '{node},COST'")
    if not candidates:
        if costs is not None:
            listed = ", ".join(costs)
            where = f"{costs_file}" if costs_file is not None else "costs"
            raise BayesCMOError(
                f"{where}: lists only {listed}, which is the target '{target}' or already observed; "
                "nothing is left to measure (add a row node,cost for each measurable node)"
            )
        raise BayesCMOError(f"nothing left to measure: every node other than the target '{target}' is observed")
    return target, evidence, candidates, costs, state_index


def _summary_columns(name: str, values: np.ndarray, level: float) -> dict[str, float]:
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        return {name: float(values)}
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return {name: float(values.mean()), f"{name}_ci_low": float(low), f"{name}_ci_high": float(high)}


def value_of_information(
    model: Model,
    target: str,
    *,
    evidence: Mapping[str, str] | None = None,
    candidates: Sequence[str] | None = None,
    costs: Mapping[str, float] | str | Path | None = None,
    state: str | None = None,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Rank nodes by how much measuring them would tell about ``target``.

    Returns one row per candidate, best first, with columns ``node``,
    ``mutual_information_bits``, ``expected_abs_change`` (of P(target = state),
    default the highest state), and with ``costs`` (a ``{node: cost}`` mapping
    or a CSV path) ``cost`` and ``bits_per_cost``; then ``rank``. Ranked by
    bits per cost when costs are given, else by bits. Candidates default to
    every node that is neither the target nor in the evidence; a candidate in
    the evidence gets 0.
    """
    target, evidence, candidates, costs, k_state = _setup(
        model, target, evidence, candidates, costs, state, "value_of_information"
    )
    net = model.network
    rows = []
    for node in candidates:
        joint = _engine.query(net, [target, node], [evidence])[..., 0, :, :]  # (*batch, KT, KX)
        row = {"node": node}
        row.update(_summary_columns("mutual_information_bits", mutual_information_bits(joint), level))
        row.update(_summary_columns("expected_abs_change", _expected_abs_change(joint, k_state), level))
        if costs is not None:
            row["cost"] = costs[node]
            row["bits_per_cost"] = row["mutual_information_bits"] / costs[node]
        rows.append(row)
    frame = pd.DataFrame(rows)
    by = "bits_per_cost" if costs is not None else "mutual_information_bits"
    frame = frame.sort_values([by, "expected_abs_change"], ascending=False, kind="stable").reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    frame.attrs.update(target=target, state=net.states[target][k_state], evidence=dict(evidence))
    return frame


def _set_information(net, target, evidence, nodes: list[str]) -> np.ndarray:
    """I(T; nodes | e) in bits, exactly, from the joint P(T, nodes | e)."""
    joint = _engine.query(net, [target, *nodes], [evidence])
    joint = np.take(joint, 0, axis=joint.ndim - len(nodes) - 2)  # drop the single evidence-set axis
    kt = joint.shape[-len(nodes) - 1]
    flat = joint.reshape(*joint.shape[: -len(nodes) - 1], kt, -1)
    return mutual_information_bits(flat)


def best_measurements(
    model: Model,
    target: str,
    k: int = 3,
    *,
    evidence: Mapping[str, str] | None = None,
    candidates: Sequence[str] | None = None,
    costs: Mapping[str, float] | str | Path | None = None,
) -> pd.DataFrame:
    """The best set of ``k`` measurements for ``target``, chosen greedily.

    Each step adds the candidate with the largest gain in I(T; picks | e)
    given the earlier picks (per unit cost when ``costs`` are given). Returns
    one row per step: ``step``, ``node``, ``gain_bits``, ``set_information_bits``
    (information of all picks so far), and with costs ``cost`` and
    ``total_cost``. With parameter draws, bits are means over draws.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise BayesCMOError(f"The 'k' parameter of best_measurements must be a positive integer. Got {k!r} instead.")
    target, evidence, candidates, costs, _ = _setup(model, target, evidence, candidates, costs, None, "best_measurements")
    net = model.network
    pool = [c for c in candidates if c not in evidence]
    if k > len(pool):
        raise BayesCMOError(f"The 'k' parameter of best_measurements must be at most {len(pool)} (the unobserved candidates). Got {k} instead.")
    cards = net.cards
    picks: list[str] = []
    current = 0.0
    rows = []
    total_cost = 0.0
    for step in range(1, k + 1):
        size = cards[target] * int(np.prod([cards[p] for p in picks])) * max(cards[c] for c in pool)
        if size > MAX_JOINT_CELLS:
            raise BayesCMOError(
                f"k={k} is too large for an exact joint over {target} and {step} measurements "
                f"({size:,} cells); use a smaller k"
            )
        best = None
        for node in pool:
            info = float(np.mean(_set_information(net, target, evidence, [*picks, node])))
            gain = info - current
            score = gain / costs[node] if costs is not None else gain
            if best is None or score > best[0] + 1e-15:
                best = (score, node, info, gain)
        _, node, info, gain = best
        picks.append(node)
        pool.remove(node)
        current = info
        row = {"step": step, "node": node, "gain_bits": max(gain, 0.0), "set_information_bits": info}
        if costs is not None:
            total_cost += costs[node]
            row.update(cost=costs[node], total_cost=total_cost)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.attrs.update(target=target, evidence=dict(evidence))
    return frame
