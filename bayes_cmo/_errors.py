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
    if not isinstance(word, (str, int, float)):
        return ""  # a list or mapping where a name belongs: no near miss to offer (and never expand it)
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



def bounded(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for a message.

    Built with :mod:`reprlib`, so a huge or alias-shared structure (a YAML
    "billion laughs") is never expanded in full just to be shown.
    """
    import reprlib

    shown = reprlib.Repr()
    shown.maxlevel, shown.maxdict, shown.maxlist, shown.maxtuple, shown.maxset = 3, 6, 6, 6, 6
    shown.maxstring = shown.maxother = shown.maxlong = limit
    text = shown.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
