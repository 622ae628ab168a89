"""Batched exact inference: a whole query is one einsum contraction.

A discrete Bayesian network is held as plain numpy arrays (:class:`NetworkArrays`).
A query ``P(Q | e)`` multiplies every relevant CPT with one likelihood matrix per
observed variable and sums out everything except the query variables; that is a
single einsum, planned by opt_einsum and cached by structure and shapes, so
sweeps over parameter draws and contexts reuse the same contraction plan.

Two batch axes ride along for free:

* ``d`` -- parameter draws.  A CPT may carry a leading axis of length ``D``
  (shape ``(D, card[v], *card[parents])``); unbatched CPTs broadcast.
* ``e`` -- evidence sets (or cases).  Each observed variable contributes an
  ``(E, card)`` likelihood matrix: 0/1 rows for hard findings, all-ones rows
  where a set leaves the variable unobserved, arbitrary nonnegative rows for
  soft (virtual) evidence.

Results are shaped ``(*batch, E, *cards of the query variables)`` with
``batch == (D,)`` for a batched network and ``()`` otherwise.

This module is pure numpy + opt_einsum.  pgmpy is only touched by
:func:`arrays_from_pgmpy` / :func:`to_pgmpy`, which import it lazily via
:mod:`bayes_cmo._pgmpy`.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import opt_einsum

from bayes_cmo._errors import BayesCMOError, ZeroProbabilityEvidence, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from bayes_cmo._pgmpy import DiscreteBayesianNetwork

__all__ = [
    "NetworkArrays",
    "arrays_from_pgmpy",
    "evidence_likelihoods",
    "intervene",
    "marginals",
    "probability_of_evidence",
    "query",
    "to_pgmpy",
    "with_cpts",
]

# CPT columns must sum to one within this tolerance.  Bundled BIF files are
# written with ~7 significant digits (alarm is off by 1e-7), so be lenient;
# the values are used as given, never renormalised, to match pgmpy exactly.
_SUM_TOL = 1e-6


def _frozen_array(values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.flags.writeable:
        arr = arr.copy()
        arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False, repr=False)
class NetworkArrays:
    """A discrete Bayesian network as numpy arrays.

    ``variables`` is in topological order (every parent precedes its child).
    ``cpts[v]`` has shape ``(card[v], *card[parents[v]])`` or, batched over
    parameter draws, ``(D, card[v], *card[parents[v]])``; it sums to one over
    the ``card[v]`` axis.  All batched CPTs must share the same ``D``.

    Instances are immutable: mappings are read-only views and arrays are
    read-only float64 copies.
    """

    variables: tuple[str, ...]
    states: Mapping[str, tuple[str, ...]]
    parents: Mapping[str, tuple[str, ...]]
    cpts: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        variables = tuple(str(v) for v in self.variables)
        if len(set(variables)) != len(variables):
            dupes = sorted({v for v in variables if variables.count(v) > 1})
            raise BayesCMOError(f"duplicate variables in network: {dupes}")
        known = set(variables)
        for label, mapping in (("states", self.states), ("cpts", self.cpts)):
            extra = [k for k in mapping if k not in known]
            if extra:
                raise BayesCMOError(
                    f"{label} given for unknown variable '{extra[0]}'"
                    f"{did_you_mean(extra[0], variables)}"
                )
        extra = [k for k in self.parents if k not in known]
        if extra:
            raise BayesCMOError(
                f"parents given for unknown variable '{extra[0]}'{did_you_mean(extra[0], variables)}"
            )

        states: dict[str, tuple[str, ...]] = {}
        for v in variables:
            if v not in self.states:
                raise BayesCMOError(f"no states given for variable '{v}'")
            s = tuple(str(x) for x in self.states[v])
            if not s:
                raise BayesCMOError(f"variable '{v}' has no states")
            if len(set(s)) != len(s):
                raise BayesCMOError(f"variable '{v}' has duplicate state names: {list(s)}")
            states[v] = s

        position = {v: i for i, v in enumerate(variables)}
        parents: dict[str, tuple[str, ...]] = {}
        for v in variables:
            ps = tuple(str(p) for p in self.parents.get(v, ()))
            for p in ps:
                if p not in position:
                    raise BayesCMOError(
                        f"unknown parent '{p}' of '{v}'{did_you_mean(p, variables)}"
                    )
                if position[p] >= position[v]:
                    raise BayesCMOError(
                        f"variables are not in topological order: parent '{p}' "
                        f"does not precede '{v}'"
                    )
            if len(set(ps)) != len(ps):
                raise BayesCMOError(f"duplicate parents of '{v}': {list(ps)}")
            parents[v] = ps

        cpts: dict[str, np.ndarray] = {}
        batch: int | None = None
        batch_from = ""
        for v in variables:
            if v not in self.cpts:
                raise BayesCMOError(f"no CPT given for variable '{v}'")
            arr = _frozen_array(self.cpts[v])
            core = (len(states[v]), *(len(states[p]) for p in parents[v]))
            if arr.shape == core:
                pass
            elif arr.ndim == len(core) + 1 and arr.shape[1:] == core:
                if batch is None:
                    batch, batch_from = arr.shape[0], v
                elif arr.shape[0] != batch:
                    raise BayesCMOError(
                        f"batched CPTs disagree on the number of draws: '{batch_from}' has "
                        f"{batch}, '{v}' has {arr.shape[0]}"
                    )
            else:
                raise BayesCMOError(
                    f"CPT of '{v}' has shape {arr.shape}; expected {core} "
                    f"(card of '{v}', then parents {list(parents[v])}) or (D, *{core})"
                )
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise BayesCMOError(f"CPT of '{v}' has negative or non-finite entries")
            axis = arr.ndim - len(core)
            dev = np.abs(arr.sum(axis=axis) - 1.0)
            if dev.size and dev.max() > _SUM_TOL:
                raise BayesCMOError(
                    f"CPT of '{v}' does not sum to 1 over the states of '{v}' "
                    f"(off by up to {dev.max():.3g})"
                )
            cpts[v] = arr

        object.__setattr__(self, "variables", variables)
        object.__setattr__(self, "states", MappingProxyType(states))
        object.__setattr__(self, "parents", MappingProxyType(parents))
        object.__setattr__(self, "cpts", MappingProxyType(cpts))
        object.__setattr__(self, "_batch_size", batch)

    @property
    def batch_size(self) -> int | None:
        """``D`` if any CPT carries a draw axis, else ``None``."""
        return self._batch_size  # type: ignore[attr-defined]

    @property
    def cards(self) -> dict[str, int]:
        return {v: len(self.states[v]) for v in self.variables}

    def is_batched(self, variable: str) -> bool:
        return self.cpts[variable].ndim == len(self.parents[variable]) + 2

    @cached_property
    def _structure(self) -> tuple:
        """Hashable description of everything an einsum plan depends on, bar D and E."""
        return tuple(
            (v, self.parents[v], len(self.states[v]), self.is_batched(v)) for v in self.variables
        )

    def __repr__(self) -> str:
        d = "" if self.batch_size is None else f", batch_size={self.batch_size}"
        return f"NetworkArrays({len(self.variables)} variables{d})"


# ---------------------------------------------------------------------------
# pgmpy conversion


def arrays_from_pgmpy(model: DiscreteBayesianNetwork) -> NetworkArrays:
    """Convert a pgmpy ``DiscreteBayesianNetwork`` (with CPDs) to arrays.

    ``TabularCPD.values`` is N-D in ``cpd.variables`` order: the variable,
    then its evidence in the CPD's own order.  (``cpd.get_evidence()`` returns
    that evidence *reversed*, so it is not used.)  State names are taken from
    ``cpd.state_names`` and converted to ``str``.
    """
    cpds = {}
    for cpd in model.get_cpds():
        cpds[str(cpd.variable)] = cpd
    nodes = [str(n) for n in model.nodes()]
    missing = [n for n in nodes if n not in cpds]
    if missing:
        raise BayesCMOError(f"pgmpy model has no CPD for {missing}")

    parents: dict[str, tuple[str, ...]] = {}
    states: dict[str, tuple[str, ...]] = {}
    values: dict[str, np.ndarray] = {}
    for name in nodes:
        cpd = cpds[name]
        cpd_vars = [str(x) for x in cpd.variables]
        ps = tuple(cpd_vars[1:])
        graph_parents = {str(p) for p in model.get_parents(cpd.variable)}
        if set(ps) != graph_parents:
            raise BayesCMOError(
                f"CPD of '{name}' conditions on {sorted(ps)} but the graph gives parents "
                f"{sorted(graph_parents)}"
            )
        parents[name] = ps
        states[name] = tuple(str(s) for s in cpd.state_names[cpd.variable])
        arr = np.asarray(cpd.values, dtype=np.float64)
        cards = tuple(int(c) for c in cpd.cardinality)
        values[name] = arr.reshape(cards)
    order = _topological_order(nodes, parents)
    return NetworkArrays(
        variables=tuple(order),
        states={v: states[v] for v in order},
        parents={v: parents[v] for v in order},
        cpts={v: values[v] for v in order},
    )


def _topological_order(nodes: Sequence[str], parents: Mapping[str, Sequence[str]]) -> list[str]:
    """Kahn's algorithm, stable with respect to ``nodes`` order."""
    remaining = {v: set(parents[v]) for v in nodes}
    order: list[str] = []
    placed: set[str] = set()
    while remaining:
        ready = [v for v in nodes if v in remaining and remaining[v] <= placed]
        if not ready:
            raise BayesCMOError(f"graph has a cycle among {sorted(remaining)}")
        for v in ready:
            order.append(v)
            placed.add(v)
            del remaining[v]
    return order


