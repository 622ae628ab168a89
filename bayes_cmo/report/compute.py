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

from .. import _validate as check
from .._errors import BayesCMOError
from .._lazy import pandas as pd
from ..inference import headline as _headline
from ..inference.background import check_targets
from ..inference.claims import check_claims
from ..inference.rounds import MAX_ROUNDS, dynamic_nodes
from ..inference.survival import survival
from ..inference.shift import compare_scenarios, shift, sweep
from ..network.describe import summary
from ..network.model import Model, build_model
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


def check_report_args(
    model: Model, context: str | None, targets: Sequence[str] | None, rounds: int
) -> tuple[str, list[str], int]:
    """The report's settings, checked before any work; context and targets default to headline.yaml."""
    theory = model.theory
    if theory is None:
        raise BayesCMOError(f"{model.source}: the report needs a priors folder (links, claims, scenarios), not a network file")
    if model.network.batch_size is None:
        raise check.InvalidParameter("model", "expected a model with parameter draws (model.with_draws(1000, seed=0)), got point values")
    context = check.node(model.network.states, _headline.context(model) if context is None else context, "context")
    targets = check_targets(model, list(_headline.targets(model)) if targets is None else targets)
    if context in targets:
        raise BayesCMOError(f"'{context}' is both the headline context and a target; drop one of them")
    return context, targets, check.integer(rounds, "rounds", 1, MAX_ROUNDS)


def _absorbing(theory: Theory, targets: Sequence[str]) -> str | None:
    """The outcome the time view follows: the headline's absorbing outcome, if the theory has a loop."""
    absorbing = theory.headline.absorbing
    if absorbing is None or not any(link.lag for link in theory.links) or absorbing not in dynamic_nodes(theory):
        return None
    return absorbing


def compute_report(
    model: Model,
    *,
    context: str | None = None,
    targets: Sequence[str] | None = None,
    level: float = 0.9,
    rounds: int = 5,
    good_direction: Mapping[str, str] | None = None,
) -> ReportResult:
    """All the report's answers. ``model`` carries the draws (``model.with_draws``): every what-if answer
    gets an interval; the claims, VOI and sensitivity use the priors' point values."""
    from .._version import __version__  # lazy: importlib.metadata is slow to import

    context, targets, rounds = check_report_args(model, context, targets, rounds)
    theory = model.theory
    good = good_states({t: model.states(t) for t in targets}, theory, good_direction)
    drawn, point = model, build_model(theory, source=model.source)
    headline = shift(drawn, context, targets, level=level)
    every = sweep(drawn, targets, modes=("observe",), level=level)
    scenarios = compare_scenarios(drawn, targets, level=level) if theory.scenarios else None
    absorbing = _absorbing(theory, targets)
    by_round = survival(drawn, rounds, level=level) if absorbing is not None else None
    voi_target = absorbing if absorbing is not None else targets[-1]
    voi = value_of_information(point, voi_target)
    claims = check_claims(point)
    sensitivity = judgement_sensitivity(point, targets[0])
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
        n_draws=int(drawn.network.batch_size),
        seed=drawn.seed,
        level=level,
        version=__version__,
        date=_dt.date.today().isoformat(),
        summary=summary(point),
        claims=claims,
        headline=headline,
        sweep=every,
        scenarios=scenarios,
        rounds=by_round,
        voi_target=voi_target,
        voi=voi,
        best=best_measurements(point, voi_target, k=3),
        sensitivity=sensitivity,
        same_modes=_modes_agree(headline),
        tables=tables,
    )
