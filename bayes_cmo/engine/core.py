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

Many draws: :func:`draw_blocks` cuts a batched network into blocks of its
draws (64 MiB of tables each), so work over all of them needs one block's
intermediates at a time; a :func:`deferred` network makes its tables only
when read, or a block's alone as the block is reached.

This module is pure numpy + opt_einsum; the conversions to and from pgmpy
live in :mod:`bayes_cmo.network._pgmpy`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import opt_einsum
from opt_einsum import helpers as _oe_helpers, paths as _oe_paths

from bayes_cmo._errors import BayesCMOError, ZeroProbabilityEvidence, did_you_mean

try:  # numpy's own C einsum, what np.einsum(eq, *ops) calls after checking its keywords: a single
    # query runs a dozen small steps, where those checks were a fifth of the time
    from numpy._core.multiarray import c_einsum as _einsum
except ImportError:  # pragma: no cover - another numpy layout
    _einsum = np.einsum

__all__ = [
    "NetworkArrays",
    "ancestral_set",
    "deferred",
    "differentiate",
    "draw_blocks",
    "evidence_likelihoods",
    "intervene",
    "marginals",
    "probability_of_evidence",
    "query",
    "select_draws",
    "single_marginals",
    "with_cpts",
]

# CPT columns must sum to one within this tolerance.  Bundled BIF files are
# written with ~7 significant digits (alarm is off by 1e-7), so be lenient;
# the values are used as given, never renormalised, to match pgmpy exactly.
_SUM_TOL = 1e-6