def to_pgmpy(net: NetworkArrays) -> DiscreteBayesianNetwork:
    """Convert an unbatched network back to a pgmpy ``DiscreteBayesianNetwork``."""
    if net.batch_size is not None:
        raise BayesCMOError(
            f"cannot convert a batched network ({net.batch_size} draws) to pgmpy; "
            "convert one draw at a time"
        )
    from bayes_cmo import _pgmpy

    model = _pgmpy.DiscreteBayesianNetwork()
    model.add_nodes_from(net.variables)
    model.add_edges_from([(p, v) for v in net.variables for p in net.parents[v]])
    cpds = []
    for v in net.variables:
        ps = list(net.parents[v])
        card = len(net.states[v])
        cpds.append(
            _pgmpy.TabularCPD(
                variable=v,
                variable_card=card,
                values=np.array(net.cpts[v]).reshape(card, -1),
                evidence=ps or None,
                evidence_card=[len(net.states[p]) for p in ps] or None,
                state_names={x: list(net.states[x]) for x in [v, *ps]},
            )
        )
    model.add_cpds(*cpds)
    return model


# ---------------------------------------------------------------------------
# network transformations


def with_cpts(net: NetworkArrays, **replacements: Any) -> NetworkArrays:
    """A copy of ``net`` with some CPTs replaced (batched or not)."""
    for v in replacements:
        if v not in net.cpts:
            raise BayesCMOError(f"unknown variable '{v}'{did_you_mean(v, net.variables)}")
    cpts = dict(net.cpts)
    cpts.update(replacements)
    return dataclasses.replace(net, cpts=cpts)


