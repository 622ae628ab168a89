"""Step one of the report: run the headline questions and keep every answer in one frozen result.

``compute_report(model, ...)`` checks its arguments, draws the judgements once
and runs the public functions — the claims check, the headline context's
shift, the sweep of every context, the named scenarios, the rounds view, what
to measure next and which judgements matter. The renderers
(:mod:`.markdown`, :mod:`.html`) only format a :class:`ReportResult`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._errors import BayesCMOError, did_you_mean
from .._version import __version__
from ..inference.claims import check_claims
from ..inference.rounds import MAX_ROUNDS, dynamic_nodes, survival
from ..inference.shift import compare_scenarios, shift, sweep
from ..inference.whatif import check_targets
from ..network.describe import summary
from ..network.model import Model
from ..planning.sensitivity import judgement_sensitivity
from ..planning.voi import best_measurements, value_of_information
from ..plots.labels import good_states
from ..theory import Theory, default_priors_path


@dataclass(frozen=True, eq=False)  # holds DataFrames, which do not compare to a bool
class ReportResult:
    """Every table of the report, with the settings that produced them.

    Frames are the public functions' own (ids as columns); ``good`` maps each
    target to the state that is good for the partnership; ``same_modes`` is
    True when observing and intervening on the headline context give the same
    numbers (a context with no causes in the theory), so the renderers show one.
    """

    theory: Theory
    priors_name: str
    context: str
    targets: tuple[str, ...]
    good: Mapping[str, str]
    n_draws: int
    seed: int
    level: float
    version: str
    date: str
    summary: pd.DataFrame
    claims: pd.DataFrame
    headline: pd.DataFrame
    sweep: pd.DataFrame
    scenarios: pd.DataFrame | None
    rounds: pd.DataFrame | None
    voi_target: str
    voi: pd.DataFrame
    best: pd.DataFrame
    sensitivity: pd.DataFrame
    same_modes: bool = False
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)


def _priors_name(theory: Theory) -> str:
    """What the priors are called, never where they sit on this machine."""
    if theory.path is None:
        return "an in-memory theory"
    path = theory.path.resolve()
    if path == default_priors_path().resolve():
        return "the shipped default priors"
    return f"the priors folder '{path.name}'"


def _modes_agree(frame: pd.DataFrame) -> bool:
    cols = ["p"] + [c for c in ("ci_low", "ci_high", "delta_ci_low", "delta_ci_high") if c in frame]
    observe = frame[frame["mode"] == "observe"].reset_index(drop=True)
    do = frame[frame["mode"] == "do"].reset_index(drop=True)
    return len(observe) == len(do) > 0 and np.allclose(observe[cols], do[cols], atol=1e-12)


def check_report_args(model: Model, context: str, targets: Sequence[str], rounds: int) -> list[str]:
    theory = model.theory
    if theory is None:
        raise BayesCMOError(f"{model.source}: the report needs a priors folder (links, claims, scenarios), not a network file")
    if context not in theory.nodes:
        raise BayesCMOError(f"context: unknown node '{context}'{did_you_mean(context, theory.nodes)}")
    targets = check_targets(model, list(targets))
    if context in targets:
        raise BayesCMOError(f"'{context}' is both the headline context and a target; drop one of them")
    if not 1 <= rounds <= MAX_ROUNDS:
        raise BayesCMOError(f"rounds must be from 1 to {MAX_ROUNDS}, got {rounds}")
    return targets


def _absorbing(theory: Theory, targets: Sequence[str]) -> str | None:
    """The outcome the time view follows: a dynamic target, if the theory has a loop."""
    if not any(link.lag for link in theory.links):
        return None
    dynamic = set(dynamic_nodes(theory))
    return next((t for t in reversed(targets) if t in dynamic), None)


def compute_report(
    model: Model,
    *,
    context: str,
    targets: Sequence[str],
    n_draws: int = 1000,
    seed: int = 0,
    level: float = 0.9,
    rounds: int = 5,
    good_direction: Mapping[str, str] | None = None,
) -> ReportResult:
    """All the report's answers; ``model`` with point values (draws are made here)."""
    targets = check_report_args(model, context, targets, rounds)
    theory = model.theory
    good = good_states({t: model.states(t) for t in targets}, theory, good_direction)
    drawn = model.with_draws(n_draws, seed=seed)
    headline = shift(drawn, context, targets, level=level)
    every = sweep(drawn, targets, modes=("observe",), level=level)
    scenarios = compare_scenarios(drawn, targets, level=level) if theory.scenarios else None
    by_round = None
    absorbing = _absorbing(theory, targets)
    if absorbing is not None:
        try:
            by_round = survival(theory, rounds, n_draws=min(n_draws, 200), seed=seed, level=level)
        except BayesCMOError:  # the time view needs its absorbing outcome; without it the report goes on
            by_round = None
    voi_target = targets[-1]
    voi = value_of_information(model, voi_target)
    claims = check_claims(model)
    sensitivity = judgement_sensitivity(model, targets[0])
    tables = {
        "claims.csv": claims,
        "headline_shift.csv": headline,
        "sweep.csv": every,
        "voi.csv": voi,
        "sensitivity.csv": sensitivity,
    }
    if scenarios is not None:
        tables["scenarios.csv"] = scenarios
    if by_round is not None:
        tables["rounds.csv"] = by_round
    return ReportResult(
        theory=theory,
        priors_name=_priors_name(theory),
        context=context,
        targets=tuple(targets),
        good=good,
        n_draws=n_draws,
        seed=seed,
        level=level,
        version=__version__,
        date=_dt.date.today().isoformat(),
        summary=summary(model),
        claims=claims,
        headline=headline,
        sweep=every,
        scenarios=scenarios,
        rounds=by_round,
        voi_target=voi_target,
        voi=voi,
        best=best_measurements(model, voi_target, 3),
        sensitivity=sensitivity,
        same_modes=_modes_agree(headline),
        tables=tables,
    )
