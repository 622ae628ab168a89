"""Errors a user can cause. The CLI prints these as one line and exits non-zero."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BayesCMOError(ValueError):
    """A mistake in the user's input: files, evidence, arguments.

    The message is one line and names the file, row or key, what was
    expected, and (for near misses) the likely intended value.
    """


class ZeroProbabilityEvidence(BayesCMOError):
    """The findings cannot occur together under the model."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """"; did you mean 'x'?" for a near miss, else ''.

    Tries, in order: a different capitalisation, the one choice that contains
    the word (``legal`` -> ``legal_basis``), then the closest spelling.
    """
    word, choices = str(word), [str(c) for c in choices]
    lowered = [c for c in choices if c.lower() == word.lower()]
    containing = [c for c in choices if word and word.lower() in c.lower()]
    if lowered:
        match = lowered
    elif len(containing) == 1 and len(word) >= 3:
        match = containing
    else:
        match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""
