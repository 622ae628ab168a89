"""bayes_cmo: a realist programme theory as a discrete Bayesian network.

The pipeline, one verb per stage, each returning a value the next takes:

    theory = load_theory()                 # priors folder -> validated Theory
    model = build_model(theory)            # judgements -> CPTs -> network (or load_model(path))
    what_if(model, "outcome", evidence={"context": "present"})
    check_claims(model)                    # does the network reproduce the paper's claims?

Importing this package does not import pgmpy (slow); the functions that need it do.
"""

from ._errors import BayesCMOError, ZeroProbabilityEvidence
from .inference import check_claims, compare_scenarios, mean_score, posterior, shift, survival, sweep, unroll, what_if
from .network import (
    Model,
    Parameters,
    build_cpts,
    build_model,
    draw_parameters,
    elicited_parameters,
    export_model,
    link_table,
    load_model,
    summary,
    to_pgmpy,
)
from .planning import best_measurements, judgement_sensitivity, sample_size, value_of_information
from .report import write_report
from .theory import Claim, Link, Node, Scenario, Theory, default_priors_path, load_theory
from .update import (
    UpdateResult,
    compare_models,
    data_conflict,
    expected_counts,
    read_cases,
    refine,
    set_link_weight,
    simulate_cases,
    update_priors,
    write_priors,
)

# issue 12 (verdicts): explaining one case, joint uncertainty, the global check
from .inference.explain import Explanation, explain
from .update.joint import JointUncertainty, joint_uncertainty
from .update.refinement import global_check

__all__ = [
    "BayesCMOError",
    "Claim",
    "Link",
    "Model",
    "Node",
    "Parameters",
    "Scenario",
    "Theory",
    "UpdateResult",
    "ZeroProbabilityEvidence",
    "best_measurements",
    "build_cpts",
    "build_model",
    "check_claims",
    "compare_models",
    "compare_scenarios",
    "data_conflict",
    "default_priors_path",
    "draw_parameters",
    "elicited_parameters",
    "expected_counts",
    "export_model",
    "judgement_sensitivity",
    "link_table",
    "load_model",
    "load_theory",
    "mean_score",
    "posterior",
    "read_cases",
    "refine",
    "sample_size",
    "set_link_weight",
    "shift",
    "simulate_cases",
    "summary",
    "survival",
    "sweep",
    "to_pgmpy",
    "unroll",
    "update_priors",
    "value_of_information",
    "what_if",
    "write_priors",
    "write_report",
    # issue 12 (verdicts)
    "Explanation",
    "JointUncertainty",
    "explain",
    "global_check",
    "joint_uncertainty",
]

# Expert elicitation: questionnaires, pooling several experts, their disagreement (bayes_cmo.elicit).
from .elicit import (  # noqa: E402
    PooledTheory,
    Questionnaire,
    answers_frame,
    check_questionnaire,
    disagreement,
    pool_experts,
    read_questionnaire,
    template_frames,
    write_feedback,
    write_pooled,
    write_template,
)

__all__ += [
    "PooledTheory",
    "Questionnaire",
    "answers_frame",
    "check_questionnaire",
    "disagreement",
    "pool_experts",
    "read_questionnaire",
    "template_frames",
    "write_feedback",
    "write_pooled",
    "write_template",
]


def __getattr__(name: str):
    # the version is read from package metadata only when asked for: importlib.metadata
    # takes longer to import than a query takes to answer
    if name == "__version__":
        from ._version import __version__

        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
