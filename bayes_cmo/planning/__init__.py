"""Stage 6 — evaluation planning: what to measure next, which judgements matter, how many cases."""

from .sample_size import sample_size
from .sensitivity import judgement_sensitivity
from .voi import best_measurements, value_of_information

__all__ = ["best_measurements", "judgement_sensitivity", "sample_size", "value_of_information"]