def intervene(net: NetworkArrays, do: Mapping[str, str]) -> NetworkArrays:
    """Graph surgery for ``do(X=x)``: ``X`` loses its parents and becomes a point mass on ``x``."""
    parents = dict(net.parents)
    cpts = dict(net.cpts)
    for v, state in do.items():
        _check_variable(net, v, "in do()")
        idx = _state_index(net, v, state, "in do()")
        mass = np.zeros(len(net.states[v]))
        mass[idx] = 1.0
        parents[v] = ()
        cpts[v] = mass
    return dataclasses.replace(net, parents=parents, cpts=cpts)


# ---------------------------------------------------------------------------
# evidence


def _check_variable(net: NetworkArrays, v: Any, where: str) -> str:
    if not isinstance(v, str) or v not in net.states:
        raise BayesCMOError(f"unknown variable '{v}' {where}{did_you_mean(v, net.variables)}")
    return v


def _state_index(net: NetworkArrays, v: str, state: Any, where: str) -> int:
    states = net.states[v]
    s = state if isinstance(state, str) else str(state)
    try:
        return states.index(s)
    except ValueError:
        hint = did_you_mean(s, states) or f"; states are {', '.join(states)}"
        raise BayesCMOError(f"unknown state '{state}' for {v} {where}{hint}") from None


