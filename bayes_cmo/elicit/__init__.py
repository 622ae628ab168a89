"""Expert elicitation: questionnaires built from the programme theory, several experts pooled, their disagreement shown.

    write_template(theory, "expert_a.xlsx", expert="A")     # drop-downs, the paper's sentence per question
    check_questionnaire("expert_a.xlsx", theory)            # every problem, one line each
    pooled = pool_experts(["a.xlsx", "b.xlsx", "c.xlsx"], theory)
    write_pooled(pooled, "priors_pooled")                   # a priors folder with provenance.yaml
    disagreement(pooled)                                    # most contested judgements first
    write_feedback(pooled, expert="A", out="a_round2.xlsx") # IDEA second round

openpyxl and seaborn are imported only by the functions that write or draw.
"""

from .answers import BaselineAnswer, LinkAnswer, Questionnaire, QuestionnaireError, check_questionnaire, read_questionnaire
from .plots import disagreement_heatmap
from .pool import METHOD, MIN_ESS, PooledTheory, dirichlet_pool, mixture_moments, pool_experts, read_weights, write_pooled
from .questions import BaselineQuestion, LinkQuestion, baseline_questions, link_questions, reference_case
from .report import answers_frame, disagreement, feedback_frames, write_disagreement, write_feedback
from .template import template_frames, write_template

__all__ = [
    "METHOD",
    "MIN_ESS",
    "BaselineAnswer",
    "BaselineQuestion",
    "LinkAnswer",
    "LinkQuestion",
    "PooledTheory",
    "Questionnaire",
    "QuestionnaireError",
    "answers_frame",
    "baseline_questions",
    "check_questionnaire",
    "dirichlet_pool",
    "disagreement",
    "disagreement_heatmap",
    "feedback_frames",
    "link_questions",
    "mixture_moments",
    "pool_experts",
    "read_questionnaire",
    "read_weights",
    "reference_case",
    "template_frames",
    "write_disagreement",
    "write_feedback",
    "write_pooled",
    "write_template",
]
