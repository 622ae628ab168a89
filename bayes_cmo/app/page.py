"""The what-if page (Shiny for Python): controls in the paper's groups, outcomes with intervals, the network.

``make_app(model)`` returns a Shiny ``App``; ``bayes-cmo serve`` runs it.
Every computation is :func:`.state.answer`, which the benchmark times.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from shiny import App, reactive, render, ui

from .. import _lazy
from ..inference.whatif import estimate_label
from ..network.model import Model
from ..plots.labels import BAD, DO_TEXT, GOOD, OBSERVE_TEXT, interval, node_label, pct, pp, state_text
from .state import UNKNOWN, Page, answer, make_page, next_factors, same_either_way, state_choices, warm
from .svg import link_citation, network_svg

_CSS = f"""
.outcome .p-value{{font-size:2.2rem;font-weight:600}}
.change-good{{color:{GOOD}}} .change-bad{{color:{BAD}}} .change-none{{color:#555}}
.how .shiny-options-group{{font-size:.85rem}} .how{{margin-top:-.6rem}}
.explain{{font-size:.85rem;color:#555}}
svg .arc:hover{{stroke-width:4;opacity:1}}
"""


_lazy.now(_lazy.pandas)  # the page computes in threads

#: one worker compiles the plan of what to measure next at start-up, while the first page loads
_WARMER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bayes-cmo-warm")


def _controls(page: Page) -> list[str]:
    return list(page.controls)


def _groups(page: Page) -> dict[str, list[str]]:
    """The paper's groups, plus the scenarios' other factors (mechanisms they fix) in theirs."""
    from ..plots.labels import group_of

    groups = {g: list(v) for g, v in page.groups.items()}
    known = {n for v in groups.values() for n in v}
    for node in _controls(page):
        if node not in known:
            groups.setdefault(group_of(page.model.theory, node), []).append(node)
    return groups


def _control(page: Page, node: str):
    theory = page.model.theory
    parts = [
        ui.input_select(f"set_{node}", node_label(theory, node), state_choices(page, node), selected=UNKNOWN,
                        width="100%")
    ]
    if not same_either_way(page, node):
        parts.append(
            ui.div(
                ui.input_radio_buttons(
                    f"how_{node}", None, {"observe": "we observe this", "do": "we make this so"}, selected="observe",
                    inline=True,
                ),
                class_="how",
            )
        )
    return ui.div(*parts)


def app_ui(page: Page):
    theory = page.model.theory
    scenarios = {UNKNOWN: "none (set the factors yourself)", **{s.id: s.label for s in theory.scenarios}}
    groups = _groups(page)
    panels = [ui.accordion_panel(f"{group} ({len(nodes)})", *[_control(page, n) for n in nodes]) for group, nodes in groups.items()]
    links = {link.id: f"{node_label(theory, link.source)} → {node_label(theory, link.target).lower()}" for link in theory.links}
    sidebar = ui.sidebar(
        ui.input_select("scenario", "Scenario from the review", scenarios, selected=UNKNOWN),
        ui.input_action_button("reset", "Set everything to unknown", class_="btn-sm"),
        ui.p(
            "Set what you know about a partnership. Where a factor has causes in the theory, choose how you know "
            f"it: “{OBSERVE_TEXT}”, or “{DO_TEXT}”. Where both give the same answer the choice is hidden.",
            class_="explain",
        ),
        ui.accordion(*panels, open=False, id="groups"),
        width=380,
        title="What do we know?",
    )
    return ui.page_sidebar(
        sidebar,
        ui.tags.style(_CSS),
        ui.p(
            "The numbers are elicited judgements, not data: the review's wording turned into probabilities. "
            f"Each percentage is the {estimate_label(page.drawn)} of the judgements (not the answer at the "
            f"elicited values themselves); ranges are {page.level:.0%} credible intervals over those draws; the "
            "change is against the baseline, where nothing is known (pp = percentage points).",
            class_="explain",
            id="estimate-note",
        ),
        ui.output_ui("outcomes"),
        ui.card(ui.card_header("What would move each outcome most, if measured next"), ui.output_ui("next_factor")),
        ui.card(
            ui.card_header("The theory in layers (hover an arrow for what the paper says; chosen factors are outlined)"),
            ui.output_ui("network"),
            ui.input_select("link", "Show a link's citation", {UNKNOWN: "choose a link", **links}, selected=UNKNOWN,
                            width="100%"),
            ui.output_ui("citation"),
        ),
        title="What if? The programme theory of inter-organisational collaboration, in numbers",
        fillable=False,
    )


def _outcome_box(o) -> object:
    change = f"{pp(o.delta)} {interval(o.delta_low, o.delta_high, points=True)}"
    meaning = {"good": "good for the partnership", "bad": "bad for the partnership", "none": "no change"}[o.meaning]
    return ui.card(
        ui.card_header(o.title),
        ui.span(pct(o.p), class_="p-value", id=f"p-{o.target}"),
        ui.p(
            ui.span(f"change {change}", class_=f"change-{o.meaning}", id=f"change-{o.target}"),
            f" — {meaning}",
        ),
        ui.p(f"baseline {pct(o.baseline)}; this setting {interval(o.p_low, o.p_high)}", class_="explain"),
        class_="outcome",
    )


def server_for(page: Page, controls: Sequence[str]):
    theory = page.model.theory
    toggled = [n for n in controls if not same_either_way(page, n)]

    def server(input, output, session):
        def settings() -> dict[str, str]:
            return {n: input[f"set_{n}"]() for n in controls}

        def how() -> dict[str, str]:
            return {n: input[f"how_{n}"]() for n in toggled}

        @reactive.calc
        def result():  # the outcomes answer at once; what to measure next follows in the background
            return answer(page, settings(), how(), voi=False)

        latest = {"stop": threading.Event()}

        @reactive.extended_task
        async def voi_task(chosen: dict, toggles: dict, stop: threading.Event):
            return await asyncio.to_thread(next_factors, page, chosen, toggles, stop=stop)

        @reactive.effect
        def _start_voi():
            chosen, toggles = settings(), how()
            result()  # the outcomes first: a background thread started now would share the CPU (and GIL) with them
            latest["stop"].set()  # a computation for an older setting gives way (returns None)
            latest["stop"] = stop = threading.Event()
            voi_task.invoke(chosen, toggles, stop)

        @render.ui
        def outcomes():
            res = result()
            if res.error:
                return ui.div(res.error, class_="alert alert-warning", id="error")
            return ui.layout_columns(*[_outcome_box(o) for o in res.outcomes], id="outcome-row")

        @render.ui
        def next_factor():
            waiting = ui.p("Working this out for the current setting (it takes a moment longer than the outcomes) …",
                           class_="explain", id="best-next-wait")
            if voi_task.status() == "running":
                return waiting
            best = voi_task.result()
            if best is None:  # given way to a newer setting, which is queued
                return waiting
            if not best:
                return ui.p("Every factor is already set, or the settings cannot occur together.")
            items = [
                ui.tags.li(
                    f"{node_label(theory, t)}: measure {node_label(theory, n).lower()} "
                    f"(would typically move P({state_text(page.shown[t])}) by "
                    f"{100 * change:.1f} pp)"
                )
                for t, (n, change) in best.items()
            ]
            return ui.tags.ul(*items, id="best-next")

        @render.ui
        def network():
            return ui.HTML(network_svg(theory, {k: v for k, v in settings().items() if v != UNKNOWN}))

        @render.ui
        def citation():
            chosen = input.link()
            if chosen == UNKNOWN:
                return ui.p("")
            link = next(link for link in theory.links if link.id == chosen)
            return ui.p(link_citation(theory, link), id="citation-text")

        @reactive.effect
        @reactive.event(input.scenario)
        def _apply_scenario():
            sid = input.scenario()
            scenario = next((s for s in theory.scenarios if s.id == sid), None)
            for n in controls:
                state = UNKNOWN
                if scenario is not None:
                    state = scenario.evidence.get(n, scenario.do.get(n, UNKNOWN))
                ui.update_select(f"set_{n}", selected=state)
            for n in toggled:
                ui.update_radio_buttons(f"how_{n}", selected="do" if scenario is not None and n in scenario.do else "observe")

        @reactive.effect
        @reactive.event(input.reset)
        def _reset():
            ui.update_select("scenario", selected=UNKNOWN)
            for n in controls:
                ui.update_select(f"set_{n}", selected=UNKNOWN)

    return server


def make_app(
    model: Model,
    *,
    targets: Sequence[str] | None = None,
    good_direction: Mapping[str, str] | None = None,
    n_draws: int | None = None,
    seed: int = 0,
):
    """The Shiny app for ``model`` (a priors folder's model with point values)."""
    kwargs = {} if n_draws is None else {"n_draws": n_draws}
    page = make_page(model, targets=targets, good_direction=good_direction, seed=seed, **kwargs)
    _WARMER.submit(warm, page)  # what to measure next's one plan, while the first page loads
    return App(app_ui(page), server_for(page, _controls(page)))