def _check_evidence_sets(evidence_sets: Any) -> Sequence[Mapping[str, Any]]:
    if isinstance(evidence_sets, Mapping) or isinstance(evidence_sets, (str, bytes)):
        raise BayesCMOError(
            "evidence_sets must be a sequence of {variable: state} mappings; "
            "wrap a single evidence set in a list"
        )
    sets = list(evidence_sets)
    for i, ev in enumerate(sets):
        if not isinstance(ev, Mapping):
            raise BayesCMOError(
                f"evidence set {i} is a {type(ev).__name__}, expected a {{variable: state}} mapping"
            )
    return sets


def evidence_likelihoods(
    net: NetworkArrays, evidence_sets: Sequence[Mapping[str, str]]
) -> dict[str, np.ndarray]:
    """Hard findings as 0/1 likelihood matrices.

    Returns, for every variable observed in at least one set (in network
    order), an ``(E, card)`` float64 matrix: a one-hot row where the set
    observes the variable, an all-ones row where it does not.
    """
    sets = _check_evidence_sets(evidence_sets)
    n = len(sets)
    observed: dict[str, list[tuple[int, int]]] = {}
    for i, ev in enumerate(sets):
        where = f"in evidence set {i}"
        for v, state in ev.items():
            _check_variable(net, v, where)
            observed.setdefault(v, []).append((i, _state_index(net, v, state, where)))
    out: dict[str, np.ndarray] = {}
    for v in net.variables:
        if v not in observed:
            continue
        m = np.ones((n, len(net.states[v])))
        for i, k in observed[v]:
            m[i] = 0.0
            m[i, k] = 1.0
        out[v] = m
    return out


def _check_likelihoods(net: NetworkArrays, likelihoods: Mapping[str, Any]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    n_sets: int | None = None
    for v, lik in likelihoods.items():
        _check_variable(net, v, "in likelihoods")
        arr = np.asarray(lik, dtype=np.float64)
        card = len(net.states[v])
        if arr.ndim != 2 or arr.shape[1] != card:
            raise BayesCMOError(
                f"likelihood for {v} has shape {arr.shape}; expected (E, {card}) "
                f"(one row per evidence set, one column per state of {v})"
            )
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise BayesCMOError(f"likelihood for {v} has negative or non-finite entries")
        if n_sets is None:
            n_sets = arr.shape[0]
        elif arr.shape[0] != n_sets:
            raise BayesCMOError(
                f"likelihoods disagree on the number of evidence sets: {v} has {arr.shape[0]} "
                f"rows, earlier ones have {n_sets}"
            )
        out[v] = arr
    return out


@dataclass(frozen=True)
class _Evidence:
    likelihoods: dict[str, np.ndarray]  # network order, each (E, card)
    n_sets: int | None  # None: no evidence given at all (E = 1, no e axis)
    sets: Sequence[Mapping[str, Any]] | None
    soft_vars: tuple[str, ...]

    def describe(self, i: int) -> str:
        parts = []
        if self.sets is not None:
            parts.append(f"findings {dict(self.sets[i])}")
        if self.soft_vars:
            parts.append(f"soft evidence on {list(self.soft_vars)}")
        return " and ".join(parts)


def _prepare(
    net: NetworkArrays,
    evidence_sets: Sequence[Mapping[str, str]] | None,
    likelihoods: Mapping[str, Any] | None,
) -> _Evidence:
    sets = None if evidence_sets is None else _check_evidence_sets(evidence_sets)
    hard = {} if sets is None else evidence_likelihoods(net, sets)
    soft = {} if likelihoods is None else _check_likelihoods(net, likelihoods)
    n_sets: int | None = None
    if sets is not None:
        n_sets = len(sets)
    if soft:
        n_soft = next(iter(soft.values())).shape[0]
        if n_sets is not None and n_soft != n_sets:
            raise BayesCMOError(
                f"likelihoods have {n_soft} rows but {n_sets} evidence sets were given"
            )
        n_sets = n_soft
    merged: dict[str, np.ndarray] = {}
    for v in net.variables:
        if v in hard and v in soft:
            merged[v] = hard[v] * soft[v]
        elif v in hard:
            merged[v] = hard[v]
        elif v in soft:
            merged[v] = soft[v]
    return _Evidence(merged, n_sets, sets, tuple(soft))


# ---------------------------------------------------------------------------
# contraction


_PLAN_CACHE: OrderedDict[tuple, tuple] = OrderedDict()
_PLAN_CACHE_SIZE = 512


def _ancestral_set(net: NetworkArrays, roots: set[str]) -> list[str]:
    keep = set(roots)
    stack = list(roots)
    while stack:
        for p in net.parents[stack.pop()]:
            if p not in keep:
                keep.add(p)
                stack.append(p)
    return [v for v in net.variables if v in keep]


# Contractions whose greedy path costs more than this many flops (roughly
# 10 ms and up) get a randomised-greedy search too; the plan is cached, so the
# extra planning time (bounded by _SEARCH_SECONDS) pays for itself on reuse.
_SEARCH_ABOVE_FLOPS = 1e7
_SEARCH_SECONDS = 0.3


# Evidence sets are contracted in chunks when the plan's largest intermediate
# would exceed this many float64 elements (2**24 elements = 128 MiB).
_MAX_INTERMEDIATE = 2**24


def _choose_path(eq: str, shapes: list[tuple[int, ...]]) -> tuple[list, int]:
    """(contraction path, its largest intermediate size in elements)."""
    path, info = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="greedy")
    if info.opt_cost > _SEARCH_ABOVE_FLOPS:
        search = opt_einsum.RandomGreedy(max_repeats=64, max_time=_SEARCH_SECONDS)
        other, other_info = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=search)
        if other_info.opt_cost < info.opt_cost:
            path, info = other, other_info
    return path, int(info.largest_intermediate)


