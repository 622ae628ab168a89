"""The command line imports only the verb group a command names, and that index is complete."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys

import pytest

from bayes_cmo import cli


@pytest.mark.parametrize("module", list(cli.VERB_MODULES))
def test_the_verb_index_is_what_each_group_registers(module):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(f"bayes_cmo.cli.{module}").register(sub)
    assert tuple(sub.choices) == cli.VERB_MODULES[module]


def test_one_verb_builds_only_its_group_and_the_whole_parser_has_every_verb():
    every = [v for verbs in cli.VERB_MODULES.values() for v in verbs]
    assert list(cli._subparsers(cli.build_parser()).choices) == every
    assert list(cli._subparsers(cli.build_parser("sweep")).choices) == ["shift", "sweep", "scenarios"]


def _loaded_after(argv: list[str]) -> set[str]:
    code = (
        "import sys, contextlib, io\n"
        "from bayes_cmo.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    try: main({argv!r})\n"
        "    except SystemExit: pass\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(('bayes_cmo.', 'scipy', 'pgmpy', 'matplotlib', 'pandas.')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.strip().split(","))


def test_a_query_loads_no_other_verb_and_no_scipy_pgmpy_or_matplotlib():
    loaded = _loaded_after(["query", "--target", "synergy"])
    assert "bayes_cmo.inference.whatif" in loaded  # the scan sees what it judges
    others = {m for m in loaded if m.startswith("bayes_cmo.cli.") and m not in ("bayes_cmo.cli._common", "bayes_cmo.cli.model_verbs")}
    assert not others, others
    heavy = {m for m in loaded if m.split(".")[0] in ("scipy", "pgmpy", "matplotlib")}
    assert not heavy, heavy
    assert not {m for m in loaded if m.startswith(("bayes_cmo.update", "bayes_cmo.planning", "bayes_cmo.report", "bayes_cmo.elicit"))}


def test_a_json_sweep_never_imports_pandas():
    """JSON alone is written from the sweep's columns: pandas' start-up is most of a sweep command's imports."""
    loaded = _loaded_after(["sweep", "--json", "--draws", "5", "--target", "synergy", "--target", "dissolution"])
    assert "bayes_cmo.inference.shift" in loaded
    assert not {m for m in loaded if m.startswith("pandas.")}
    # a table for the terminal does need it (the scan sees pandas when it is there)
    assert "pandas.core.frame" in _loaded_after(["sweep", "--draws", "5", "--target", "synergy", "--top", "2"])


def test_a_verbs_help_loads_only_its_group():
    loaded = _loaded_after(["update", "--help"])
    assert "bayes_cmo.cli.update_verbs" in loaded
    assert not {m for m in loaded if m.startswith("bayes_cmo.cli.") and m.endswith("_verbs") and m != "bayes_cmo.cli.update_verbs"}


def _blas_threads_after_a_command(env_value: str | None) -> tuple[str | None, list[int]]:
    """OPENBLAS_NUM_THREADS and OpenBLAS's own thread counts (read by threadpoolctl) in a process that ran a command."""
    import os

    code = (
        "import contextlib, io, os\n"
        "from bayes_cmo.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['query', '--target', 'synergy'])\n"
        "from threadpoolctl import threadpool_info\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'))\n"
        "print(','.join(str(i['num_threads']) for i in threadpool_info() if i['internal_api'] == 'openblas'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if env_value is not None:
        env["OPENBLAS_NUM_THREADS"] = env_value
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    setting, counts = out.stdout.strip().split("\n")
    return setting, [int(n) for n in counts.split(",") if n]


def test_a_command_runs_one_openblas_thread_unless_the_user_set_the_count():
    """No verb multiplies large matrices; OpenBLAS's idle threads would only spin (CPU, not wall time)."""
    setting, counts = _blas_threads_after_a_command(None)
    assert setting == "1"
    assert all(n == 1 for n in counts)  # where numpy's BLAS is OpenBLAS (pip's wheels): one thread
    assert _blas_threads_after_a_command("2")[0] == "2"  # the user's setting stays


def _page_faults_of_a_second_block(keep: bool) -> int:
    """Minor page faults while a freed 64 MB array's successor is filled (a block after a block)."""
    code = (
        "import resource, numpy as np\n"
        "from bayes_cmo import cli\n"
        f"if {keep}: cli._keep_freed_memory()\n"
        "a = np.ones(2**23); del a\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "b = np.ones(2**23)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)"
    )
    env = {**os.environ, "NUMPY_MADVISE_HUGEPAGE": "0"}  # 4 KiB pages: the count is exact
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_command_reuses_the_memory_a_block_frees():
    """By default glibc unmaps a freed large array, and the next block touches new pages again."""
    assert _page_faults_of_a_second_block(False) > 10_000  # 64 MiB of 4 KiB pages afresh
    assert _page_faults_of_a_second_block(True) < 1_000  # the same memory again


def test_a_server_gives_freed_memory_back_and_other_verbs_keep_it(monkeypatch, capsys):
    from bayes_cmo.cli import serve_verbs

    kept = []
    monkeypatch.setattr(cli, "_keep_freed_memory", lambda: kept.append(True))
    monkeypatch.setattr(serve_verbs, "run_serve", lambda args: 0)  # no server started
    assert cli.main(["serve"]) == 0 and kept == []
    assert cli.main(["check"]) == 0 and kept == [True]
