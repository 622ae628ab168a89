"""The ``bayes-cmo`` command line: a thin layer over the public Python API.

Each verb group lives in its own module with ``register(subparsers)``; a user's
mistake (:class:`BayesCMOError`) prints one line and exits 2, no traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from .._errors import BayesCMOError
from . import model_verbs, plan_verbs, update_verbs, whatif_verbs

#: Verb groups, in the order ``--help`` lists them.
VERB_MODULES = [model_verbs, whatif_verbs, plan_verbs, update_verbs]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    args = parser.parse_args(argv)
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
