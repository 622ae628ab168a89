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

Speed: every context is done at once. For each target, one call to
:func:`bayes_cmo.engine.differentiate` (one evidence set per target state t;
the other targets with as many states are evidence variables too, with all-ones
likelihoods, so that they share one plan and its target-free part) gives Z_t = P(target = t, background) for every draw and the
derivative of Z_t with respect to every context's CPT (Darwiche's differential
approach), from which P(target = t, context = c, background) (observe) and
P(target = t, background | do(context = c)) follow for every c. On the shipped
priors (30 contexts, two targets, 1,000 draws: 262 MB of tables) the two
calls take about 1 s of CPU, bound by memory traffic (README, Benchmarks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validate as check
from .._errors import BayesCMOError, ZeroProbabilityEvidence
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


def _context_arrays(
    net: _engine.NetworkArrays,
    contexts: Sequence[str],
    target: str,
    background: Background,
    modes: Sequence[str],
    all_targets: Sequence[str],
) -> dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]]:
    """{(target, mode, context): (p (*batch, KT, KC), p_baseline (*batch, KT))} for ``target`` and every context.

    ``all_targets``: the targets of the whole sweep.

    For each target T and state t, Z_t = P(T = t, background) and its gradient
    with respect to a context's CPT theta_C(c | u) give
    P(T = t, C = c, background) = sum_u theta_C(c | u) dZ_t/dtheta_C(c | u) and
    P(T = t, background | do(C = c)) = sum_u dZ_t/dtheta_C(c | u).
    One differentiation per target. Targets with as many states are evidence
    variables of each other's differentiation (with all-ones likelihoods, which
    change nothing): they then share one contraction plan, and the engine
    computes the part of it no target touches once, not once per target. (Making
    every target an evidence variable of every call, or one call over all
    targets' states, was slower when the state counts differ.)
    """
    out = {}
    sets = [{**background.evidence, target: t} for t in net.states[target]]  # one evidence set per target state
    k = len(sets)
    # the other targets with as many states: all-ones likelihoods make the plan the same for all of them
    others = {u: np.ones((k, k)) for u in all_targets if u != target and len(net.states[u]) == k}
    base_joint, grads = _engine.differentiate(net, sets, likelihoods=others or None, wrt=contexts)
    total = base_joint.sum(axis=-1)
    if not np.all(total > 0):
        raise impossible(background, net)
    base = base_joint / total[..., np.newaxis]
    for c in contexts:
        g = grads[c]  # (*batch, KT, KC, *parents)
        parents = tuple(range(g.ndim - len(net.parents[c]), g.ndim))
        joints = {}
        if "observe" in modes:
            cpt = net.cpts[c]
            cpt = np.expand_dims(cpt, cpt.ndim - len(net.parents[c]) - 1)  # an E axis before the CPT's own
            joints["observe"] = (cpt * g).sum(axis=parents)
        if "do" in modes:
            joints["do"] = g.sum(axis=parents)
        for mode, joint in joints.items():
            out[target, mode, c] = (_conditional(joint, c, net.states[c], background.describe(), mode), base)
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


def _frame(net, contexts, targets, background, modes, level, progress=False) -> pd.DataFrame:
    """Rows of every context, in the order given; one differential pass per target.

    Within a context, rows run state-major, then target, target state, mode. The
    numbers of every context are summarised over draws in one call and the table
    is built once (a frame per context and target cost more than the sweep).
    """
    arrays = {}
    iterator: Iterable[str] = targets
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(targets, desc="sweep", unit="target", leave=False)
    for target in iterator:
        arrays.update(_context_arrays(net, contexts, target, background, modes, targets))
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
    frame = pd.DataFrame(
        {
            "context": np.array(contexts, dtype=object)[key[0]],
            "state": np.concatenate(states)[order],
            "target": np.array(targets, dtype=object)[key[2]],
            "target_state": np.concatenate(tstates)[order],
            "mode": np.array(modes, dtype=object)[key[4]],
            **{name: values[order] for name, values in cols.items()},
        }
    )
    return frame


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
    frame = _frame(net, [context], targets, background, modes, level, progress)
    return frame.assign(estimate=estimate_label(net))[_columns(net.batch_size is not None)].reset_index(drop=True)


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
) -> pd.DataFrame:
    """:func:`shift` for every context at once, ranked by impact.

    ``contexts`` defaults to every node with role ``context`` in the theory
    (plus ``mechanism`` nodes with ``include_mechanisms=True``); for a network
    file without roles, every root node. Default contexts that are targets or
    already fixed by the background are skipped; explicitly named ones are an
    error. Rows are grouped by context, contexts ordered by impact (the
    largest ``|delta|`` over their rows), most influential first.
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
    frame = _frame(net, chosen, targets, background, modes, level, progress)
    impact = frame["delta"].abs().groupby(frame["context"], sort=False).max()
    order = impact.sort_values(ascending=False, kind="stable").index
    rank = {c: i for i, c in enumerate(order)}
    frame = frame.assign(_rank=frame["context"].map(rank)).sort_values("_rank", kind="stable")
    return frame.assign(estimate=estimate_label(net))[_columns(net.batch_size is not None)].reset_index(drop=True)


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
