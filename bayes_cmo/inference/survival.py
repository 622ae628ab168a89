"""P(still intact) by round: the absorbing outcome (e.g. a partnership dissolving) over the unrolled loop.

:func:`survival` reads it off :func:`bayes_cmo.inference.loop.by_round` (exact
given the contexts, importance-sampled beyond); :func:`survival_monte_carlo` is
the plain forward-sampling estimate it replaced, kept to benchmark against;
:func:`survival_curves` runs :func:`survival` per scenario or context state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import _validate as check
from .._errors import BayesCMOError, did_you_mean
from .._lazy import pandas as pd
from ..engine import core as _engine
from ..engine.sampling import forward_sample
from ..network.elicitation import elicited_parameters
from ..network.model import Model, check_draw_memory
from ..theory import Scenario, Theory
from . import headline as _headline
from .background import Background, check_model, impossible
from .loop import DEFAULT_SAMPLES, by_round
from .rounds import MAX_ROUNDS, MIN_SAMPLES, dynamic_nodes, round_name, unroll, unroll_theory
from .summary import DEFAULT_LEVEL, summarise


def _theory_of(model: Model) -> Theory:
    theory = check_model(model).theory
    if theory is None:
        raise BayesCMOError(f"{model.source}: the round-by-round view needs a priors folder (its lag: 1 links), not a network file")
    return theory


def _survival_setup(model, rounds, evidence, do, scenario, level):
    """What both survival estimators check first: a theory with an absorbing outcome downstream of a lagged link."""
    theory = _theory_of(model)
    outcome, absorbed = _headline.absorbing(theory)
    rounds = check.integer(rounds, "rounds", 1, MAX_ROUNDS)
    level = check.level(level)
    background = Background.of(model, evidence, do, scenario)
    for given, what in ((background.evidence, "evidence"), (background.do, "do")):
        if outcome in given:
            raise BayesCMOError(f"{what}: '{outcome}' is what the round-by-round view estimates; drop it from the {what}")
    dynamic = set(dynamic_nodes(theory))
    if outcome not in dynamic:
        raise BayesCMOError(f"{theory.path}: the round-by-round view needs its absorbing outcome '{outcome}' downstream of a lagged link")
    return theory, outcome, absorbed, rounds, level, background, dynamic


def survival(
    model: Model,
    rounds: int = 5,
    *,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    level: float = DEFAULT_LEVEL,
    samples: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """P(still intact) by round: the probability that the absorbing outcome has not happened in rounds 1..r.

    The absorbing outcome and its state come from the theory's ``headline.yaml``
    (``absorbing: {node, state}``). Computed by :func:`bayes_cmo.inference.loop.by_round`:
    exact given the round-invariant nodes (forward-backward over the loop's
    interface), which are enumerated when few and else importance-sampled
    (``samples``, default :data:`bayes_cmo.inference.loop.DEFAULT_SAMPLES`, over all
    draws together), with a standard error (0 where exact). Seeded by ``model.seed``.
    With draws the interval is over the per-draw estimates.

    Findings on contexts hold in every round; findings on a node that changes by
    round apply to round 1 (use :func:`~bayes_cmo.inference.loop.by_round` with
    ``NODE@ROUND`` for other rounds); interventions on such a node hold in every round.
    Columns: ``round``, ``p_intact``, ``std_error``, ``p_absorbed_in_round``
    (given intact before), and with draws ``ci_low``/``ci_high`` for ``p_intact``.
    The plain Monte Carlo it replaced is :func:`survival_monte_carlo` (same columns).
    """
    theory, outcome, absorbed, rounds, level, background, dynamic = _survival_setup(model, rounds, evidence, do, scenario, level)
    samples = DEFAULT_SAMPLES if samples is None else check.integer(samples, "samples", MIN_SAMPLES)
    n_draws = (model.parameters.n_draws if model.parameters else 0) or 0
    if n_draws > samples:
        raise BayesCMOError(f"{samples} samples cannot cover {n_draws} parameter draws; use at least as many samples as draws")
    check_draw_memory(len(theory.nodes) * 4, samples, "Monte Carlo samples", advice="")
    findings = {(f"{k}@1" if k in dynamic else k): v for k, v in background.evidence.items()}
    frame = by_round(
        model, outcome, rounds=rounds, evidence=findings, do=dict(background.do), absorbing=(outcome, absorbed),
        samples=samples, seed=0 if model.seed is None else model.seed, level=level,
    )
    ended = frame[frame.state == absorbed]
    out = pd.DataFrame({"round": ended["round"].to_numpy(), "p_intact": 1 - ended.p.to_numpy(), "std_error": ended.std_error.to_numpy()})
    before = np.concatenate([[1.0], out.p_intact.to_numpy()[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["p_absorbed_in_round"] = np.where(before > 0, 1.0 - out.p_intact / before, np.nan)
    if n_draws:
        lows, highs = (1 - ended[c].to_numpy() for c in ("ci_high", "ci_low"))
        out["ci_low"], out["ci_high"] = lows, highs
    return out


def survival_monte_carlo(
    model: Model,
    rounds: int = 5,
    *,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    level: float = DEFAULT_LEVEL,
    samples: int = 20_000,
    progress: bool = False,
) -> pd.DataFrame:
    """P(still intact) by round by plain Monte Carlo over the whole unrolled network (kept to benchmark against).

    The absorbing outcome and its state (e.g. a partnership dissolving) come
    from the theory's ``headline.yaml`` (``absorbing: {node, state}``).
    Exact inference does not scale here: the contexts persist across rounds,
    so every round stays coupled to all of them (the exact contraction costs
    ~1e6 flops for 2 rounds, ~1e8-1e10 for 3 and ~1e11 for 4). The time view
    is therefore Monte Carlo: ``samples`` forward samples of the unrolled
    network (likelihood-weighted for findings), with a standard error, seeded
    by ``model.seed``. With a model carrying draws (``model.with_draws``) the
    samples are spread over the draws and the interval is over per-draw
    estimates (it includes a little Monte Carlo noise).

    Findings on contexts apply to every round; findings on a node that changes
    by round apply to round 1; interventions on such a node hold in every round.
    Columns: ``round``, ``p_intact``, ``std_error`` (Monte Carlo),
    ``p_absorbed_in_round`` (given intact before), and with draws
    ``ci_low``/``ci_high`` for ``p_intact``.
    """
    theory, outcome, absorbed, rounds, level, background, dynamic = _survival_setup(model, rounds, evidence, do, scenario, level)
    samples = check.integer(samples, "samples", MIN_SAMPLES)
    parameters = model.parameters or elicited_parameters(theory)
    n_draws = parameters.n_draws or 0
    if n_draws > samples:
        raise BayesCMOError(f"{samples} samples cannot cover {n_draws} parameter draws; use at least as many samples as draws")
    unrolled, _, _ = unroll_theory(theory, rounds)
    check_draw_memory(len(unrolled.nodes), samples, "Monte Carlo samples", advice="")
    if n_draws:
        cards = {n: node.card for n, node in unrolled.nodes.items()}
        check_draw_memory(sum(k * int(np.prod([cards[p] for p in unrolled.parents(n)])) for n, k in cards.items()), n_draws)
    seed = 0 if model.seed is None else model.seed
    unrolled_model = unroll(theory, rounds, parameters)
    mapped_do: dict[str, str] = {}
    for k, v in background.do.items():
        mapped_do.update({round_name(k, r): v for r in range(1, rounds + 1)} if k in dynamic else {k: v})
    network = _engine.intervene(unrolled_model.network, mapped_do) if mapped_do else unrolled_model.network
    clamp = {
        (round_name(k, 1) if k in dynamic else k): theory.nodes[k].states.index(v) for k, v in background.evidence.items()
    }
    rng = np.random.default_rng(seed)
    draw_index = np.arange(samples) % n_draws if n_draws else None
    drawn, weights = forward_sample(network, samples, rng, evidence=clamp, draw_index=draw_index)
    if not weights.sum() > 0:
        raise impossible(background, model.network, "(or too small to sample) under the model")
    # intact[:, r] = the absorbing state not reached in rounds 1..r+1
    k_absorbed = theory.nodes[outcome].states.index(absorbed)
    ended = np.stack([drawn[round_name(outcome, r)] == k_absorbed for r in range(1, rounds + 1)], axis=1)
    intact = np.cumprod(~ended, axis=1).astype(float)
    # Kish's effective sample size for the weighted standard error.
    ess = weights.sum() ** 2 / np.square(weights).sum()
    if n_draws:  # per-draw weighted means, every round at once
        draw_weight = np.bincount(draw_index, weights=weights, minlength=n_draws)
        per_draw = np.stack(
            [np.bincount(draw_index, weights=weights * intact[:, r], minlength=n_draws) for r in range(rounds)], axis=1
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            per_draw = per_draw / draw_weight[:, np.newaxis]
    rows = []
    for r in range(rounds):
        row = {"round": r + 1}
        p = np.average(intact[:, r], weights=weights)
        if n_draws:
            row.update(summarise(per_draw[:, r], level, "p_intact"))
        row["p_intact"] = float(p)
        row["std_error"] = float(np.sqrt(p * (1 - p) / ess))
        before = 1.0 if r == 0 else np.average(intact[:, r - 1], weights=weights)
        row["p_absorbed_in_round"] = float(1.0 - p / before) if before > 0 else float("nan")
        rows.append(row)
    columns = ["round", "p_intact", "std_error", "p_absorbed_in_round"] + (["ci_low", "ci_high"] if n_draws else [])
    return pd.DataFrame(rows)[columns]


def survival_curves(
    model: Model,
    rounds: int = 10,
    *,
    scenarios: Sequence[str] | None = None,
    context: str | None = None,
    level: float = DEFAULT_LEVEL,
    samples: int | None = None,
) -> pd.DataFrame:
    """Survival-style curves: :func:`survival` per named scenario, or per state of ``context`` (or both: each scenario
    split by the context's states; a scenario that fixes the context keeps its own state).

    ``scenarios``: ids from scenarios.yaml (default: all of them when no ``context`` is given).
    Returns the columns of :func:`survival` after ``curve`` (a label), ``scenario`` (id or empty)
    and ``context_state`` (empty without ``context``).
    """
    theory = _theory_of(model)
    known = {s.id: s for s in theory.scenarios}
    if scenarios is None:
        scenarios = [] if context else list(known)
    for s in scenarios:
        if s not in known:
            raise BayesCMOError(f"scenario: unknown scenario '{s}'{did_you_mean(s, known)}")
    if context is not None and context not in theory.nodes:
        raise BayesCMOError(f"context: unknown node '{context}'{did_you_mean(context, theory.nodes)}")
    states = theory.nodes[context].states if context else (None,)
    frames = []
    for sid in list(scenarios) or [None]:
        scenario = known[sid] if sid else None
        fixed = {**(scenario.evidence if scenario else {}), **(scenario.do if scenario else {})}
        for state in states if context not in fixed else (None,):
            evidence = {**(scenario.evidence if scenario else {}), **({context: state} if state else {})}
            frame = survival(model, rounds, evidence=evidence, do=dict(scenario.do) if scenario else None, level=level, samples=samples)
            parts = ([scenario.label] if scenario else []) + ([f"{theory.nodes[context].label}: {state}"] if state else [])
            name = " | ".join(parts)
            frames.append(frame.assign(curve=name or "all partnerships", scenario=sid or "", context_state=state or ""))
    out = pd.concat(frames, ignore_index=True)
    return out[["curve", "scenario", "context_state", *[c for c in out.columns if c not in ("curve", "scenario", "context_state")]]]