def _plan(
    net: NetworkArrays, qvars: tuple[str, ...], evars: tuple[str, ...], n_sets: int
) -> tuple[list[str], Any, bool]:
    """(CPTs to include, compiled contraction, whether the output has a draw axis)."""
    key = (net._structure, qvars, evars, net.batch_size, n_sets)
    hit = _PLAN_CACHE.get(key)
    if hit is not None:
        _PLAN_CACHE.move_to_end(key)
        return hit
    kept = _ancestral_set(net, set(qvars) | set(evars))
    if not kept:  # nothing to contract: P(no evidence) = 1
        plan = (kept, None, False)
        _PLAN_CACHE[key] = plan
        return plan
    sym = {v: opt_einsum.get_symbol(i + 2) for i, v in enumerate(kept)}
    d, e = opt_einsum.get_symbol(0), opt_einsum.get_symbol(1)
    cards = net.cards
    terms, shapes = [], []
    has_d = False
    for v in kept:
        idx = sym[v] + "".join(sym[p] for p in net.parents[v])
        shape = (cards[v], *(cards[p] for p in net.parents[v]))
        if net.is_batched(v):
            has_d = True
            idx, shape = d + idx, (net.batch_size, *shape)
        terms.append(idx)
        shapes.append(shape)
    for v in evars:
        terms.append(e + sym[v])
        shapes.append((n_sets, cards[v]))
    out = (d if has_d else "") + (e if evars else "") + "".join(sym[q] for q in qvars)
    eq = ",".join(terms) + "->" + out
    path, largest = _choose_path(eq, shapes)
    expr = opt_einsum.contract_expression(eq, *shapes, optimize=path)
    expr.bayes_cmo_largest_intermediate = largest
    plan = (kept, expr, has_d)
    _PLAN_CACHE[key] = plan
    if len(_PLAN_CACHE) > _PLAN_CACHE_SIZE:
        _PLAN_CACHE.popitem(last=False)
    return plan


