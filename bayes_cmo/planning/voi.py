"""Value of information: which factor should the next case studies measure first?

For a target T and what is already known (evidence e, interventions, a scenario),
measuring a node X is worth

* ``mutual_information_bits``: I(T; X | e) = H(T | e) - E_x H(T | e, X = x), the
  expected reduction in the entropy of T, in bits;
* ``expected_abs_change``: E_x |P(T = t* | e, X = x) - P(T = t* | e)|, the expected
  shift of the probability of the target state t* (default: the target's
  highest state). For a two-state target this
  equals the expected total-variation change of the whole distribution.

Both come from P(T, X | e), every candidate's at once: one exact engine
contraction and its backward pass (:func:`pair_joints`, which also serves
several targets in one pass). A node already in the evidence has value 0
(measuring it again tells nothing).

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

With a batched model (parameter draws), each value is the mean over draws;
``ci_low`` / ``ci_high`` give the credible interval of the bits and
``expected_abs_change_ci_low`` / ``_ci_high`` that of the expected change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .. import _validate as check
from .._errors import BayesCMOError, ZeroProbabilityEvidence, did_you_mean
from .._lazy import pandas as pd
from ..engine import core as _engine
from .. import _tables
from ..inference.background import Background, check_model, check_targets, free_targets, impossible, target_state
from ..inference.summary import DEFAULT_LEVEL, summarise
from ..network.model import Model
from ..theory import Scenario

#: Largest joint P(T, picks, X | e) the greedy search builds (cells).
MAX_JOINT_CELLS = 2_000_000

__all__ = [
    "best_measurements", "entropy_bits", "expected_abs_change", "mutual_information_bits", "pair_joints", "read_costs", "value_of_information",
]


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


def expected_abs_change(joint: np.ndarray, state: int) -> np.ndarray:
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


def _setup(model, target, background, candidates, costs, state):
    (target,) = check_targets(check_model(model), [target])
    free_targets([target], background)
    state_index = target_state(model, target, state)
    costs_file = getattr(costs, "source", None)
    if costs is not None and not isinstance(costs, Mapping):
        costs_file = costs
        costs = read_costs(costs, model)
    if costs is not None:
        for node, cost in costs.items():
            check.node(model.network.states, node, "costs")
            check.positive(cost, f"costs: the cost of '{node}'")
        costs = {n: float(c) for n, c in costs.items()}
    if candidates is None:
        pool = list(costs) if costs is not None else list(model.variables)
        candidates = [v for v in model.variables if v in pool and v != target and v not in background.fixed]
    else:
        candidates = list(dict.fromkeys(check.as_list(candidates)))
        for node in candidates:
            check.node(model.network.states, node, "candidates")
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
    return target, candidates, costs, state_index


def _joint(net, background: Background, variables: list[str]) -> np.ndarray:
    try:
        return _engine.query(net, variables, [dict(background.evidence)])
    except ZeroProbabilityEvidence:
        raise impossible(background, net) from None


def pair_joints(
    net: _engine.NetworkArrays,
    targets: Sequence[str],
    nodes: Sequence[str],
    likelihoods: Mapping[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, np.ndarray]]]:
    """P(T, X | e) for every target T and every X in ``nodes``, from ONE backward pass over the network.

    ``likelihoods`` is the background as soft evidence, one ``(1, card)`` row
    per node (a row of ones is no evidence). The evidence sets are one per
    state of each target -- its one-hot row, every other target's row of ones
    -- each times the background: with Z_t = P(T = t, e), summing
    theta_X(x | u) dZ_t/dtheta_X(x | u) over the parents u gives
    P(T = t, X = x, e) for every X at once. One plan for every target and
    candidate; a caller that gives the same nodes rows in every call (the
    what-if page) reuses it for every setting.

    Returns ``(evidence, joints)``: ``evidence[T]`` is P(e), ``(*batch,)``,
    from T's own sets (zero: the background is impossible); ``joints[T][X]``
    is shaped ``(*batch, KT, KX)``. Targets must not be in ``likelihoods``.
    """
    cards = net.cards
    n_sets = sum(cards[t] for t in targets)
    rows = {v: np.broadcast_to(np.asarray(m, dtype=float).reshape(1, -1), (n_sets, cards[v])) for v, m in (likelihoods or {}).items()}
    spans, start = {}, 0
    for t in targets:
        block = np.ones((n_sets, cards[t]))
        block[start : start + cards[t]] = np.eye(cards[t])
        rows[t] = block
        spans[t] = slice(start, start + cards[t])
        start += cards[t]
    z, grads = _engine.differentiate(net, likelihoods=rows, wrt=list(nodes))  # (*batch, E), {X: (*batch, E, KX, *pa)}
    evidence, joints = {}, {}
    for t in targets:
        span = spans[t]
        total = z[..., span].sum(axis=-1)
        evidence[t] = total
        safe = np.where(total > 0, total, 1.0)[..., np.newaxis, np.newaxis]
        joints[t] = {}
        for x in nodes:
            g, cpt, n_pa = grads[x], net.cpts[x], len(net.parents[x])
            g = g[(slice(None),) * (g.ndim - 2 - n_pa) + (span,)]  # this target's evidence sets
            parents = tuple(range(g.ndim - n_pa, g.ndim))
            cpt = np.expand_dims(cpt, cpt.ndim - len(net.parents[x]) - 1)  # an E axis before the CPT's own
            joints[t][x] = (cpt * g).sum(axis=parents) / safe
    return evidence, joints


def _pair_joints(net, background: Background, target: str, nodes: list[str]) -> dict[str, np.ndarray]:
    """P(target, X | e) for every X in ``nodes``, shaped ``(*batch, KT, KX)`` (:func:`pair_joints` for one target)."""
    hard = _engine.evidence_likelihoods(net, [dict(background.evidence)]) if background.evidence else {}
    evidence, joints = pair_joints(net, [target], nodes, hard)
    if not np.all(evidence[target] > 0):
        raise impossible(background, net)
    return joints[target]


def value_of_information(
    model: Model,
    target: str,
    *,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    state: str | None = None,
    candidates: Sequence[str] | None = None,
    costs: Mapping[str, float] | str | Path | None = None,
    level: float = DEFAULT_LEVEL,
    progress: bool = False,
) -> pd.DataFrame:
    """Rank nodes by how much measuring them would tell about ``target``.

    Returns one row per candidate, best first, with columns ``target``,
    ``target_state`` (the state of the expected change: ``state``, default the
    highest), ``node``, ``mutual_information_bits``, ``expected_abs_change``
    (of P(target = target_state)), and with ``costs`` (a ``{node: cost}``
    mapping or a CSV path) ``cost`` and ``bits_per_cost``; then ``rank``.
    Ranked by bits per cost when costs are given, else by bits. The
    background (``evidence``, ``do``, ``scenario``) is what is already known
    or done; candidates default to every node that is neither the target nor
    fixed by it; a named candidate in the evidence gets 0.
    """
    level = check.level(level)
    background = Background.of(check_model(model), evidence, do, scenario)
    target, candidates, costs, k_state = _setup(model, target, background, candidates, costs, state)
    net = background.network(model)
    rows = []
    joints = _pair_joints(net, background, target, candidates)
    for node in candidates:
        joint = joints[node]  # (*batch, KT, KX)
        row = {"target": target, "target_state": net.states[target][k_state], "node": node}
        row.update(summarise(mutual_information_bits(joint), level, "mutual_information_bits"))
        row.update(summarise(expected_abs_change(joint, k_state), level, "expected_abs_change", main=False))
        if costs is not None:
            row["cost"] = costs[node]
            row["bits_per_cost"] = row["mutual_information_bits"] / costs[node]
        rows.append(row)
    frame = pd.DataFrame(rows)
    by = "bits_per_cost" if costs is not None else "mutual_information_bits"
    frame = frame.sort_values([by, "expected_abs_change"], ascending=False, kind="stable").reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame


def _set_information(net, target, background: Background, nodes: list[str]) -> np.ndarray:
    """I(T; nodes | e) in bits, exactly, from the joint P(T, nodes | e)."""
    joint = _joint(net, background, [target, *nodes])
    joint = np.take(joint, 0, axis=joint.ndim - len(nodes) - 2)  # drop the single evidence-set axis
    kt = joint.shape[-len(nodes) - 1]
    flat = joint.reshape(*joint.shape[: -len(nodes) - 1], kt, -1)
    return mutual_information_bits(flat)


def best_measurements(
    model: Model,
    target: str,
    k: int = 3,
    *,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    candidates: Sequence[str] | None = None,
    costs: Mapping[str, float] | str | Path | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """The best set of ``k`` measurements for ``target``, chosen greedily.

    Each step adds the candidate with the largest gain in I(T; picks | e)
    given the earlier picks (per unit cost when ``costs`` are given). Returns
    one row per step: ``target``, ``step``, ``node``, ``gain_bits``, ``set_information_bits``
    (information of all picks so far), and with costs ``cost`` and
    ``total_cost``. With parameter draws, bits are means over draws.
    """
    k = check.integer(k, "k")
    background = Background.of(check_model(model), evidence, do, scenario)
    target, candidates, costs, _ = _setup(model, target, background, candidates, costs, None)
    net = background.network(model)
    pool = [c for c in candidates if c not in background.fixed]
    k = check.integer(k, "k", 1, len(pool))
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
            info = float(np.mean(_set_information(net, target, background, [*picks, node])))
            gain = info - current
            score = gain / costs[node] if costs is not None else gain
            if best is None or score > best[0] + 1e-15:
                best = (score, node, info, gain)
        _, node, info, gain = best
        picks.append(node)
        pool.remove(node)
        current = info
        row = {"target": target, "step": step, "node": node, "gain_bits": max(gain, 0.0), "set_information_bits": info}
        if costs is not None:
            total_cost += costs[node]
            row.update(cost=costs[node], total_cost=total_cost)
        rows.append(row)
    return pd.DataFrame(rows)
