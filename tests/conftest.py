"""Shared fixtures: the toy theory, the shipped priors, and a writable copy of a priors folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bayes_cmo import build_model, load_model, load_theory

TOY = Path(__file__).parent / "data" / "toy"
REPO_PRIORS = Path(__file__).parents[1] / "priors"


@pytest.fixture(scope="session")
def toy_path() -> Path:
    return TOY


@pytest.fixture(scope="session")
def toy_theory():
    return load_theory(TOY)


@pytest.fixture(scope="session")
def toy_model(toy_theory):
    return build_model(toy_theory)


@pytest.fixture(scope="session")
def default_theory():
    return load_theory()


@pytest.fixture(scope="session")
def default_model():
    return load_model()


@pytest.fixture()
def toy_copy(tmp_path) -> Path:
    """A writable copy of the toy priors, for tests that break a file."""
    dest = tmp_path / "toy"
    shutil.copytree(TOY, dest)
    return dest
