"""serve: the what-if page in a browser (Shiny for Python, the ``app`` extra)."""

from __future__ import annotations

import argparse
import sys

from .._errors import BayesCMOError
from ..network.model import load_model
from . import _common


def register(subparsers) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="a local web page for what-if questions: click a context, watch the outcomes move",
        description=(
            "Start a local web app (on this computer only) where the contexts of the theory are controls, "
            "grouped as the paper groups them; it shows the headline outcomes with credible intervals on the "
            "change from the baseline, what to measure next, and the network with each link's citation. "
            "Needs the app extra: pip install '.[app]'. Example: bayes-cmo serve --port 8050"
        ),
    )
    _common.add_model(serve)
    serve.add_argument("--port", type=int, default=8050, metavar="N", help="port on 127.0.0.1 (default 8050)")
    serve.add_argument(
        "--draws", type=int, default=400, metavar="N",
        help="parameter draws behind the intervals (default 400; more is slower per click)",
    )
    serve.add_argument("--seed", type=int, default=0, help="random seed for the draws (default 0)")
    _common.add_good(serve)
    serve.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise BayesCMOError(f"--port must be from 1 to 65535, got {args.port}")
    if args.draws < 2:
        raise BayesCMOError(f"--draws must be at least 2: the page shows every answer with an interval (got {args.draws})")
    if args.seed < 0:
        raise BayesCMOError(f"--seed must be 0 or a positive integer, got {args.seed}")
    good = _common.parse_findings(args.good, "--good") or None
    try:
        import shiny
    except ImportError:
        raise BayesCMOError("serve needs the app extra (Shiny for Python): pip install 'bayes_cmo[app]'") from None
    from ..app.page import make_app

    model = load_model(args.model)
    app = make_app(model, good_direction=good, n_draws=args.draws, seed=args.seed)
    print(f"serving the what-if page on http://127.0.0.1:{args.port}/ (Ctrl-C to stop)", file=sys.stderr)
    shiny.run_app(app, host="127.0.0.1", port=args.port, launch_browser=False, log_level="warning")
    return 0
