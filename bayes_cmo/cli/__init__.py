"""The ``bayes-cmo`` command line: a thin layer over the public Python API.

Each verb group lives in its own module with ``register(subparsers)``; a user's
mistake (:class:`BayesCMOError`) prints one line and exits 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from .._errors import BayesCMOError, did_you_mean

#: Verb groups, in the order ``--help`` lists them, each with the verbs its ``register`` adds: a
#: command line imports only the group of its verb (tests/test_cli_start.py checks this index
#: against what each ``register`` adds), so ``bayes-cmo VERB`` pays for no other verb's stack.
VERB_MODULES: dict[str, tuple[str, ...]] = {
    "model_verbs": ("check", "query", "export", "links", "rounds"),
    "whatif_verbs": ("shift", "sweep", "scenarios"),
    "plan_verbs": ("plan",),
    "update_verbs": ("update", "simulate", "compare"),
    "report_verbs": ("report",),
    "serve_verbs": ("serve",),
    "elicit_verbs": ("elicit",),
    "explain_verbs": ("explain",),
}
_GROUP = {verb: module for module, verbs in VERB_MODULES.items() for verb in verbs}


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


def build_parser(verb: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser; with ``verb``, only that verb's group is registered (imported)."""
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
    for name in VERB_MODULES:
        if verb is None or _GROUP.get(verb) == name:
            importlib.import_module(f".{name}", __name__).register(subparsers)
    return parser


def _one_blas_thread() -> None:
    """One OpenBLAS thread for a command that has not loaded numpy yet (a setting of the user's stays).

    No verb multiplies large matrices (the engine contracts with numpy's own
    einsum; the tables' products are small); OpenBLAS still starts a thread per
    core when numpy loads, and the idle one spins: about 0.07 s of CPU per
    command, a tenth of a 1,000-draw sweep's.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEEP_BELOW = 2**30  # bytes: arrays up to this size come from (and go back to) the process's own heap


#: Verbs that keep running: their memory should go back to the system after a large query.
_SERVERS = frozenset({"serve"})


def _keep_freed_memory() -> None:
    """Let glibc's malloc reuse the memory a command frees instead of giving it back to the system.

    Work over many draws runs block by block, each block's tables and
    intermediates the size of the last's (tens of MB). By default glibc maps
    each such array afresh and unmaps it when freed, so every block pays the
    first touch of new pages again (a 1,000-draw sweep command: 0.95x the CPU
    with this). A command's memory then stays at its peak until it exits,
    which it reaches anyway; so not for a server (``_SERVERS``), whose
    memory goes back after a large query. Elsewhere than glibc: nothing.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _KEEP_BELOW)
    mallopt(_M_TRIM_THRESHOLD, _KEEP_BELOW)


def main(argv: Sequence[str] | None = None) -> int:
    _one_blas_thread()
    argv = sys.argv[1:] if argv is None else list(argv)
    # a known verb first: build (and import) its group only; anything else gets the whole parser
    parser = build_parser(argv[0] if argv and argv[0] in _GROUP else None)
    try:
        _check_names(parser, argv)
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.verb not in _SERVERS:
        _keep_freed_memory()
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
