from __future__ import annotations

import pytest
from _neb_helpers import nzsp_structure


@pytest.fixture(scope="session")
def nzsp(tmp_path_factory):
    """(structure, cif path, BVSE result, reference sites) of one NZSP configuration."""
    from nasicon_sim.bvse import BVSESettings
    from nasicon_sim.neb import network_of

    structure, path = nzsp_structure(tmp_path_factory.mktemp("neb"))
    bvse, reference = network_of(structure, BVSESettings(spacing_A=0.3))
    return structure, path, bvse, reference