def _frozen_array(values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.flags.writeable:
        # order="K" keeps the memory layout: a batched CPT held draws-last (a moveaxis view, as the
        # network stage builds them) stays so, and the contraction reads it without another copy
        arr = np.array(arr, order="K", copy=True)
        arr.setflags(write=False)
    return arr


def _checked_cpt(
    v: str, values: Any, states: Mapping[str, tuple], parents: Mapping[str, tuple], batch: tuple[int, str] | None
) -> tuple[np.ndarray, tuple[int, str] | None]:
    """``v``'s CPT as a frozen float64 array, checked; ``batch`` = (D, the variable it came from) seen so far."""
    arr = _frozen_array(values)
    core = (len(states[v]), *(len(states[p]) for p in parents[v]))
    if arr.shape == core:
        pass
    elif arr.ndim == len(core) + 1 and arr.shape[1:] == core:
        if batch is None:
            batch = (arr.shape[0], v)
        elif arr.shape[0] != batch[0]:
            raise BayesCMOError(
                f"batched CPTs disagree on the number of draws: '{batch[1]}' has "
                f"{batch[0]}, '{v}' has {arr.shape[0]}"
            )
    else:
        raise BayesCMOError(
            f"CPT of '{v}' has shape {arr.shape}; expected {core} "
            f"(card of '{v}', then parents {list(parents[v])}) or (D, *{core})"
        )
    axis = arr.ndim - len(core)
    sums = arr.sum(axis=axis)
    # reductions without temporaries for the common case (a NaN fails every comparison); the
    # checks below word a failure
    if arr.size and arr.min() >= 0 and sums.max() <= 1.0 + _SUM_TOL and sums.min() >= 1.0 - _SUM_TOL:
        return arr, batch
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise BayesCMOError(f"CPT of '{v}' has negative or non-finite entries")
    dev = np.abs(sums - 1.0)
    if dev.size and dev.max() > _SUM_TOL:
        raise BayesCMOError(
            f"CPT of '{v}' does not sum to 1 over the states of '{v}' "
            f"(off by up to {dev.max():.3g})"
        )
    return arr, batch


_DEFERRED = object()  # the tables of a deferred network before their first use


class _Tables:
    """The ``cpts`` field: the tables as given or, for a :func:`deferred` network, made on first use."""

    def __get__(self, net: "NetworkArrays | None", owner: type | None = None) -> Mapping[str, np.ndarray]:
        if net is None:
            raise AttributeError("cpts")  # the field has no default
        tables = net.__dict__["_tables"]
        return _make_all(net) if tables is _DEFERRED else tables

    def __set__(self, net: "NetworkArrays", tables: Mapping[str, np.ndarray]) -> None:
        net.__dict__["_tables"] = tables


@dataclass(frozen=True, eq=False, repr=False)
class NetworkArrays:
    """A discrete Bayesian network as numpy arrays.

    ``variables`` is in topological order (every parent precedes its child).
    ``cpts[v]`` has shape ``(card[v], *card[parents[v]])`` or, batched over
    parameter draws, ``(D, card[v], *card[parents[v]])``; it sums to one over
    the ``card[v]`` axis.  All batched CPTs must share the same ``D``.

    Instances are immutable: mappings are read-only views and arrays are
    read-only float64 copies. (A :func:`deferred` network makes its tables
    when they are first read.)
    """

    variables: tuple[str, ...]
    states: Mapping[str, tuple[str, ...]]
    parents: Mapping[str, tuple[str, ...]]
    cpts: Mapping[str, np.ndarray] = _Tables()

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
        batch: tuple[int, str] | None = None
        for v in variables:
            if v not in self.cpts:
                raise BayesCMOError(f"no CPT given for variable '{v}'")
            cpts[v], batch = _checked_cpt(v, self.cpts[v], states, parents, batch)

        object.__setattr__(self, "variables", variables)
        object.__setattr__(self, "states", MappingProxyType(states))
        object.__setattr__(self, "parents", MappingProxyType(parents))
        object.__setattr__(self, "cpts", MappingProxyType(cpts))
        object.__setattr__(self, "_batch_size", batch[0] if batch else None)
        object.__setattr__(self, "_batched", _batched(parents, cpts))
        object.__setattr__(self, "_cache", {})  # plans' constant parts etc., per instance

    @property
    def batch_size(self) -> int | None:
        """``D`` if any CPT carries a draw axis, else ``None``."""
        return self._batch_size  # type: ignore[attr-defined]

    @cached_property
    def cards(self) -> Mapping[str, int]:
        """Each variable's number of states (read-only; made once: a single query reads it)."""
        return MappingProxyType({v: len(self.states[v]) for v in self.variables})

    def is_batched(self, variable: str) -> bool:
        return variable in self._batched  # type: ignore[attr-defined]

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
# network transformations


def with_cpts(net: NetworkArrays, **replacements: Any) -> NetworkArrays:
    """A copy of ``net`` with some CPTs replaced (batched or not).

    Only the replaced tables are checked (the rest are ``net``'s, checked when
    it was made); the copy has the same structure and an engine cache of its own.
    """
    batch = None
    for v in net.variables:  # the draws of the tables that stay
        if v not in replacements and net.is_batched(v):
            batch = (net.batch_size, v)
            break
    cpts = dict(net.cpts)
    for v, values in replacements.items():
        if v not in net.cpts:
            raise BayesCMOError(f"unknown variable '{v}'{did_you_mean(v, net.variables)}")
        cpts[v], batch = _checked_cpt(v, values, net.states, net.parents, batch)
    return _same_structure(net, cpts, batch[0] if batch else None)


def _batched(parents: Mapping[str, tuple], cpts: Mapping[str, np.ndarray]) -> frozenset[str]:
    return frozenset(v for v, c in cpts.items() if c.ndim == len(parents[v]) + 2)


def _same_structure(net: NetworkArrays, cpts: Any, batch_size: int | None, batched: frozenset[str] | None = None) -> NetworkArrays:
    """``net``'s structure with these (already checked, read-only) tables and an engine cache of its own."""
    new = object.__new__(NetworkArrays)
    for name in ("variables", "states", "parents"):
        object.__setattr__(new, name, getattr(net, name))
    object.__setattr__(new, "cpts", cpts if cpts is _DEFERRED else MappingProxyType(cpts))
    object.__setattr__(new, "_batch_size", batch_size)
    object.__setattr__(new, "_batched", _batched(net.parents, cpts) if batched is None else batched)
    object.__setattr__(new, "_cache", {})
    return new


def deferred(
    variables: Sequence[str],
    states: Mapping[str, Sequence[str]],
    parents: Mapping[str, Sequence[str]],
    n_draws: int,
    tables: Callable[[slice], Mapping[str, Any]],
    *,
    check_sums: bool = True,
) -> NetworkArrays:
    """A network with ``n_draws`` parameter draws whose tables are made when they are needed.

    ``tables(draws)`` gives every CPT for a slice of the draws, shaped as for
    :class:`NetworkArrays` (every one with its draw axis). Reading ``cpts``
    makes (and keeps) all of them; :func:`draw_blocks` with ``keep=False``
    makes one block's at a time, so one-off work over many draws never holds
    them all. The first draw's tables are made and checked here.

    ``check_sums=False``: later draws' tables are checked for their shapes only,
    not for summing to one (a pass over every number, a tenth of a 1,000-draw
    sweep): for a maker whose tables sum to one by construction.
    """
    first = NetworkArrays(variables, states, parents, tables(slice(0, 1)))
    if first.batch_size != 1 or len(first._batched) != len(first.variables):  # type: ignore[attr-defined]
        raise BayesCMOError("deferred tables must each carry a draw axis")
    net = _same_structure(first, _DEFERRED, int(n_draws), first._batched)  # type: ignore[attr-defined]
    object.__setattr__(net, "_make", tables)
    object.__setattr__(net, "_check_sums", bool(check_sums))
    return net


def _make_all(net: NetworkArrays) -> Mapping[str, np.ndarray]:
    """A deferred network's tables, made once (two threads at once would both make them, the same numbers)."""
    made = _made(net, slice(0, net.batch_size))
    net.__dict__["_tables"] = made.cpts
    return made.cpts


def _made(net: NetworkArrays, draws: slice) -> NetworkArrays:
    """A deferred network's tables for some draws, checked, as a network of their own."""
    expected = len(range(net.batch_size)[draws])  # type: ignore[arg-type]
    tables = net._make(draws)  # type: ignore[attr-defined]
    if net._check_sums:  # type: ignore[attr-defined]
        made = NetworkArrays(net.variables, net.states, net.parents, tables)
    else:
        made = _same_structure(net, _shaped(net, tables, expected), expected, net._batched)  # type: ignore[attr-defined]
    if made.batch_size != expected or made._batched != net._batched:  # type: ignore[attr-defined]
        raise BayesCMOError(f"deferred tables for draws {draws.start}-{draws.stop}: got {made.batch_size} draws, expected {expected}")
    return made


def _shaped(net: NetworkArrays, tables: Mapping[str, Any], n_draws: int) -> dict[str, np.ndarray]:
    """``tables`` as frozen float64 arrays, each checked for the shape ``(n_draws, card, *parent cards)``."""
    if set(tables) != set(net.variables):
        odd = sorted(set(tables) ^ set(net.variables))[0]
        raise BayesCMOError(f"deferred tables: '{odd}' is {'not a variable' if odd in tables else 'missing'}")
    cards, out = net.cards, {}
    for v in net.variables:
        arr = out[v] = _frozen_array(tables[v])
        expected = (n_draws, cards[v], *(cards[p] for p in net.parents[v]))
        if arr.shape != expected:
            raise BayesCMOError(f"deferred table of '{v}' has shape {arr.shape}; expected {expected}")
    return out


def select_draws(net: NetworkArrays, draws: Any) -> NetworkArrays:
    """``net`` with only some parameter draws: an index array or a slice keeps the batch, an int gives that draw unbatched.

    A slice gives views of ``net``'s tables; nothing is checked again (every draw of them was).
    """
    if net.batch_size is None:
        return net
    cpts = {}
    for v, cpt in net.cpts.items():
        if net.is_batched(v):
            cpt = cpt[draws]
            cpt.setflags(write=False)
        cpts[v] = cpt
    batched = _batched(net.parents, cpts)  # none for an int
    return _same_structure(net, cpts, next((cpts[v].shape[0] for v in batched), None), batched)


#: Numbers of the tables a block of draws holds (2**23: 64 MiB). A query over all draws at once
#: needed fresh memory about twice the tables' size for its intermediates, block by block the
#: same memory serves again; and the first touch of a page costs more than the sums on it.
#: Smaller blocks shorten the contraction's inner loop (the draws) and cost more in the sums.
_BLOCK_ELEMENTS = 2**23


def draw_blocks(net: NetworkArrays, *, keep: bool = True, elements: int | None = None) -> Iterator[NetworkArrays]:
    """``net`` as consecutive blocks of its draws (views of its tables), each with about ``elements``
    numbers of tables (default ``_BLOCK_ELEMENTS``).

    Equal blocks but the last (they share one contraction plan); just ``net``
    for a network without draws or small enough. Results per draw, concatenated
    over the blocks along the draw axis, are ``net``'s. ``keep=True`` holds the
    blocks on ``net``, so what a query caches on them (the evidence-free part of
    its plan) serves the next query, as on ``net`` itself; ``keep=False`` makes
    each block as it is reached, so it and its caches go before the next
    (one-off work: a sweep's derivatives).
    """
    d, elements = net.batch_size, elements or _BLOCK_ELEMENTS
    if d is None:
        yield net
        return
    per_draw = net._cache.get("numbers_per_draw")
    if per_draw is None:  # once per network: every query over it asks
        cards = net.cards
        per_draw = net._cache["numbers_per_draw"] = sum(
            cards[v] * math.prod(cards[p] for p in net.parents[v]) for v in net.variables if net.is_batched(v)
        )
    n_blocks = max(1, min(d, -(-per_draw * d // elements)))
    if n_blocks == 1:
        yield net
        return
    size = -(-d // n_blocks)
    key = ("draw_blocks", size)
    kept = net._cache.get(key)
    if kept is not None:
        yield from kept
        return
    slices = [slice(start, min(start + size, d)) for start in range(0, d, size)]
    if not keep and net.__dict__["_tables"] is _DEFERRED:  # a block's tables alone, made as it is reached
        yield from (_made(net, s) for s in slices)
        return
    blocks = (select_draws(net, s) for s in slices)
    if keep:
        blocks = net._cache[key] = tuple(blocks)
    yield from blocks

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
#
# Every query, P(e) and derivative goes through one planner (_compile): the
# relevant CPTs (ancestors of the query, evidence and differentiated
# variables; barren nodes are pruned) and likelihood matrices are contracted
# pairwise along an opt_einsum path, each step one numpy einsum with
# precomputed subscripts. Internally the draw axis is the LAST axis of every
# term and the evidence-set axis comes just before it; numpy's einsum then
# loops over draws contiguously, several times faster than with draws first.
# Public results use the engine's usual layout, (*batch, E, ...).
#
# Derivatives (Darwiche's differential approach): Z(e) is multilinear in the
# CPT entries, so dZ/dtheta_v(x | u) = P(x, u, e) / theta_v(x | u), and
#   theta_v * dZ/dtheta_v / Z   = P(v, parents | e)       (family posterior)
#   sum_u dZ/dtheta_v(x | u)    = P(e | do(v = x))         (v unobserved)
# The forward pass keeps every pairwise intermediate; the backward pass walks
# the same steps in reverse. Adjoints carry the output indices (evidence sets,
# draws), so one backward pass gives the derivative of every Z[d, e].


_PLAN_CACHE: OrderedDict[tuple, _Plan] = OrderedDict()
_PLAN_CACHE_SIZE = 512


def ancestral_set(net: NetworkArrays, variables: Iterable[str]) -> list[str]:
    """``variables`` and all their ancestors, in network (topological) order.

    Nodes outside this set are barren for a query on ``variables``: summing
    them out gives 1, so the engine leaves them out of the contraction.
    """
    keep = {_check_variable(net, v, "in ancestral_set") for v in variables}
    stack = list(keep)
    while stack:
        for p in net.parents[stack.pop()]:
            if p not in keep:
                keep.add(p)
                stack.append(p)
    return [v for v in net.variables if v in keep]


# Contractions whose greedy path costs more than this many flops (roughly
# 10 ms and up) get a randomised-greedy search too, one trial per
# _FLOPS_PER_TRIAL of the greedy path's cost, at most _MAX_TRIALS: on alarm
# with 1,000 draws x 20 evidence sets the search makes the contraction 5x
# faster, while on the 1,000-draw sweep (2e7 flops) a long search per plan
# cost a command more than it saved. A count of trials, not a time budget:
# opt_einsum seeds trial r with r, so the same query takes the same path (and
# gives the same last digits) in every process, at any machine load.
# Small contractions (up to _OPTIMAL_TERMS operands) get opt_einsum's exact
# dynamic-programming path instead: it is found in milliseconds there.
_SEARCH_ABOVE_FLOPS = 1e7
_FLOPS_PER_TRIAL = 2.5e7
_MAX_TRIALS = 64
_OPTIMAL_TERMS = 8


# Evidence sets are contracted in chunks when the plan's largest intermediate
# (or adjoint) would exceed this many float64 elements (2**24 elements = 128 MiB).
_MAX_INTERMEDIATE = 2**24


def _default_table_limit() -> int:
    """float64 elements one intermediate may hold: a quarter of physical memory (1 GiB if unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4 // 8
    except (AttributeError, ValueError, OSError):
        return 2**27


#: A query whose plan needs a single table larger than this many numbers (even
#: for one evidence set) is refused in one line before any work (MemoryError
#: or swapping otherwise). Module-level so a caller may lower or raise it.
MAX_TABLE_ELEMENTS = _default_table_limit()


class PlanTooLarge(BayesCMOError):
    """The contraction plan of a query needs a table larger than :data:`MAX_TABLE_ELEMENTS`."""


def _flops(terms: list[str], out: str, size: Mapping[str, int], path: list) -> int:
    """opt_einsum's flop count of ``path`` (``contract_path``'s ``opt_cost``), without its report."""
    sets, output, cost = [frozenset(t) for t in terms], frozenset(out), 0
    for positions in path:
        positions = tuple(sorted(positions, reverse=True))
        _, sets, removed, contracted = _oe_helpers.find_contraction(positions, sets, output)
        cost += _oe_helpers.flop_count(contracted, bool(removed), len(positions), size)
    return cost


def _choose_path(
    terms: list[str], out: str, size: Mapping[str, int], search: bool = True, satellites: bool = False
) -> list:
    """The contraction path: opt_einsum's ``dp`` for a few tables, ``greedy`` (searched when costly) above.

    ``satellites``: also try the path that first multiplies the roots' priors
    hanging off one table into it (:func:`_absorb_satellites`), and keep the one
    with fewer flops. For derivatives only: their backward pass passes over a
    table once per step that touches it, times the evidence sets, so the
    sweep's contraction takes 0.79x the time; a forward-only batched query on
    munin1, whose flops it also lowered, ran 3x slower (its evidence sets
    chunked differently).

    The path functions are called directly: ``contract_path`` would also build a
    report (costs, BLAS checks, shapes of every step) that is most of its time
    on a small network and that the engine does not use.
    """
    if len(terms) <= 2:
        return [tuple(range(len(terms)))]
    # index labels as code points: opt_einsum breaks ties by iterating sets of labels, and a str's
    # hash changes with every process (PYTHONHASHSEED) while an int's does not; same query, same path
    terms, out = [[ord(c) for c in t] for t in terms], [ord(c) for c in out]
    size = {ord(c): n for c, n in size.items()}
    inputs, output = [frozenset(t) for t in terms], frozenset(out)
    if len(inputs) <= _OPTIMAL_TERMS:
        return _oe_paths.get_path_fn("dp")(inputs, output, dict(size), None)
    greedy = _oe_paths.get_path_fn("greedy")
    starts = [([], inputs)]  # path prefixes and the terms they leave
    if satellites:
        first, rest = _absorb_satellites(inputs, output)
        if first and len(rest) > 2:
            starts.append((first, rest))
    path, cost, start = None, None, None
    for prefix, left in starts:
        other = prefix + greedy(left, output, dict(size), None)
        other_cost = _flops(inputs, out, size, other) if search or len(starts) > 1 else 0
        if path is None or other_cost < cost:
            path, cost, start = other, other_cost, (prefix, left)
    if search and cost > _SEARCH_ABOVE_FLOPS:  # searched from the cheaper start
        trials = int(min(_MAX_TRIALS, max(4, float(cost) / _FLOPS_PER_TRIAL)))
        prefix, left = start
        other = prefix + opt_einsum.RandomGreedy(max_repeats=trials)(left, output, dict(size), None)
        if _flops(inputs, out, size, other) < cost:
            path = other
    return path


def _absorb_satellites(inputs: list[frozenset], output: frozenset) -> tuple[list, list[frozenset]]:
    """Path steps that multiply the tables hanging off one table into one, then into it; the terms left.

    A satellite's every index outside the output is shared with one other table
    only (a root's prior, and its single child's CPT). opt_einsum's greedy path
    sums them into that table one at a time, a pass over a table (and, in a
    derivative's backward pass, over it times the evidence sets) for each; their
    product is small, and one step then passes over the table once.
    """
    where: dict = {}  # index -> the terms that carry it
    for k, t in enumerate(inputs):
        for i in t:
            where.setdefault(i, []).append(k)
    hosts: dict[int, list[int]] = {}
    for k, t in enumerate(inputs):
        private = t - output
        if not private or any(len(where[i]) != 2 for i in private):
            continue
        host = {j for i in private for j in where[i] if j != k}
        if len(host) == 1 and t & output <= inputs[min(host)]:
            hosts.setdefault(min(host), []).append(k)
    path: list = []
    live = list(range(len(inputs)))
    sets = dict(enumerate(inputs))

    def contract(a: int, b: int, kept: frozenset) -> int:
        positions = (live.index(a), live.index(b))
        path.append(positions)
        for p in sorted(positions, reverse=True):
            live.pop(p)
        sets[len(sets)] = kept
        live.append(len(sets) - 1)
        return live[-1]

    for host, satellites in sorted(hosts.items()):
        if len(satellites) < 2:
            continue
        product = satellites[0]
        for k in satellites[1:]:  # all their indices are the host's: none summed yet
            product = contract(product, k, sets[product] | sets[k])
        contract(product, host, inputs[host] - (sets[product] - output))  # their own indices summed
    return path, [sets[j] for j in live]


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_SORTED = "".join(sorted(_LETTERS))


def _ascii(eq: str) -> str:
    """``eq`` with its own letters a-zA-Z: numpy's einsum takes 52 ASCII letters, a network may have thousands.

    Each pairwise step is relabelled on its own, so only the indices one step
    touches count against numpy's limit.
    """
    if eq.isascii():
        return eq
    # numpy sums over labels in code-point order: keep that order, so results do not depend on the relabelling
    chars = sorted(set(eq) - set(",->"))
    if len(chars) > len(_LETTERS):
        raise PlanTooLarge(
            f"one contraction step joins {len(chars)} variables; numpy's einsum takes at most {len(_LETTERS)}"
        )
    return eq.translate(str.maketrans(dict(zip(chars, _ASCII_SORTED))))


_STRUCTURE_IDS: dict[tuple, int] = {}

# the most factors an adjoint may be left as (numpy's einsum multiplies them in one loop)
_MAX_FACTORS = 2
# ... and only an adjoint at least this large (float64 elements): below, writing it out is cheaper
_FACTORS_ABOVE = 2**21


def _structure_id(net: NetworkArrays) -> int:
    """A small int per distinct structure, so plan keys hash fast on big networks."""
    sid = net._cache.get("structure_id")
    if sid is None:
        sid = _STRUCTURE_IDS.setdefault(net._structure, len(_STRUCTURE_IDS))
        net._cache["structure_id"] = sid
    return sid


@dataclass(frozen=True, eq=False)
class _Plan:
    """A compiled contraction: leaves are ``kept`` CPTs, then ``evars`` likelihoods.

    Identity-hashed: it keys per-network caches of its constant part.
    """

    kept: tuple[str, ...]
    evars: tuple[str, ...]
    has_d: bool  # some kept CPT carries the draw axis
    forward: tuple[tuple[tuple[int, ...], int, str], ...]  # (input ids, output id, einsum subscripts)
    final: int
    final_eq: str | None  # a lone leaf with indices left to sum
    # reverse steps: (output id, ((input id, subscripts, other input ids, reshape or None, shape), ...));
    # subscripts None: the input's adjoint is left as the factors (the output's, then the others'),
    # and reshape is then None or (positions, subscripts) of the factors to multiply into one first
    backward: tuple[tuple[int, tuple[tuple[int, str, tuple[int, ...], tuple | None, tuple], ...]], ...]
    wanted: tuple[int, ...]  # leaf ids of the differentiated CPTs, in ``wrt`` order
    largest: int  # elements of the largest intermediate (or adjoint)
    largest_one: int  # the same for a single evidence set (what chunking cannot reduce)
    # the forward steps that do not involve any likelihood: fixed for a network, computed once
    n_constant: int = 0


def _compile(
    net: NetworkArrays,
    qvars: tuple[str, ...],
    evars: tuple[str, ...],
    wrt: tuple[str, ...],
    n_sets: int,
    search: bool = True,
) -> _Plan:
    """Plan for ``P(qvars, e)`` (and, with ``wrt`` and no ``qvars``, dZ/dCPT), cached by structure.

    ``search=False``: opt_einsum's greedy path, never the timed random search (a
    single query's plan runs its costly constant part once, so a search of up to
    0.3 s would not pay back; it would be most of a new pattern's first answer).
    """
    key = (_structure_id(net), qvars, evars, wrt, net.batch_size, n_sets, search)
    hit = _PLAN_CACHE.get(key)
    if hit is not None:
        _PLAN_CACHE.move_to_end(key)
        return hit
    assert not (qvars and wrt), "derivatives are of P(e), without query variables"
    kept = tuple(ancestral_set(net, (*qvars, *evars, *wrt)))
    d, e = opt_einsum.get_symbol(0), opt_einsum.get_symbol(1)
    sym = {v: opt_einsum.get_symbol(i + 2) for i, v in enumerate(kept)}
    cards = net.cards
    size = {sym[v]: cards[v] for v in kept}
    has_d = any(net.is_batched(v) for v in kept)
    if has_d:
        size[d] = net.batch_size
    if evars:
        size[e] = n_sets
    out = "".join(sym[q] for q in qvars) + (e if evars else "") + (d if has_d else "")
    terms = [
        sym[v] + "".join(sym[p] for p in net.parents[v]) + (d if net.is_batched(v) else "")
        for v in kept
    ]
    terms += [sym[v] + e for v in evars]
    n_leaves = len(terms)

    def last_out(chars: str) -> str:  # output indices last, in the order of `out`
        return "".join(c for c in chars if c not in out) + "".join(c for c in out if c in chars)

    def adjoint(term: str) -> str:  # a term's derivative carries every output index
        return "".join(c for c in term if c not in out) + out

    def n_elements(term: str, one: bool = False) -> int:
        n = math.prod(map(size.__getitem__, term))
        return n // n_sets if one and evars and e in term else n  # one evidence set: the e axis at 1

    path: list = []
    if n_leaves > 1:
        path = _choose_path(terms, out, size, search, satellites=bool(wrt))
    index = dict(enumerate(terms))
    varying = {i: i >= len(kept) for i in range(n_leaves)}  # depends on the likelihoods
    live = list(range(n_leaves))
    steps: list[tuple[tuple[int, ...], int]] = []
    for positions in path:
        ids = tuple(live[p] for p in positions)
        for p in sorted(positions, reverse=True):
            live.pop(p)
        needed = set(out).union(*(index[i] for i in live))
        union = "".join(dict.fromkeys("".join(index[i] for i in ids)))
        new = len(index)
        index[new] = last_out("".join(c for c in union if c in needed))
        varying[new] = any(varying[i] for i in ids)
        steps.append((ids, new))
        live.append(new)
    # constant steps first (their order among themselves kept): run once per network
    steps = [s for s in steps if not varying[s[1]]] + [s for s in steps if varying[s[1]]]
    n_constant = sum(not varying[new] for _, new in steps)
    final = live[0] if live else -1
    final_eq = None if not live or index[final] == out else _ascii(f"{index[final]}->{out}")
    largest = max((n_elements(t) for t in index.values()), default=1)
    largest_one = max((n_elements(t, True) for t in index.values()), default=1)

    wanted = tuple(kept.index(v) for v in wrt)
    below = {i: i in wanted for i in range(n_leaves)}  # a wanted CPT at or below this node
    for ids, new in steps:
        below[new] = any(below[i] for i in ids)
    backward = []
    by_output = {new: ids for ids, new in steps}
    # a node's adjoint as factors to multiply: an adjoint that only multiplies its factors
    # together (no index summed) is left as those factors, and the step that consumes it
    # contracts them directly, so the largest tables' adjoints are never written out
    factors = {final: (adjoint(index[final]),)} if final in index else {}
    for new in sorted(by_output, reverse=True):  # outputs before their inputs
        ids = by_output[new]
        if not below[new]:
            continue
        ops = []
        for i in ids:
            if not below[i]:
                continue
            others = tuple(j for j in ids if j != i)
            terms_i = (*factors[new], *(index[j] for j in others))
            target = adjoint(index[i])
            have = set("".join(terms_i))
            if i >= n_leaves and have <= set(target) and n_elements(target) >= _FACTORS_ABOVE:
                lazy = _as_factors(terms_i, n_elements, n_elements(target))
                if lazy is not None:
                    factors[i], combine = lazy
                    ops.append((i, None, others, combine, ()))
                    continue
            factors[i] = (target,)
            present = "".join(c for c in target if c in have)
            reshape = None
            if present != target:  # indices summed within this operand alone: broadcast back
                reshape = tuple(size[c] if c in have else 1 for c in target)
            eq = ",".join(terms_i) + "->" + present
            ops.append((i, _ascii(eq), others, reshape, tuple(size[c] for c in target)))
            largest = max(largest, n_elements(target))
            largest_one = max(largest_one, n_elements(target, True))
        backward.append((new, tuple(ops)))
    plan = _Plan(
        kept=kept,
        evars=evars,
        has_d=has_d,
        forward=tuple(
            (ids, new, _ascii(",".join(index[i] for i in ids) + "->" + index[new])) for ids, new in steps
        ),
        final=final,
        final_eq=final_eq,
        backward=tuple(backward),
        wanted=wanted,
        largest=largest,
        largest_one=largest_one,
        n_constant=n_constant,
    )
    _PLAN_CACHE[key] = plan
    if len(_PLAN_CACHE) > _PLAN_CACHE_SIZE:
        _PLAN_CACHE.popitem(last=False)
    return plan


def _as_factors(terms: tuple[str, ...], n_elements, target_elements: int):
    """An adjoint left as factors: (their subscripts, None) when few enough, else the small ones
    multiplied into one first ((their subscripts, (positions, einsum subscripts))); None when
    that product would itself be large."""
    if len(terms) <= _MAX_FACTORS:
        return terms, None
    big = max(range(len(terms)), key=lambda k: n_elements(terms[k]))
    rest = tuple(k for k in range(len(terms)) if k != big)
    union = "".join(dict.fromkeys("".join(terms[k] for k in rest)))
    if n_elements(union) * 8 > target_elements:
        return None
    eq = _ascii(",".join(terms[k] for k in rest) + "->" + union)
    return (terms[big], union), (rest, eq)


def _plan(net: NetworkArrays, qvars: tuple[str, ...], evars: tuple[str, ...], n_sets: int, search: bool = True) -> _Plan:
    """The plan of a query ``P(qvars, e)``."""
    return _compile(net, qvars, evars, (), n_sets, search)


def _check_size(
    net: NetworkArrays, plan: _Plan, qvars: Sequence[str], evars: Sequence[str], wrt: Sequence[str] = ()
) -> None:
    """Refuse in one line, before any work, a plan whose tables cannot fit however the sets are chunked."""
    if plan.largest_one > MAX_TABLE_ELEMENTS:
        what = _describe_query(qvars, evars, wrt)
        gib = plan.largest_one * 8 / 2**30
        raise PlanTooLarge(
            f"{what} on this {len(net.variables)}-variable network would need a table of "
            f"{plan.largest_one:.3g} numbers ({gib:,.1f} GiB), over the engine's limit of "
            f"{MAX_TABLE_ELEMENTS:.3g}; give fewer findings far apart in the network, or query a smaller part"
        )


def _describe_query(qvars: Sequence[str], evars: Sequence[str], wrt: Sequence[str] = ()) -> str:
    def names(vs: Sequence[str]) -> str:
        return ", ".join(vs) if len(vs) <= 4 else ", ".join(vs[:4]) + f", ... ({len(vs)} in all)"

    head = f"P({names(qvars)}" if qvars else "P(evidence"
    given = f" | {names(evars)})" if evars else ")"
    return f"the query {head}{given}" + (f" differentiated by {len(wrt)} CPTs" if wrt else "")


# Constant parts of plans kept per network: at most this many plans, and float64 elements up to
# the larger of a floor and the size of the network's own tables (with draws, a plan's constant
# part is about as large as the tables it folds; recomputing it is most of a new pattern's time).
_CONSTANT_CACHE_ELEMENTS = 2**20
_CONSTANT_CACHE_TABLES = 1
_CONSTANT_CACHE_PLANS = 64


def _constant_budget(net: NetworkArrays) -> int:
    budget = net._cache.get("constant_budget")
    if budget is None:
        cells = sum(a.size for a in net.cpts.values())
        budget = net._cache["constant_budget"] = max(_CONSTANT_CACHE_ELEMENTS, _CONSTANT_CACHE_TABLES * cells)
    return budget


def _leaves(net: NetworkArrays, plan: _Plan) -> dict[int, np.ndarray]:
    """The CPT leaves in the internal layout (draws last) and every constant intermediate, cached per network."""
    cache = net._cache.setdefault("constants", OrderedDict())
    hit = cache.get(plan)
    if hit is not None:
        cache.move_to_end(plan)
        return hit[0]
    values: dict[int, np.ndarray] = {}
    for i, v in enumerate(plan.kept):
        cpt = net.cpts[v]
        if net.is_batched(v):
            # no copy for CPTs held draws-last (the network stage builds them so), nor for a block of
            # their draws (contiguous along the draws, which is what the contraction's inner loop runs over)
            cpt = np.moveaxis(cpt, 0, -1)
            values[i] = cpt if cpt.strides[-1] == cpt.itemsize else np.ascontiguousarray(cpt)
        else:
            values[i] = cpt
    for ids, new, eq in plan.forward[: plan.n_constant]:
        values[new] = _einsum(eq, *(values[i] for i in ids))
    if not plan.backward:  # no derivatives: keep only what the varying steps read (most intermediates are not)
        read = {i for ids, _, _ in plan.forward[plan.n_constant :] for i in ids} | {plan.final}
        values = {i: a for i, a in values.items() if i in read}
    # only what the network does not hold already counts against the budget
    own = sum(a.size for i, a in values.items() if i >= len(plan.kept) or not np.may_share_memory(a, net.cpts[plan.kept[i]]))
    budget = _constant_budget(net)
    if own <= budget:
        cache[plan] = (values, own)
        held = net._cache["constants_held"] = net._cache.get("constants_held", 0) + own
        while len(cache) > 1 and (len(cache) > _CONSTANT_CACHE_PLANS or held > budget):
            _, (_, size) = cache.popitem(last=False)
            held = net._cache["constants_held"] = held - size
    return values


def _forward(net: NetworkArrays, plan: _Plan, likelihoods: Mapping[str, np.ndarray]) -> dict[int, np.ndarray]:
    """Leaves in the internal layout (draws last, likelihoods ``(card, E)``) and every intermediate."""
    values = dict(_leaves(net, plan))
    n_cpts = len(plan.kept)
    for j, v in enumerate(plan.evars):
        values[n_cpts + j] = np.ascontiguousarray(likelihoods[v].T)
    for ids, new, eq in plan.forward[plan.n_constant :]:
        values[new] = _einsum(eq, *(values[i] for i in ids))
    return values


def _result(net: NetworkArrays, plan: _Plan, values: dict[int, np.ndarray]) -> np.ndarray:
    res = values[plan.final]
    return res if plan.final_eq is None else _einsum(plan.final_eq, res)


def _public(net: NetworkArrays, plan: _Plan, arr: np.ndarray, n_sets: int, core: int) -> np.ndarray:
    """Internal ``(*core, [E], [D])`` to the public ``(*batch, E, *core)`` (a view where possible)."""
    if plan.has_d:
        arr = np.moveaxis(arr, -1, 0)
    if plan.evars:
        arr = np.moveaxis(arr, -1, 1 if plan.has_d else 0)
    else:  # no e axis in the contraction: add it
        arr = np.expand_dims(arr, 1 if plan.has_d else 0)
    if net.batch_size is not None and not plan.has_d:  # every batched CPT was pruned
        arr = arr[np.newaxis]
    batch = () if net.batch_size is None else (net.batch_size,)
    return np.broadcast_to(arr, (*batch, n_sets, *arr.shape[arr.ndim - core :]))


def _chunks(likelihoods: Mapping[str, np.ndarray], n_sets: int, largest: int):
    """Memory guard: equal chunks of the evidence sets, as (likelihoods, size), or None if not needed."""
    if not likelihoods or n_sets <= 1 or largest <= _MAX_INTERMEDIATE:
        return None
    n_chunks = min(n_sets, -(-largest // _MAX_INTERMEDIATE))
    step = -(-n_sets // n_chunks)
    return [
        ({v: m[start : start + step] for v, m in likelihoods.items()}, min(step, n_sets - start))
        for start in range(0, n_sets, step)
    ]


def _joint(net: NetworkArrays, qvars: tuple[str, ...], ev: _Evidence) -> np.ndarray:
    """Unnormalised ``P(qvars, e)`` shaped ``(*batch, E, *cards of qvars)``."""
    evars = tuple(ev.likelihoods)
    n_sets = 1 if ev.n_sets is None else ev.n_sets
    if not evars and len(qvars) == 1 and not net.parents[qvars[0]]:  # a root's own table, as the plan gives it
        cpt = net.cpts[qvars[0]]
        batch = () if net.batch_size is None else (net.batch_size,)  # a shared table still answers per draw
        return np.broadcast_to(cpt[..., np.newaxis, :], (*batch, n_sets, cpt.shape[-1]))
    plan = _plan(net, qvars, evars, n_sets if evars else 0)
    _check_size(net, plan, qvars, evars)
    chunks = _chunks(ev.likelihoods, n_sets, plan.largest)
    if chunks is not None:
        parts = [_joint(net, qvars, _Evidence(sub, n, None, ())) for sub, n in chunks]
        return np.concatenate(parts, axis=0 if net.batch_size is None else 1)
    if not plan.kept:  # nothing to contract: P(no evidence) = 1
        batch = () if net.batch_size is None else (net.batch_size,)
        return np.ones((*batch, n_sets))
    res = _result(net, plan, _forward(net, plan, ev.likelihoods))
    return _public(net, plan, res, n_sets, len(qvars))


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
    culprit = ""
    if ev.sets is not None and not ev.soft_vars:
        culprit = _smallest_conflict(net, ev.sets[i], where[0] if draw else None)
    raise ZeroProbabilityEvidence(
        f"evidence set {i} has probability zero under the model{draw}: "
        f"{ev.describe(i)}{culprit}{more}"
    )


def smallest_conflict(net: NetworkArrays, findings: Mapping[str, Any]) -> dict[str, Any] | None:
    """The smallest subset of ``findings`` (up to 3) that is impossible under ``net``, or None.

    For a network with draws, in the first draw where the findings are impossible.
    """
    z = probability_of_evidence(net, [findings])
    bad = np.argwhere(~(z > 0))
    if not len(bad):
        return None
    return _conflicting_subset(net, findings, int(bad[0][0]) if net.batch_size is not None else None, whole=True)


def _conflicting_subset(
    net: NetworkArrays, findings: Mapping[str, Any], draw: int | None, whole: bool = False
) -> dict[str, Any] | None:
    """The smallest impossible proper subset (up to 3 findings; with ``whole``, the full set counts too)."""
    from itertools import combinations

    items = sorted(findings.items())
    if draw is not None:
        net = select_draws(net, draw)
    for size in (1, 2, 3):
        subsets = [dict(c) for c in combinations(items, size)]
        if not subsets or len(subsets) > 2000 or (size >= len(items) and not (whole and size == len(items))):
            break
        z = probability_of_evidence(net, subsets)
        for subset, p in zip(subsets, z, strict=True):
            if not p > 0:
                return subset
    return None


def _smallest_conflict(net: NetworkArrays, findings: Mapping[str, Any], draw: int | None) -> str:
    """'; a=x, b=y cannot occur together under the model' naming the smallest impossible subset, else ''."""
    subset = _conflicting_subset(net, findings, draw)
    if subset is None:
        return ""
    named = ", ".join(f"{k}={v}" for k, v in subset.items())
    what = "is impossible on its own" if len(subset) == 1 else "cannot occur together"
    return f"; {named} {what} under the model"


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


def _positions(net: NetworkArrays) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """(variable -> network position, variable -> {state: index}), once per network."""
    hit = net._cache.get("positions")
    if hit is None:
        hit = (
            {v: i for i, v in enumerate(net.variables)},
            {v: {s: k for k, s in enumerate(net.states[v])} for v in net.variables},
        )
        net._cache["positions"] = hit
    return hit


def _findings_index(net: NetworkArrays, findings: Mapping[str, Any], where: str) -> dict[str, int]:
    _, states = _positions(net)
    out = {}
    for v, state in findings.items():
        index = states.get(v) if isinstance(v, str) else None
        if index is None:
            _check_variable(net, v, where)
        k = index.get(state if isinstance(state, str) else str(state))
        if k is None:
            k = _state_index(net, v, state, where)
        out[v] = k
    return out


def _mutilated(net: NetworkArrays, do_vars: frozenset[str]) -> NetworkArrays:
    """``net`` with the ``do_vars`` cut from their parents and given a uniform prior, cached per network.

    ``P(Q | do(X=x), e)`` is ``P'(Q | X=x, e)`` in this network: X is a root
    whose prior cancels in the normalisation, so the do() values enter as
    findings and every do() state of the same variables reuses one plan.
    """
    cache = net._cache.setdefault("mutilated", {})
    hit = cache.get(do_vars)
    if hit is None:
        parents = dict(net.parents)
        cpts = dict(net.cpts)
        for v in do_vars:
            parents[v] = ()
            cpts[v] = np.full(len(net.states[v]), 1.0 / len(net.states[v]))
        hit = cache[do_vars] = dataclasses.replace(net, parents=parents, cpts=cpts)
    return hit


def single_marginals(
    net: NetworkArrays,
    targets: Sequence[str],
    findings: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """``P(target | findings, do(...))`` for one set of findings: ``{target: (*batch, card)}``.

    The fast path for many single queries on one network: what depends only on
    the network and the *pattern* of the query (which variables are targets,
    observed, intervened on) -- the pruned network, the contraction plan and
    every step of it that no finding touches -- is computed once and cached on
    the network; a query then runs only the steps its findings reach. Same
    answers and errors as ``marginals(intervene(net, do), targets, [findings])[t][..., 0, :]``.
    """
    qvars = _check_query_vars(net, targets)
    findings = findings or {}
    index = _findings_index(net, findings, "in findings")
    work = net
    if do:
        both = [v for v in do if v in index]
        if both:
            raise BayesCMOError(f"'{both[0]}' is both observed and intervened on; choose one")
        index.update(_findings_index(net, do, "in do()"))
        work = _mutilated(net, frozenset(do))
    order, _ = _positions(work)
    evars = tuple(sorted(index, key=order.__getitem__))
    likes = []
    for v in evars:
        m = np.zeros((len(work.states[v]), 1))
        m[index[v], 0] = 1.0
        likes.append(m)
    out = {}
    for q in qvars:
        plan = _plan(work, (q,), evars, 1 if evars else 0, search=False)
        _check_size(work, plan, (q,), evars)
        values = dict(_leaves(work, plan))
        n_cpts = len(plan.kept)
        for j, m in enumerate(likes):
            values[n_cpts + j] = m
        for ids, new, eq in plan.forward[plan.n_constant :]:
            values[new] = _einsum(eq, *(values[i] for i in ids))
        res = values[plan.final]
        if plan.final_eq is not None:
            res = _einsum(plan.final_eq, res)
        k = res.shape[0]
        res = res.reshape(k, -1)  # (card, D or 1): the e axis has one set
        z = res.sum(axis=0)
        if not (z > 0).all():
            surgery = intervene(net, do) if do else net
            query(surgery, [q], [findings])  # raises the engine's usual message
            raise AssertionError("unreachable: P(findings) = 0 but query did not raise")  # pragma: no cover
        p = res / z
        if plan.has_d:
            p = p.T
        else:
            p = p[:, 0]
            if net.batch_size is not None:  # every batched CPT was pruned
                p = np.broadcast_to(p, (net.batch_size, k))
        out[q] = p
    return out


def probability_of_evidence(
    net: NetworkArrays,
    evidence_sets: Sequence[Mapping[str, str]] | None = None,
    *,
    likelihoods: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Unnormalised ``P(e)`` (likelihood-weighted for soft evidence), shape ``(*batch, E)``."""
    ev = _prepare(net, evidence_sets, likelihoods)
    return np.array(_joint(net, (), ev))


# ---------------------------------------------------------------------------
# differentiation


def differentiate(
    net: NetworkArrays,
    evidence_sets: Sequence[Mapping[str, str]] | None = None,
    *,
    likelihoods: Mapping[str, np.ndarray] | None = None,
    wrt: Sequence[str] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``Z = P(e)`` and its derivative with respect to CPTs, for every draw and evidence set.

    Evidence is given as for :func:`query` (hard ``evidence_sets`` and/or soft
    ``likelihoods``, each ``(E, card)``; ``E = 1`` when none is given).
    ``wrt`` names the CPTs to differentiate; by default every node the
    evidence depends on (the evidence variables and their ancestors). Naming
    other nodes is fine: they are then kept in the contraction.

    Returns ``(z, grads)``:

    * ``z``: unnormalised ``P(e)``, shaped ``(*batch, E)``, as
      :func:`probability_of_evidence`;
    * ``grads[v]``: ``dZ[..., i] / dcpt_v`` for each set ``i``, shaped
      ``(*batch, E, card[v], *card[parents[v]])`` -- the CPT's own layout
      with the engine's usual ``(*batch, E)`` in front. ``batch`` is ``(D,)``
      for a batched network, else ``()``. For a batched CPT the derivative is
      with respect to the draw's own CPT; for an unbatched (shared) CPT it is
      still per draw (each draw's Z depends on the shared CPT).

    Useful identities, with ``cpt`` broadcast to the gradient's shape (an
    ``E`` axis inserted before its own axes) and ``z`` to match::

        cpt * grads[v] / z           == P(v, parents(v) | e_i)   (family posterior)
        grads[v] summed over parents == P(e_i | do(v = x))        (v unobserved)

    The arrays may be read-only views. ``Z = 0`` is not an error here (the
    derivatives are still defined); callers decide. One forward contraction
    keeps the pairwise intermediates along an opt_einsum path, one backward
    pass goes through the same steps; the plan is cached by structure like
    :func:`query`'s. Evidence sets are processed in chunks when the largest
    intermediate would exceed the engine's memory guard.
    """
    ev = _prepare(net, evidence_sets, likelihoods)
    if wrt is None:
        targets = tuple(ancestral_set(net, ev.likelihoods))
    else:
        if isinstance(wrt, str):
            raise BayesCMOError("wrt must be a sequence of variable names; wrap a single name in a list")
        targets = tuple(_check_variable(net, v, "in wrt") for v in wrt)
        if len(set(targets)) != len(targets):
            raise BayesCMOError(f"duplicate variables in wrt: {list(targets)}")
    return _differentiate(net, ev.likelihoods, 1 if ev.n_sets is None else ev.n_sets, targets)


def _differentiate(
    net: NetworkArrays, likelihoods: Mapping[str, np.ndarray], n_sets: int, wrt: tuple[str, ...]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    evars = tuple(likelihoods)
    plan = _compile(net, (), evars, wrt, n_sets if evars else 0)
    _check_size(net, plan, (), evars, wrt)
    chunks = _chunks(likelihoods, n_sets, plan.largest)
    if chunks is not None:
        parts = [_differentiate(net, sub, n, wrt) for sub, n in chunks]
        axis = 0 if net.batch_size is None else 1
        z = np.concatenate([p[0] for p in parts], axis=axis)
        return z, {v: np.concatenate([p[1][v] for p in parts], axis=axis) for v in wrt}
    if not plan.kept:  # no evidence, nothing to differentiate: P(no evidence) = 1
        batch = () if net.batch_size is None else (net.batch_size,)
        return np.ones((*batch, n_sets)), {}
    values = _forward(net, plan, likelihoods)
    z = _result(net, plan, values)
    # the final node carries every output index (a lone leaf: also indices to sum)
    # each node's adjoint as the factors whose product it is (one array, unless the plan leaves it unmultiplied)
    grads: dict[int, tuple[np.ndarray, ...]] = {plan.final: (np.ones(values[plan.final].shape),)}
    for new, ops in plan.backward:
        g = grads.pop(new)
        for i, eq, others, reshape, shape in ops:
            operands = (*g, *(values[j] for j in others))
            if eq is None:  # left as factors, the small ones multiplied together first if asked
                if reshape is not None:
                    rest, combine = reshape
                    small = _einsum(combine, *(operands[k] for k in rest))
                    operands = (*(o for k, o in enumerate(operands) if k not in rest), small)
                grads[i] = operands
                continue
            res = _einsum(eq, *operands)
            grads[i] = (res if reshape is None else np.broadcast_to(res.reshape(reshape), shape),)
    out = {
        v: _public(net, plan, grads[i][0], n_sets, 1 + len(net.parents[v]))
        for v, i in zip(wrt, plan.wanted, strict=True)
    }
    return _public(net, plan, z, n_sets, 0), out
