"""The task runner on one study: serial, 2 local processes (joblib/loky), a 2-worker Dask LocalCluster.

    python benchmarks/cluster.py [--model tests/data/toy] [--fit full] [--link all] [--n 20 80] [--replicates 8]
                                 [--repeats 3] [--em-cost PRIORS] [--em-n 10 20 50 100 200] [--em-repeats 2]

Part 1 runs the same sample-size plan (default: every link of the toy theory,
full-EM fit) ``--repeats`` times on each runner, interleaved, and prints per
runner the median wall time, the speed-up over serial, and the overhead per
task (((wall - start-up) x workers - serial wall) / tasks: what dispatching
and pickling cost on top of the work). Every run must give the serial table
to 1e-8 (checked; the largest difference is printed: bit-identical on the
toy theory, within 1e-10 on the shipped priors). The Dask wall time includes starting and closing its LocalCluster,
as a ``--cluster local:2`` command does (start-up: the median wall time of a
one-trivial-task study, also printed); the loky pool is started once (its
start-up printed) and reused, as in one Python session.

Part 2 (``--em-cost PRIORS``, e.g. ``default``) times one full-EM task of the
all-links design on those priors at each ``--em-n`` study size (one EM per
replicate and size serves every link), the median of ``--em-repeats``, for the
worked estimate of the README. The load average is printed with each part:
the machine is shared, so compare ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import bayes_cmo as bc
from bayes_cmo._runner import Runner, spawn_seeds
from bayes_cmo.planning.sample_size import _full_task, _Study, plannable_links, sample_size

TOY = Path(__file__).resolve().parent.parent / "tests" / "data" / "toy"


def load() -> str:
    return "load average " + ", ".join(f"{v:.1f}" for v in os.getloadavg())


def _warm(seed) -> int:
    """A trivial task that imports what a study's tasks import (a fresh worker pays this once)."""
    import bayes_cmo.planning.sample_size  # noqa: F401
    import bayes_cmo.update.em  # noqa: F401

    return 0


def startup(where: dict) -> float:
    """Wall time of a study of one trivial task: starting the workers and their imports (loky: once; Dask: every run)."""
    start = time.perf_counter()
    Runner(**where).map(_warm, spawn_seeds(0, 1))
    return time.perf_counter() - start


def part_runners(args) -> None:
    model = bc.load_model(args.model)
    kwargs = dict(n=args.n, replicates=args.replicates, fit=args.fit, seed=0)
    tasks = args.replicates * (len(args.n) if args.fit == "full" else 1)
    runners = {"serial": dict(jobs=1), "jobs=2": dict(jobs=2), "cluster local:2": dict(cluster="local:2")}
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("Dask not installed: the LocalCluster row is left out (pip install '.[cluster]')")
        runners.pop("cluster local:2")
    starts = {name: startup(where) for name, where in runners.items()}
    starts["cluster local:2"] = statistics.median([startup(runners["cluster local:2"]) for _ in range(2)]) if "cluster local:2" in runners else 0
    times = {name: [] for name in runners}
    reference, worst = None, {}
    print(f"{args.model}: sample size, link {args.link}, {args.fit} fit, n = {args.n}, {args.replicates} replicates "
          f"= {tasks} tasks; {args.repeats} repeats interleaved; {load()}")
    for repeat in range(args.repeats):
        for name, where in runners.items():
            start = time.perf_counter()
            table = sample_size(model, args.link, **kwargs, **where)
            times[name].append(time.perf_counter() - start)
            if reference is None:
                reference = table
            numbers = reference.select_dtypes("number").columns
            worst[name] = max(worst.get(name, 0.0), float((table[numbers] - reference[numbers]).abs().max().max()))
            assert worst[name] < 1e-8, f"{name} gave another table (largest difference {worst[name]:.1e})"
        print(f"  repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
    serial = statistics.median(times["serial"])
    print(f"{'runner':<16} {'median s':>9} {'speed-up':>9} {'s/task':>8} {'overhead s/task':>16} {'start-up s':>11} "
          f"{'speed-up past start-up':>23}")
    for name, values in times.items():
        wall = statistics.median(values)
        workers = 1 if name == "serial" else 2
        fixed = starts[name] if name == "cluster local:2" else 0.0  # the loky pool is reused after its first start
        overhead = ((wall - fixed) * workers - serial) / tasks
        print(f"{name:<16} {wall:>9.2f} {serial / wall:>8.2f}x {wall / tasks:>8.3f} {overhead:>16.3f} {starts[name]:>11.2f} "
              f"{serial / max(wall - fixed, 1e-9):>22.2f}x")
    print("largest difference from the serial table: " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()) + f"; {load()}")


def part_em_cost(args) -> None:
    theory = bc.load_model(args.em_cost).theory
    links = tuple(plannable_links(theory))
    grid = tuple(sorted(args.em_n))
    study = _Study(theory, theory, links, grid, tuple(theory.order()), 0.3, "elicited", "full")
    seed = spawn_seeds(0, 1)[0]
    print(f"\n{args.em_cost}: one full-EM task of the all-links design ({len(links)} links, 30% blanks) per study size; "
          f"median of {args.em_repeats}; {load()}")
    costs = {}
    for size in grid:
        values = []
        for _ in range(args.em_repeats):
            start = time.perf_counter()
            _full_task((study, seed, size))
            values.append(time.perf_counter() - start)
        costs[size] = statistics.median(values)
        print(f"  n = {size:>4}: {costs[size]:.2f} s per task", flush=True)
    per_replicate = sum(costs.values())
    for replicates in (200,):
        total = per_replicate * replicates
        print(f"design: {len(links)} links x {len(grid)} sizes x {replicates} replicates = {len(grid) * replicates} EM tasks "
              f"(one EM per replicate and size serves every link): {total / 3600:.2f} h on 1 worker, "
              f"{total / 100 / 60:.1f} min of work per worker on 100 (+ dispatch); "
              f"one EM per link instead: {total * len(links) / 3600:.1f} h on 1 worker")
    print(load())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(TOY))
    parser.add_argument("--link", default="all")
    parser.add_argument("--fit", default="full", choices=("family", "full"))
    parser.add_argument("--n", type=int, nargs="+", default=[20, 80])
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--em-cost", metavar="PRIORS", help="also time one full-EM task on these priors (e.g. default)")
    parser.add_argument("--em-n", type=int, nargs="+", default=[10, 20, 50, 100, 200])
    parser.add_argument("--em-repeats", type=int, default=2, help="repeats per size in part 2 (default 2)")
    parser.add_argument("--skip-runners", action="store_true", help="only part 2")
    args = parser.parse_args()
    if not args.skip_runners:
        part_runners(args)
    if args.em_cost:
        part_em_cost(args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
