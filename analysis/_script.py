"""What every analysis script shares: its common options, one-line errors, the output guard.

The scripts are thin layers over the public API; this keeps their preludes
in one place so each script holds only its own question.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import bayes_cmo as bc

HERE = Path(__file__).parent


def parser(doc: str, *, out: Path, out_help: str) -> argparse.ArgumentParser:
    """A script's parser with --out, --priors and --force; the script adds its own options."""
    made = argparse.ArgumentParser(description=doc.splitlines()[0])
    made.add_argument("--out", default=str(out), help=f"{out_help} (default {out.relative_to(HERE.parent)})")
    made.add_argument("--priors", default=None, help="priors folder (default: the shipped priors)")
    made.add_argument("--force", action="store_true", help="replace earlier outputs of this script")
    return made


def run(work: Callable[[argparse.Namespace], int], made: argparse.ArgumentParser, argv=None) -> int:
    """Parse, run, and print a mistake in the input as one line (exit 2), no traceback."""
    args = made.parse_args(argv)
    try:
        return work(args)
    except bc.BayesCMOError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def outputs(args: argparse.Namespace, kinds: dict[str, str], inputs) -> dict:
    """The files a script writes into --out, all checked against every input before any work."""
    return bc.plan_folder_files("--out", Path(args.out), kinds, inputs=inputs, force=args.force)


def positive(value: int, option: str, what: str, least: int = 1) -> int:
    if value < least:
        raise bc.BayesCMOError(f"{option} {value}: expected at least {least} {what}")
    return value
