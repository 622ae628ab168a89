"""Stage 6 — evaluation planning: what to measure next, which judgements matter, how many cases, replicate studies."""

from .sample_size import cases_needed, sample_size
from .sensitivity import judgement_sensitivity
from .studies import calibration_study, coverage, flag_rates, null_study
from .voi import best_measurements, value_of_information

__all__ = [
    "best_measurements",
    "calibration_study",
    "cases_needed",
    "coverage",
    "flag_rates",
    "judgement_sensitivity",
    "null_study",
    "sample_size",
    "value_of_information",
]
