"""bayes_cmo: a realist programme theory as a discrete Bayesian network.

The pipeline, one verb per stage, each returning a value the next takes:

    theory = load_theory()                 # priors folder -> validated Theory
    model = build_model(theory)            # judgements -> CPTs -> network (or load_model(path))
    what_if(model, "synergy", {"legal_agreements": "present"})
    check_claims(model)                    # does the network reproduce the paper's claims?

Importing this package does not import pgmpy (slow); the functions that need it do.
"""

from ._errors import BayesCMOError, ZeroProbabilityEvidence
from .cases import read_cases
from .claims import check_claims
from .describe import link_table, summary
from .elicitation import Parameters, build_cpts, draw_parameters, elicited_parameters
from .inference import mean_score, posterior, what_if
from .network import Model, build_model, export_model, load_model, to_pgmpy
from .priors_io import write_priors
from .refinement import compare_models, data_conflict, refine
from .report import write_report
from .rounds import survival, unroll
from .sample_size import sample_size
from .sensitivity import judgement_sensitivity
from .shift import compare_scenarios, shift, sweep
from .simulate import set_link_weight, simulate_cases
from .theory import Claim, Link, Node, Scenario, Theory, default_priors_path, load_theory
from .update import UpdateResult, expected_counts, update_priors
from .voi import best_measurements, value_of_information

__version__ = "0.1.0"

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
]
