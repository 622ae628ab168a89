"""The task runner: the same numbers in-process, on local processes and on a Dask cluster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayes_cmo._errors import BayesCMOError
from bayes_cmo._runner import Runner, spawn_seeds


def _draw(seed: np.random.SeedSequence) -> float:
    return float(np.random.default_rng(seed).normal(size=1000).mean())


def _flaky(argument: tuple[Path, np.random.SeedSequence]) -> int:
    """Fails the first time it runs for a marker file, then succeeds."""
    marker, seed = argument
    if not marker.exists():
        marker.write_text("failed once")
        raise RuntimeError("first attempt fails")
    return int(np.random.default_rng(seed).integers(1_000_000))


def _always_fails(argument) -> None:
    raise ValueError("broken task")


def test_seeds_are_spawned_by_task_index():
    a, b = spawn_seeds(7, 3), spawn_seeds(7, 5)
    assert [s.spawn_key for s in a] == [(0,), (1,), (2,)]
    assert [_draw(s) for s in a] == [_draw(s) for s in b[:3]]


def test_local_processes_give_the_serial_numbers():
    seeds = spawn_seeds(11, 6)
    serial = Runner().map(_draw, seeds)
    assert serial == [_draw(s) for s in seeds]
    assert Runner(jobs=2).map(_draw, seeds) == serial


def test_failed_task_is_retried_once(tmp_path, capsys):
    seeds = spawn_seeds(3, 2)
    arguments = [(tmp_path / f"m{i}", s) for i, s in enumerate(seeds)]
    got = Runner().map(_flaky, arguments)
    assert got == [int(np.random.default_rng(s).integers(1_000_000)) for s in seeds]
    assert "retrying once" in capsys.readouterr().err


def test_task_failing_twice_names_task_and_seed():
    with pytest.raises(BayesCMOError, match=r"study: task 0 failed twice \(seed entropy 5, spawn key \(0,\)\).*broken task; nothing was written"):
        Runner().map(_always_fails, spawn_seeds(5, 3), desc="study")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"jobs": 0}, "jobs: expected a positive integer, got 0"),
        ({"jobs": 2, "cluster": "local:2"}, "give one of them"),
        ({"cluster": "local:x"}, "local:N"),
        ({"cluster": "nowhere"}, "neither 'local:N' nor a scheduler address"),
    ],
)
def test_bad_runner_settings(kwargs, message):
    with pytest.raises(BayesCMOError, match=message):
        Runner(**kwargs)


def test_local_dask_cluster_gives_the_serial_numbers():
    pytest.importorskip("distributed", reason="Dask is an optional extra: pip install '.[cluster]'")
    seeds = spawn_seeds(11, 6)
    assert Runner(cluster="local:2").map(_draw, seeds) == Runner().map(_draw, seeds)


def test_dask_task_failing_twice_is_one_line():
    pytest.importorskip("distributed", reason="Dask is an optional extra: pip install '.[cluster]'")
    with pytest.raises(BayesCMOError, match=r"task 0 failed twice.*ValueError: broken task"):
        Runner(cluster="local:1").map(_always_fails, spawn_seeds(5, 1), desc="study")


@pytest.mark.slow
def test_a_seeded_plan_is_bit_identical_across_processes_hash_seeds_and_jobs(tmp_path):
    """Same seed, same digits: a str's hash changes per process, so nothing may hang on set order (was 2e-11 off)."""
    import os
    import subprocess
    import sys

    cli = "import sys; from bayes_cmo.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", cli, "plan", "sample-size", "--n", "10", "--replicates", "2", "--json", "--quiet"]
    runs = [subprocess.run([*argv, "--jobs", jobs], capture_output=True, text=True, check=True, cwd=tmp_path,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for jobs, seed in (("1", "1"), ("2", "2"))]
    assert runs[0] == runs[1] and '"p_sign_correct"' in runs[0]
