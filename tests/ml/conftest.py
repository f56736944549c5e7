"""Fixtures of the ML tests: the shipped datasets and fitted models, built once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def literature():
    from nasicon_sim.ml.dataset import load_literature

    return load_literature()


@pytest.fixture(scope="session")
def ouyang():
    from nasicon_sim.ml.ouyang import load_ouyang2021

    return load_ouyang2021()


@pytest.fixture(scope="session")
def stability_model():
    from nasicon_sim.ml.prediction import default_stability_model

    return default_stability_model()


@pytest.fixture(scope="session")
def default_model():
    from nasicon_sim.ml.prediction import default_model

    return default_model()


@pytest.fixture()
def write_csv(tmp_path):
    """Write a CSV given as text (first line = header) and return its path."""
    counter = iter(range(1000))

    def _write(text: str, name: str | None = None):
        path = tmp_path / (name or f"table{next(counter)}.csv")
        path.write_text(text)
        return path

    return _write
