"""Parameter checks with one message shape: ``NAME: expected WHAT, got VALUE[; hint]``.

The library calls these with the keyword's name (``level``); the CLI uses the
same functions as argparse ``type=`` converters (:func:`option`), so
``--level 2`` and ``level=2`` are refused in the same words. Findings (node =
state) are checked here too, once, for every verb and the priors loader.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._errors import BayesCMOError, did_you_mean

#: File suffixes a figure can be saved as.
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


class InvalidParameter(BayesCMOError):
    """A parameter outside its range; ``body`` is the message without the name (for argparse)."""

    def __init__(self, name: str, body: str):
        super().__init__(f"{name}: {body}")
        self.name, self.body = name, body


def _shown(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if hasattr(value, "__class__") and not isinstance(value, (str, Path)) and type(value).__module__ != "builtins":
        try:
            return f"{float(value):g}"  # numpy scalars
        except (TypeError, ValueError):
            return type(value).__name__
    return repr(str(value))


def fail(name: str, expected: str, value: Any, hint: str = "") -> InvalidParameter:
    """The one message shape; raise the result."""
    return InvalidParameter(name, f"expected {expected}, got {_shown(value)}{hint}")


def _real(value: Any) -> float | None:
    """A finite real number, or None (bools and text are not numbers)."""
    if isinstance(value, (bool, str)) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _percent_hint(number: float | None) -> str:
    return f"; did you mean {number / 100:g}?" if number is not None and 1.0 < number < 100.0 else ""


def level(value: Any, name: str = "level") -> float:
    """A credible level strictly between 0 and 1 (a percentage gets a did-you-mean)."""
    number = _real(value)
    if number is None or not 0.0 < number < 1.0:
        hint = _percent_hint(number) if number is not None and number >= 50 else ""
        raise fail(name, "a number between 0 and 1 (exclusive)", value, hint)
    return number


def fraction(value: Any, name: str, *, one: str = "") -> float:
    """A share in [0, 1): ``one`` explains why 1 itself is refused."""
    number = _real(value)
    if number is None or not 0.0 <= number < 1.0:
        hint = _percent_hint(number) or (f" ({one})" if number == 1.0 and one else "")
        raise fail(name, "a fraction at least 0 and below 1", value, hint)
    return number


def integer(value: Any, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer in [minimum, maximum] (``minimum=1``: a positive integer)."""
    ok = not isinstance(value, bool) and _real(value) is not None and float(value).is_integer()
    number = int(value) if ok else None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        if maximum is not None:
            what = f"an integer from {minimum} to {maximum}"
        elif minimum == 1:
            what = "a positive integer"
        elif minimum == 0:
            what = "0 or a positive integer"
        else:
            what = f"an integer of at least {minimum}"
        raise fail(name, what, value)
    return number


def positive(value: Any, name: str) -> float:
    """A finite number above 0."""
    number = _real(value)
    if number is None or number <= 0:
        raise fail(name, "a positive number", value)
    return number


def nonnegative(value: Any, name: str) -> float:
    """A finite number at least 0."""
    number = _real(value)
    if number is None or number < 0:
        raise fail(name, "a number at least 0", value)
    return number


def finite(value: Any, name: str) -> float:
    number = _real(value)
    if number is None:
        raise fail(name, "a finite number", value)
    return number


def choice(value: Any, name: str, options: Sequence[str]) -> str:
    """One of ``options``, with a did-you-mean."""
    if not isinstance(value, str) or value not in options:
        raise fail(name, f"one of {', '.join(options)}", value, did_you_mean(str(value), options))
    return value


def choices(values: Any, name: str, options: Sequence[str]) -> tuple[str, ...]:
    """A non-empty selection from ``options`` without repeats (a single string is one)."""
    picked = (values,) if isinstance(values, str) else tuple(values)
    if not picked or any(v not in options for v in picked) or len(set(picked)) != len(picked):
        bad = next((v for v in picked if v not in options), "")
        raise fail(name, f"one or more of {', '.join(options)}, each once", list(picked), did_you_mean(str(bad), options) if bad else "")
    return picked


def distinct(values: Any, name: str, what: str = "node") -> list:
    """A non-empty list without repeats (a single string is a list of one)."""
    items = [values] if isinstance(values, str) else list(values)
    if not items:
        raise fail(name, f"at least one {what}", items)
    if len(set(items)) != len(items):
        raise fail(name, f"each {what} once", items)
    return items


def instance(value: Any, name: str, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind):
        raise InvalidParameter(name, f"expected {what}, got {type(value).__name__}")
    return value


def figure_path(value: Any, name: str = "--plot") -> Path:
    """A file name ending in .png, .pdf or .svg."""
    path = Path(str(value))
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise fail(name, "a .png, .pdf or .svg file name", str(value))
    return path


# ---------------------------------------------------------------------------
# findings: node = state


def _suggest(node: str, nodes: Sequence[str]) -> str:
    """A did-you-mean, or for a small network with no near miss, its node list."""
    hint = did_you_mean(node, nodes)
    if not hint and len(nodes) <= 15:
        hint = f" (the network's nodes: {', '.join(nodes)})"
    return hint


def node(states: Mapping[str, Sequence[str]], value: Any, where: str) -> str:
    """A known node id, or ``WHERE: unknown node 'x'; did you mean 'y'?``."""
    if not isinstance(value, str) or value not in states:
        raise BayesCMOError(f"{where}: unknown node '{value}'{_suggest(str(value), tuple(states))}")
    return value


def state(names: Sequence[str], node_id: str, value: Any, where: str) -> str:
    """A state name of ``node_id``, or one line listing its states."""
    text = str(value)
    if text not in names:
        raise BayesCMOError(
            f"{where}: unknown state '{text}' for {node_id} (expected one of {', '.join(names)}){did_you_mean(text, names)}"
        )
    return text


def findings(states: Mapping[str, Sequence[str]], given: Mapping[str, Any] | None, where: str) -> dict[str, str]:
    """``{node: state}`` checked against ``states`` (node -> state names)."""
    if given is not None and not isinstance(given, Mapping):
        raise InvalidParameter(where, f"expected a mapping of node to state, got {type(given).__name__}")
    return {node(states, k, where): state(states[k], k, v, where) for k, v in (given or {}).items()}


# ---------------------------------------------------------------------------
# argparse


def option(check: Callable[..., Any], parse: Callable[[str], Any] = float, **kwargs: Any) -> Callable[[str], Any]:
    """An argparse ``type=`` converter from a check above: the same words as the library.

    ``parse`` turns the text into a number first (``float``, ``int`` or ``str``);
    text that does not parse is reported by the check itself.
    """

    def convert(text: str) -> Any:
        try:
            value: Any = parse(text)
        except (TypeError, ValueError):
            value = text
        try:
            return check(value, "value", **kwargs)
        except InvalidParameter as exc:
            raise argparse.ArgumentTypeError(exc.body) from None

    convert.__name__ = getattr(check, "__name__", "value")
    return convert


def parse_int(text: str) -> int | str:
    """``int`` for argparse converters: '3' -> 3, '3.5' stays a float (refused by the check)."""
    number = float(text)
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def as_list(values: Iterable[Any] | Any) -> list:
    return [values] if isinstance(values, str) else list(values)


def point_values(batch_size: int | None, name: str = "model") -> None:
    """Refuse a model carrying parameter draws where point values are needed."""
    if batch_size is not None:
        raise InvalidParameter(name, f"expected point values, got {batch_size} parameter draws (use the model without with_draws)")
