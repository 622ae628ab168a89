"""How much does evidence about a context shift the outcomes?

Three views of the project's headline question, all pure computation returning
tidy DataFrames:

* :func:`shift` -- one context: for each of its states, P(target | context =
  state) against the baseline P(target), observed (conditioning) and
  intervened (do);
* :func:`sweep` -- the same for every context (optionally every mechanism),
  ranked by impact;
* :func:`compare_scenarios` -- named scenarios from ``scenarios.yaml`` side by
  side, each against the baseline.

Columns of :func:`shift` and :func:`sweep`: ``context``, ``state``, ``target``,
``target_state``, ``mode`` (observe / do), ``p_baseline``, ``p``, ``delta``
(p - p_baseline), ``ratio`` (p / p_baseline), ``delta_logodds`` (logit p -
logit p_baseline). For a model with parameter draws (``model.with_draws(n,
seed)``) every number is computed per draw and then summarised: the columns
hold the mean over draws, ``ci_low`` / ``ci_high`` the central credible
interval of ``p`` and ``delta_ci_low`` / ``delta_ci_high`` that of ``delta``.
The last column, ``estimate``, says which number a row shows: ``point values``
or ``mean of N draws`` (they differ: probabilities are not linear in the judgements).

Speed: every context is done at once. For the targets with as many states,
one call to :func:`bayes_cmo.engine.differentiate` with one evidence set per
target state but the first (each set fixes one target's state; the other
targets get all-ones likelihoods, so all sets share one plan) gives Z_i =
P(set i, background) for every draw and its derivative with respect to every
context's CPT (Darwiche's differential approach), from which P(target = t,
context = c, background) (observe) and P(target = t, background | do(context =
c)) follow for every c. The first state's numbers are the background's minus
the others' (with no findings, the background's are the contexts' marginals);
draws where that difference is too small to keep its digits are computed again
directly. The draws go through in blocks (:func:`bayes_cmo.engine.draw_blocks`,
each dropped before the next): the intermediates of all draws at once needed
fresh memory about the tables' size again. On the shipped priors (30
contexts, two binary targets, 1,000 draws: 262 MB of tables, four blocks)
that is two evidence sets instead of four, about 0.45 s of CPU, bound by
memory traffic (README, Benchmarks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import _validate as check
from .._errors import BayesCMOError, ZeroProbabilityEvidence
from .._lazy import pandas as pd
from ..engine import core as _engine
from .whatif import estimate_label
from ..network.model import Model
from ..theory import Scenario
from .background import Background, check_model, check_targets, free_targets, impossible, resolve_scenario
from .summary import DEFAULT_LEVEL, interval

__all__ = ["MODES", "compare_scenarios", "shift", "sweep"]

#: Ways to bring a context about: condition on it, or set it by intervention.
MODES = ("observe", "do")

SHIFT_COLUMNS = [
    "context",
    "state",
    "target",
    "target_state",
    "mode",
    "p_baseline",
    "p",
    "delta",
    "ratio",
    "delta_logodds",
]
DRAW_COLUMNS = ["ci_low", "ci_high", "delta_ci_low", "delta_ci_high"]
SCENARIO_COLUMNS = [
    "scenario",
    "label",
    "findings",
    "target",
    "target_state",
    "p_baseline",
    "p",
    "delta",
    "ratio",
    "delta_logodds",
]


def _check_context(model: Model, context: Any, targets: Sequence[str], background: Background) -> str:
    check.node(model.network.states, context, "context")
    if context in targets:
        raise BayesCMOError(f"'{context}' is both the context and a target; choose another target")
    return background.free(context, "context")


# ---------------------------------------------------------------------------
# the batched core


def _conditional(joint: np.ndarray, context: str, states: Sequence[str], background: str, mode: str) -> np.ndarray:
    """P(T | C = c) from a joint shaped (*batch, KT, KC); zero-probability states are an error."""
    pc = joint.sum(axis=-2, keepdims=True)
    if not np.all(pc > 0):
        bad = np.argwhere(~(pc > 0))[0]
        state = states[int(bad[-1])]
        if mode == "do":  # the intervention itself always happens; the background becomes impossible
            raise ZeroProbabilityEvidence(
                f"the background ({background}) has probability zero under do({context}={state}); "
                "its shift is undefined"
            )
        raise ZeroProbabilityEvidence(
            f"{context}={state} has probability zero together with the background ({background}); "
            "its shift is undefined"
        )
    return joint / pc


# A left-out target state's joint is the background's minus the other states': below this share
# of the background's it could lose digits to the subtraction (relative error up to ~1e-13 at
# the floor), and those draws are done directly.
_COMPLEMENT_FLOOR = 1e-3


def _set_joints(
    net: _engine.NetworkArrays,
    contexts: Sequence[str],
    sets: Sequence[Mapping[str, int]],
    background: Background,
    targets: Sequence[str],
    modes: Sequence[str],
) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """Z_i = P(set i, background) (*batch, E) and, per (mode, context), (*batch, E, KC) joints.

    Each set fixes some targets' states ({target: state index}; the others get
    all-ones likelihoods, which change nothing but let every set share one
    plan). From Z_i's gradient with respect to a context's CPT theta_C(c | u):
    P(set i, C = c, background) = sum_u theta_C(c | u) dZ_i/dtheta_C(c | u)
    (observe) and P(set i, background | do(C = c)) = sum_u dZ_i/dtheta_C(c | u) (do).
    """
    likelihoods = {}
    for u in targets:
        m = np.ones((len(sets), len(net.states[u])))
        for i, fixed in enumerate(sets):
            if u in fixed:
                m[i] = 0.0
                m[i, fixed[u]] = 1.0
        likelihoods[u] = m
    findings = [background.evidence] * len(sets) if background.evidence else None
    z, grads = _engine.differentiate(net, findings, likelihoods=likelihoods, wrt=contexts)
    joints = {}
    for c in contexts:
        g = grads[c]  # (*batch, E, KC, *parents)
        parents = tuple(range(g.ndim - len(net.parents[c]), g.ndim))
        if "observe" in modes:
            cpt = net.cpts[c]
            cpt = np.expand_dims(cpt, cpt.ndim - len(net.parents[c]) - 1)  # an E axis before the CPT's own
            joints["observe", c] = (cpt * g).sum(axis=parents)
        if "do" in modes:
            joints["do", c] = g.sum(axis=parents)
    return z, joints


def _background_joints(
    net: _engine.NetworkArrays,
    contexts: Sequence[str],
    background: Background,
    modes: Sequence[str],
    z: np.ndarray,
    joints: dict[tuple[str, str], np.ndarray],
) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """P(background) (*batch) and, per (mode, context), P(C = c, background) or P(background | do(C = c)).

    With findings they are the last evidence set's; without, P(background) = 1
    and the joints are the contexts' marginals (observe) or 1 (do).
    """
    if background.evidence:
        return z[..., -1], {key: j[..., -1, :] for key, j in joints.items()}
    marginal = _engine.marginals(net, contexts) if "observe" in modes else {}
    totals = {
        (mode, c): marginal[c][..., 0, :] if mode == "observe" else np.ones_like(j[..., 0, :])
        for (mode, c), j in joints.items()
    }
    return np.ones(z.shape[:-1]), totals


def _context_arrays(
    net: _engine.NetworkArrays,
    contexts: Sequence[str],
    targets: Sequence[str],
    background: Background,
    modes: Sequence[str],
) -> dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]]:
    """{(target, mode, context): (p (*batch, KT, KC), p_baseline (*batch, KT))} for targets with as many states.

    One differentiation for the targets with as many states: one evidence set
    per target state but the first (plus the background alone, when it has
    findings). The first state's joint is the background's minus the other
    states' (the law of total probability), so a sweep over two binary targets
    runs two evidence sets instead of four. Where that difference falls below
    ``_COMPLEMENT_FLOOR`` of the background's (digits could be lost), those
    draws are differentiated again with every state as its own set. (Targets with
    other numbers of states in the same call made the part of the plan that the
    evidence reaches, and the sweep, up to twice as slow.)
    """
    sets = [{t: k} for t in targets for k in range(1, len(net.states[t]))]
    z, joints = _set_joints(net, contexts, sets + ([{}] if background.evidence else []), background, targets, modes)
    z_background, totals = _background_joints(net, contexts, background, modes, z, joints)
    if not np.all(z_background > 0):
        raise impossible(background, net)
    out = {}
    for n, t in enumerate(targets):
        rows = slice(n * (len(net.states[t]) - 1), (n + 1) * (len(net.states[t]) - 1))
        others = z[..., rows]
        first = z_background - others.sum(axis=-1)
        target_joints = {}
        for key, j in joints.items():
            rest = j[..., rows, :]
            left = totals[key] - rest.sum(axis=-2)
            target_joints[key] = np.concatenate([left[..., np.newaxis, :], rest], axis=-2)
        base_joint = np.concatenate([first[..., np.newaxis], others], axis=-1)
        exact = first >= _COMPLEMENT_FLOOR * z_background  # per draw
        for key, j in target_joints.items():
            exact &= np.all(j[..., 0, :] >= _COMPLEMENT_FLOOR * totals[key], axis=-1)
        if not np.all(exact):  # those draws again, every state its own set: no subtraction
            draws = np.flatnonzero(~exact) if net.batch_size is not None else Ellipsis
            again = net if draws is Ellipsis else _engine.select_draws(net, draws)
            all_states = [{t: k} for k in range(len(net.states[t]))]
            base_joint[draws], direct = _set_joints(again, contexts, all_states, background, [t], modes)
            for key, j in direct.items():
                target_joints[key][draws] = j
        base = base_joint / base_joint.sum(axis=-1, keepdims=True)
        for (mode, c), joint in target_joints.items():
            out[t, mode, c] = (_conditional(joint, c, net.states[c], background.describe(), mode), base)
    return out


def _effects(p: np.ndarray, base: np.ndarray, batched: bool, level: float) -> dict[str, np.ndarray]:
    """Per-draw delta, ratio, log-odds change, summarised over the draw axis when batched.

    ``p`` and ``base`` broadcast against each other; the result's arrays have
    their shape without the draw axis.
    """
    p, base = np.broadcast_arrays(p, base)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = p - base
        ratio = p / base
        # logit in numpy: importing scipy.special would cost a sweep command more than the sweep
        dlo = (np.log(p) - np.log1p(-p)) - (np.log(base) - np.log1p(-base))
    columns = {"p_baseline": base, "p": p, "delta": delta, "ratio": ratio, "delta_logodds": dlo}
    if not batched:
        return columns
    out = {name: values.mean(axis=0) for name, values in columns.items()}
    out["ci_low"], out["ci_high"] = interval(p, level)
    out["delta_ci_low"], out["delta_ci_high"] = interval(delta, level)
    return out


def _table(net, contexts, targets, background, modes, level, progress=False) -> dict[str, np.ndarray]:
    """Columns of every context's rows, in the order given; one differentiation per group of targets with as many states.

    Within a context, rows run state-major, then target, target state, mode. The
    numbers of every context are summarised over draws in one call and the table
    is built once (a frame per context and target cost more than the sweep); no pandas.
    """
    groups: dict[int, list[str]] = {}  # one differentiation for the targets with as many states
    for t in targets:
        groups.setdefault(len(net.states[t]), []).append(t)
    # block by block of the draws, every group within a block: a block's tables (made as it is
    # reached), intermediates and cached constants go before the next one's
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="sweep", unit="differentiation", leave=False)
    parts = []
    for block in _engine.draw_blocks(net, keep=False):
        part: dict = {}
        for group in groups.values():
            part.update(_context_arrays(block, contexts, group, background, modes))
            if bar is not None:
                bar.update()
        parts.append(part)
        del block  # let it go before the next block's tables are made: they then reuse its memory
    if bar is not None:
        bar.close()
    arrays = parts[0] if len(parts) == 1 else {
        key: tuple(np.concatenate([part[key][i] for part in parts]) for i in range(2)) for key in parts[0]
    }
    batched = net.batch_size is not None
    ps, bases, keys, states, tstates = [], [], [], [], []
    for ci, c in enumerate(contexts):
        cstates = np.array(net.states[c], dtype=object)
        kc = len(cstates)
        for ti, target in enumerate(targets):
            tnames = np.array(net.states[target], dtype=object)
            kt = len(tnames)
            for mi, mode in enumerate(modes):
                p, base = arrays[target, mode, c]  # (*batch, KT, KC), (*batch, KT)
                # (*batch, KT, KC) -> (*batch, KC, KT): rows run state-major, target state minor
                p = np.swapaxes(p, -1, -2)
                base = np.broadcast_to(base[..., np.newaxis, :], p.shape)
                ps.append(p.reshape(*p.shape[:-2], kc * kt))
                bases.append(base.reshape(*base.shape[:-2], kc * kt))
                n = kc * kt
                keys.append(np.stack([np.full(n, ci), np.repeat(np.arange(kc), kt), np.full(n, ti),
                                      np.tile(np.arange(kt), kc), np.full(n, mi)]))
                states.append(np.repeat(cstates, kt))
                tstates.append(np.tile(tnames, kc))
    cols = _effects(np.concatenate(ps, axis=-1), np.concatenate(bases, axis=-1), batched, level)
    key = np.concatenate(keys, axis=1)
    order = np.lexsort(key[::-1])  # context, state, target, target state, mode
    key = key[:, order]
    columns = {
        "context": np.array(contexts, dtype=object)[key[0]],
        "state": np.concatenate(states)[order],
        "target": np.array(targets, dtype=object)[key[2]],
        "target_state": np.concatenate(tstates)[order],
        "mode": np.array(modes, dtype=object)[key[4]],
        **{name: values[order] for name, values in cols.items()},
    }
    columns["estimate"] = np.full(len(order), estimate_label(net), dtype=object)
    return {name: columns[name] for name in _columns(batched)}


_IMPACT_DECIMALS = 12


def _ranked(columns: dict[str, np.ndarray], top: int | None) -> dict[str, np.ndarray]:
    """Contexts' rows (grouped, as :func:`_table` gives them) by impact, most influential first; the first ``top``.

    Impact is a context's largest ``|delta|`` (NaN skipped) to 12 decimals: a context that moves
    nothing shows a delta of 0 or of a few 1e-17, by the machine's order of summation, and
    such rounding must not reorder the table; ties keep the given order.
    """
    context = columns["context"]
    starts = np.flatnonzero(np.r_[True, context[1:] != context[:-1]])
    ends = np.r_[starts[1:], len(context)]
    with np.errstate(invalid="ignore"):
        impact = np.round(np.fmax.reduceat(np.abs(columns["delta"]), starts), _IMPACT_DECIMALS)
    chosen = np.argsort(-impact, kind="stable")[:top]
    rows = np.concatenate([np.arange(starts[i], ends[i]) for i in chosen])
    return {name: values[rows] for name, values in columns.items()}


def _columns(batched: bool) -> list[str]:
    return SHIFT_COLUMNS + (DRAW_COLUMNS if batched else []) + ["estimate"]


def _prepare(model: Model, targets, evidence, do, scenario, modes, level):
    targets = check_targets(check_model(model), targets)
    modes = check.choices(modes, "modes", MODES)
    level = check.level(level)
    background = Background.of(model, evidence, do, scenario)
    free_targets(targets, background)
    return targets, modes, level, background, background.network(model)


# ---------------------------------------------------------------------------
# public verbs


def shift(
    model: Model,
    context: str,
    targets: Sequence[str] | str,
    *,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    modes: Sequence[str] | str = MODES,
    level: float = DEFAULT_LEVEL,
    progress: bool = False,
) -> pd.DataFrame:
    """How each state of ``context`` shifts each target, against the baseline.

    The baseline is P(target | background), where the background is
    ``evidence`` (findings), ``do`` (interventions) and the findings and
    interventions of ``scenario`` (a :class:`Scenario` or its id) together.
    ``mode="observe"`` conditions on context = state; ``mode="do"`` sets it by
    graph surgery. One row per state, target, target state and mode; columns
    as in the module docstring. With a model carrying parameter draws
    (``model.with_draws``) the numbers are means over draws with central
    ``level`` credible intervals.

    Raises :class:`BayesCMOError` for an unknown context, a context or target
    already fixed by the background, and :class:`ZeroProbabilityEvidence` when
    the background (or a context state together with it) is impossible.
    """
    targets, modes, level, background, net = _prepare(model, targets, evidence, do, scenario, modes, level)
    context = _check_context(model, context, targets, background)
    return pd.DataFrame(_table(net, [context], targets, background, modes, level, progress))


def default_contexts(model: Model, include_mechanisms: bool = False) -> tuple[str, ...]:
    """Context nodes of the theory (and mechanisms if asked); root nodes of a network file."""
    if model.theory is not None:
        roles = ("context", "mechanism") if include_mechanisms else ("context",)
        return tuple(n for n in model.theory.order() if model.theory.nodes[n].role in roles)
    net = model.network
    if include_mechanisms:  # no roles in a file: every node that has parents and children
        children = {p for v in net.variables for p in net.parents[v]}
        return tuple(v for v in net.variables if not net.parents[v] or v in children)
    return tuple(v for v in net.variables if not net.parents[v])


def sweep(
    model: Model,
    targets: Sequence[str] | str,
    *,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    contexts: Iterable[str] | None = None,
    include_mechanisms: bool = False,
    modes: Sequence[str] | str = MODES,
    level: float = DEFAULT_LEVEL,
    progress: bool = False,
    top: int | None = None,
    as_frame: bool = True,
) -> pd.DataFrame | dict[str, np.ndarray]:
    """:func:`shift` for every context at once, ranked by impact.

    ``contexts`` defaults to every node with role ``context`` in the theory
    (plus ``mechanism`` nodes with ``include_mechanisms=True``); for a network
    file without roles, every root node. Default contexts that are targets or
    already fixed by the background are skipped; explicitly named ones are an
    error. Rows are grouped by context, contexts ordered by impact (the
    largest ``|delta|`` over their rows; ties keep the given order), most
    influential first; ``top=N`` keeps the first N contexts. ``as_frame=False``
    returns the same columns as a dict of 1-d numpy arrays instead of a
    DataFrame (no pandas is imported: a command that only writes JSON starts
    faster).
    """
    targets, modes, level, background, net = _prepare(model, targets, evidence, do, scenario, modes, level)
    if contexts is None:
        fixed = set(targets) | background.fixed
        chosen = [c for c in default_contexts(model, include_mechanisms) if c not in fixed]
        if not chosen:
            raise BayesCMOError("no contexts to sweep: every candidate is a target or fixed by the background evidence")
    else:
        chosen = check.distinct(contexts, "contexts")
        for c in chosen:
            _check_context(model, c, targets, background)
    if top is not None:
        top = check.integer(top, "top")
    columns = _ranked(_table(net, chosen, targets, background, modes, level, progress), top)
    return pd.DataFrame(columns) if as_frame else columns


def compare_scenarios(
    model: Model,
    targets: Sequence[str] | str,
    *,
    scenarios: Iterable[Scenario | str] | Scenario | str | None = None,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    level: float = DEFAULT_LEVEL,
    progress: bool = False,
) -> pd.DataFrame:
    """Named scenarios side by side, each against the baseline.

    The baseline is P(target | background) (``evidence``, ``do``, ``scenario``;
    default: nothing observed); each compared scenario adds its findings and
    interventions to that background. ``scenarios`` are :class:`Scenario`
    objects or ids (default: every scenario in the theory but the background
    one). One row per scenario, target and target state; columns
    ``scenario``, ``label``, ``findings`` (the scenario's evidence and do()
    as text), ``target``, ``target_state``, ``p_baseline``, ``p``, ``delta``,
    ``ratio``, ``delta_logodds`` and, with draws, ``ci_low``, ``ci_high``,
    ``delta_ci_low``, ``delta_ci_high``.
    """
    targets = check_targets(check_model(model), targets)
    level = check.level(level)
    background = Background.of(model, evidence, do, scenario)
    free_targets(targets, background)
    if scenarios is None:
        if model.theory is None or not model.theory.scenarios:
            raise BayesCMOError(f"{model.source or 'the model'}: has no scenarios (add a scenarios.yaml to the priors folder)")
        chosen = [s for s in model.theory.scenarios if s.id != background.scenario]
    else:
        given = [scenarios] if isinstance(scenarios, (str, Scenario)) else list(scenarios)
        chosen = [resolve_scenario(model, s) for s in given]
        check.distinct([s.id for s in chosen], "scenarios", "scenario")
    net = background.network(model)
    batched = net.batch_size is not None
    try:
        baseline = _engine.marginals(net, targets, [dict(background.evidence)])
    except ZeroProbabilityEvidence:
        raise impossible(background, net) from None
    frames = []
    for item in chosen:
        both = Background.of(model, dict(background.evidence), dict(background.do), item)
        free_targets(targets, both)
        scenario_net = both.network(model)
        try:
            result = _engine.marginals(scenario_net, targets, [dict(both.evidence)])
        except ZeroProbabilityEvidence:
            raise impossible(both, scenario_net) from None
        for target in targets:
            cols = _effects(result[target][..., 0, :], baseline[target][..., 0, :], batched, level)
            frames.append(
                pd.DataFrame(
                    {
                        "scenario": item.id,
                        "label": item.label,
                        "findings": Background.of(model, scenario=item).describe(),
                        "target": target,
                        "target_state": list(net.states[target]),
                        **cols,
                    }
                )
            )
    columns = SCENARIO_COLUMNS + (DRAW_COLUMNS if batched else []) + ["estimate"]
    return pd.concat(frames, ignore_index=True).assign(estimate=estimate_label(net))[columns]
