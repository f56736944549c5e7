"""softBV parameter tables: transcription checked against bvlain's own pickles (the oracle)."""

from __future__ import annotations

import pickle
from importlib import resources
from pathlib import Path

import bvlain
import pytest

from nasicon_sim.bvse import params
from nasicon_sim.errors import ParameterError

BVLAIN_DATA = Path(bvlain.__file__).parent / "data"


def _pickle(name):
    with (BVLAIN_DATA / name).open("rb") as fh:
        return pickle.load(fh)


def test_every_pair_equals_bvlain_pickles():
    from ase.data import chemical_symbols

    tables = params.load_tables()
    cation = _pickle("cation.pkl")
    n = 0
    for z, by_val in cation.items():
        for val, by_counter in by_val.items():
            for zc, by_cval in by_counter.items():
                for cval, p in by_cval.items():
                    key = (chemical_symbols[int(z)], int(val), chemical_symbols[int(zc)], int(cval))
                    pair = tables.pairs[key]
                    assert (pair.r0_A, pair.r_min_A, pair.alpha_per_A, pair.d0_eV) == (
                        p["r0"], p["r_min"], p["alpha"], p["d0"])
                    n += 1
    assert n == len(tables.pairs) == 591


def test_quantum_numbers_and_softbv_radii_equal_bvlain():
    from ase.data import chemical_symbols
    from bvlain.data.covalent_radii import covalent_radii_softbv

    tables = params.load_tables()
    qn = _pickle("quantum_n.pkl")
    assert {chemical_symbols[int(z)]: int(n) for z, n in qn.items()} == dict(tables.quantum_numbers)
    for z, by_val in covalent_radii_softbv.items():
        for val, r in by_val.items():
            assert params.covalent_radius(chemical_symbols[z], val, "softbv") == r


def test_na_o_values_of_the_report():
    # BVSE-REPORT.md section 1.2 (softBV table): Na+-O2- D0 0.575227, Rmin 2.374335, alpha 2.074689
    p = params.morse_pair("Na", 1, "O", -2)
    assert (p.d0_eV, p.r_min_A, p.alpha_per_A, p.r0_A) == (0.575227, 2.374335, 2.074689, 1.56225)
    assert params.morse_pair("O", -2, "Na", 1) == p


@pytest.mark.parametrize("name", ["softbv_pairs.csv", "principal_quantum_numbers.csv",
                                  "softbv_covalent_radii.csv"])
def test_tables_carry_source_and_version(name):
    text = resources.files("nasicon_sim.bvse").joinpath(f"data/{name}").read_text()
    head = [line for line in text.splitlines() if line.startswith("#")]
    assert any(line.startswith("# source:") and "Chen" in line for line in head)
    assert any(line.startswith("# version: bvlain-") for line in head)
    assert any(line.startswith("# sha256") for line in head)
    assert params.load_tables().versions[name].startswith("bvlain-")


def test_missing_pair_names_it():
    with pytest.raises(ParameterError, match=r"Na\+ - Xe2-"):
        params.morse_pair("Na", 1, "Xe", -2)
    with pytest.raises(ParameterError, match="opposite signs"):
        params.morse_pair("Na", 1, "Zr", 4)
    with pytest.raises(ParameterError, match="integer oxidation states"):
        params.morse_pair("Na", 1, "O", -1.5)


def test_suspicious_entries_are_refused():
    assert ("Be", 2, "S", -2) in params.load_tables().suspicious
    with pytest.raises(ParameterError, match="non-positive"):
        params.morse_pair("Be", 2, "S", -2)


def test_covalent_radii_sources():
    assert params.covalent_radius("Zr", 4, "ase") == 1.75  # Cordero 2008 via ASE
    assert params.covalent_radius("O", -2, "softbv") == 1.33
    with pytest.raises(ParameterError, match="softBV covalent radius for Zr7\\+"):
        params.covalent_radius("Zr", 7, "softbv")
    with pytest.raises(ParameterError, match="unknown covalent-radius source"):
        params.covalent_radius("Zr", 4, "shannon")
    with pytest.raises(ParameterError, match="principal quantum number"):
        params.principal_quantum_number("Og")


def test_tables_are_loaded_once():
    assert params.load_tables() is params.load_tables()
