"""bayes_cmo: a realist programme theory as a discrete Bayesian network.

The pipeline, one verb per stage, each returning a value the next takes:

    theory = load_theory()                 # priors folder -> validated Theory
    model = build_model(theory)            # judgements -> CPTs -> network (or load_model(path))
    what_if(model, "outcome", evidence={"context": "present"})
    check_claims(model)                    # does the network reproduce the paper's claims?

Importing this package imports nothing else: each public name is imported from its stage on
first use (PEP 562), so a command pays only for the stages it runs.
"""

from __future__ import annotations

import importlib

#: Every public name, by the module that defines it (imported on first use).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "._errors": ("BayesCMOError", "ZeroProbabilityEvidence"),
    "._outputs": ("check_output", "plan_folder_files"),  # the one output guard, for scripts
    ".inference": ("check_claims", "compare_scenarios", "mean_score", "posterior", "shift", "survival", "sweep", "unroll", "what_if"),
    ".network": ("Model", "Parameters", "build_cpts", "build_model", "draw_parameters", "elicited_parameters", "export_model", "link_table", "load_model", "summary", "to_pgmpy"),
    ".planning": ("best_measurements", "judgement_sensitivity", "sample_size", "value_of_information"),
    ".report": ("write_report",),
    ".theory": ("Claim", "Link", "Node", "Scenario", "Theory", "default_priors_path", "load_theory"),
    ".update": ("UpdateResult", "compare_models", "data_conflict", "expected_counts", "read_cases", "refine", "set_link_weight", "simulate_cases", "update_priors", "write_priors"),
    ".inference.explain": ("Explanation", "explain"),
    ".update.joint": ("JointUncertainty", "joint_uncertainty"),
    ".update.refinement": ("global_check",),
    ".elicit": ("PooledTheory", "Questionnaire", "answers_frame", "check_questionnaire", "disagreement", "pool_experts", "read_questionnaire", "template_frames", "write_feedback", "write_pooled", "write_template"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
#: The stages, importable as attributes (``bayes_cmo.inference``) like an eager package's.
_STAGES = frozenset({"theory", "engine", "network", "inference", "update", "planning", "elicit", "plots", "report", "app", "cli"})

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    # the version is read from package metadata only when asked for: importlib.metadata
    # takes longer to import than a query takes to answer
    if name == "__version__":
        from ._version import __version__

        return __version__
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    elif name in _STAGES:
        value = importlib.import_module("." + name, __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | {"__version__"})
