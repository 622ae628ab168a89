"""The ``bayes-cmo`` command line: a thin layer over the public Python API.

Each verb group lives in its own module with ``register(subparsers)``; a user's
mistake (:class:`BayesCMOError`) prints one line and exits 2, no traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from .._errors import BayesCMOError, did_you_mean
from . import explain_verbs
from . import model_verbs
from . import plan_verbs
from . import report_verbs
from . import serve_verbs
from . import elicit_verbs
from . import update_verbs
from . import whatif_verbs

#: Verb groups, in the order ``--help`` lists them.
VERB_MODULES = [model_verbs, whatif_verbs, plan_verbs, update_verbs, report_verbs, serve_verbs, elicit_verbs, explain_verbs]


class _UsageError(Exception):
    """A command-line mistake argparse found; printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (with where to look) instead of the usage block."""

    def error(self, message: str):  # noqa: D102 - argparse API
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _check_names(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Unknown verbs and options, with a did-you-mean, before argparse reports something less helpful.

    (A misspelt ``--targt`` would otherwise surface as "--target is required".)
    """
    i = 0
    while (sub := _subparsers(parser)) is not None:
        while i < len(argv) and argv[i] in ("-h", "--help"):
            return
        if i >= len(argv) or argv[i].startswith("-"):
            return  # argparse names the missing verb
        verb = argv[i]
        if verb not in sub.choices:
            raise _UsageError(
                f"{parser.prog}: error: unknown verb '{verb}'{did_you_mean(verb, sub.choices)} "
                f"(choose from {', '.join(sub.choices)})"
            )
        parser, i = sub.choices[verb], i + 1
    options = [s for action in parser._actions for s in action.option_strings if s.startswith("--")]
    for token in argv[i:]:
        if token == "--":
            break
        name = token.split("=", 1)[0]
        if token.startswith("--") and len(name) > 2 and not any(o.startswith(name) for o in options):
            raise _UsageError(
                f"{parser.prog}: error: unknown option '{name}'{did_you_mean(name, options)} "
                f"(see '{parser.prog} --help')"
            )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bayes-cmo",
        description=(
            "Reason in numbers with a realist programme theory: context-mechanism-outcome (CMO) "
            "configurations as a discrete Bayesian network. Every verb takes --model (a priors "
            "folder, or a BIF / XMLBIF / NET / XDSL network file; default: the shipped priors)."
        ),
        epilog="Run 'bayes-cmo VERB --help' for a verb's options.",
    )
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for module in VERB_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        _check_names(parser, argv)
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return int(args.run(args) or 0)
    except BayesCMOError as exc:
        print(f"bayes-cmo {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    except KeyboardInterrupt:
        print("bayes-cmo: interrupted", file=sys.stderr)
        return 130