def _joint(net: NetworkArrays, qvars: tuple[str, ...], ev: _Evidence) -> np.ndarray:
    """Unnormalised ``P(qvars, e)`` shaped ``(*batch, E, *cards of qvars)``."""
    evars = tuple(ev.likelihoods)
    n_sets = 1 if ev.n_sets is None else ev.n_sets
    kept, expr, has_d = _plan(net, qvars, evars, n_sets if evars else 0)
    largest = getattr(expr, "bayes_cmo_largest_intermediate", 0)
    if evars and n_sets > 1 and largest > _MAX_INTERMEDIATE:
        # Memory guard: contract the evidence sets in equal chunks and stack.
        n_chunks = min(n_sets, -(-largest // _MAX_INTERMEDIATE))
        step = -(-n_sets // n_chunks)
        parts = []
        for start in range(0, n_sets, step):
            stop = min(start + step, n_sets)
            sub = {v: m[start:stop] for v, m in ev.likelihoods.items()}
            parts.append(_joint(net, qvars, _Evidence(sub, stop - start, None, ())))
        return np.concatenate(parts, axis=0 if net.batch_size is None else 1)
    operands = [net.cpts[v] for v in kept] + [ev.likelihoods[v] for v in evars]
    res = expr(*operands) if operands else np.ones(())
    if not evars:  # no e axis in the contraction: add it
        res = np.expand_dims(res, 1 if has_d else 0)
    if net.batch_size is not None and not has_d:  # every batched CPT was pruned
        res = res[np.newaxis]
    batch = () if net.batch_size is None else (net.batch_size,)
    cards = net.cards
    return np.broadcast_to(res, (*batch, n_sets, *(cards[q] for q in qvars)))


def _check_query_vars(net: NetworkArrays, variables: Sequence[str]) -> tuple[str, ...]:
    if isinstance(variables, str):
        raise BayesCMOError("query variables must be a sequence of names; wrap a single name in a list")
    qvars = tuple(variables)
    for v in qvars:
        _check_variable(net, v, "in query")
    if len(set(qvars)) != len(qvars):
        raise BayesCMOError(f"duplicate query variables: {list(qvars)}")
    return qvars


def _raise_if_zero(net: NetworkArrays, z: np.ndarray, ev: _Evidence) -> None:
    """``z`` shaped (*batch, E)."""
    bad = ~(z > 0)
    if not bad.any():
        return
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    i = where[-1]
    draw = f" (draw {where[0]})" if len(where) == 2 else ""
    n_bad = int(bad.any(axis=0).sum()) if bad.ndim == 2 else int(bad.sum())
    more = f"; {n_bad - 1} other set(s) also impossible" if n_bad > 1 else ""
    raise ZeroProbabilityEvidence(
        f"evidence set {i} has probability zero under the model{draw}: "
        f"{ev.describe(i)}{more}"
    )


def query(
    net: NetworkArrays,
    variables: Sequence[str],
    evidence_sets: Sequence[Mapping[str, str]] | None = None,
    *,
    likelihoods: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """``P(variables | evidence)`` for every draw and evidence set.

    Returns a float64 array shaped ``(*batch, E, *cards of variables)``,
    normalised over the query axes; ``batch`` is ``(D,)`` for a batched
    network, else ``()``; ``E`` is 1 when no evidence is given.
    ``likelihoods`` gives soft/virtual evidence as ``(E, card)`` nonnegative
    arrays per variable; it may be combined with ``evidence_sets`` (same E).

    Raises :class:`ZeroProbabilityEvidence` if ``P(evidence) = 0`` for any
    set under any draw.
    """
    qvars = _check_query_vars(net, variables)
    ev = _prepare(net, evidence_sets, likelihoods)
    return _query(net, qvars, ev)


def _query(net: NetworkArrays, qvars: tuple[str, ...], ev: _Evidence) -> np.ndarray:
    joint = _joint(net, qvars, ev)
    axes = tuple(range(joint.ndim - len(qvars), joint.ndim))
    z = joint.sum(axis=axes)
    _raise_if_zero(net, z, ev)
    return joint / z.reshape(z.shape + (1,) * len(qvars))


def marginals(
    net: NetworkArrays,
    targets: Sequence[str],
    evidence_sets: Sequence[Mapping[str, str]] | None = None,
    *,
    likelihoods: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Posterior marginal of each target, ``{target: (*batch, E, card)}``.

    One contraction per target; a joint over all targets is never built.
    """
    qvars = _check_query_vars(net, targets)
    ev = _prepare(net, evidence_sets, likelihoods)
    return {q: _query(net, (q,), ev) for q in qvars}


def probability_of_evidence(
    net: NetworkArrays,
    evidence_sets: Sequence[Mapping[str, str]] | None = None,
    *,
    likelihoods: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Unnormalised ``P(e)`` (likelihood-weighted for soft evidence), shape ``(*batch, E)``."""
    ev = _prepare(net, evidence_sets, likelihoods)
    return np.array(_joint(net, (), ev))
