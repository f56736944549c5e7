"""Shared fixtures: tiny, fast, and independent of the network."""

from __future__ import annotations

import pytest

#: The study's compositions (Zuo et al. 2026, Table in shared/paper/FACTS.md).
STUDY_FORMULAS = {
    "NZSP": "Na3Zr2Si2PO12",
    "LE": "Na3.5Zr1.5Lu0.5Si2PO12",
    "ME1": "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12",
    "ME2": "Na3.5Zr0.5Ti0.5Hf0.5Lu0.5Si2PO12",
    "HE1": "Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Ga0.1Si2PO12",
    "HE2": "Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Sc0.1Si2PO12",
}


@pytest.fixture(scope="session")
def study_formulas() -> dict[str, str]:
    return dict(STUDY_FORMULAS)
