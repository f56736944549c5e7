"""Study definitions: parsing, validation, profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasicon_sim.errors import DataError, FormulaError
from nasicon_sim.study import load_study

ROOT = Path(__file__).resolve().parents[1]
ZUO = ROOT / "calculations" / "zuo2026"


def test_zuo2026_matches_the_paper():
    study = load_study(ZUO)
    labels = [c.label for c in study.compositions]
    assert labels == ["NZSP", "LE", "ME1", "ME2", "HE1", "HE2"]
    # measured totals (mS/cm) and Ea (eV) as in shared/paper/FACTS.md
    sigma = {c.label: c.sigma_total_mS_cm for c in study.compositions}
    assert sigma == {"NZSP": 0.26, "LE": 0.67, "ME1": 1.30, "ME2": 0.94, "HE1": 0.48, "HE2": 0.42}
    assert study.composition("ME1").ea_eV == 0.29 and study.composition("NZSP").ea_eV == 0.35
    assert [c.single_phase for c in study.compositions] == [False, False, True, True, True, True]


def test_laptop_profile_overrides_only_what_it_names():
    base = load_study(ZUO)
    laptop = load_study(ZUO, profile="laptop")
    assert laptop.profile == "laptop"
    assert laptop.ensemble.n_configurations < base.ensemble.n_configurations
    assert laptop.ensemble.method == base.ensemble.method
    assert laptop.compositions == base.compositions


def write(tmp_path, text):
    path = tmp_path / "study.toml"
    path.write_text(text)
    return tmp_path


HEAD = '[study]\nname = "t"\ntitle = "t"\nsource = "s"\n'
ONE = '[[composition]]\nlabel = "A"\nformula = "Na3Zr2Si2PO12"\n'


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        (HEAD, DataError, "no [[composition]]"),
        (HEAD + ONE + "[ensemble]\nn_confs = 3\n", DataError, "unknown key(s) n_confs"),
        (HEAD + ONE + "[ensemble]\nn_configurations = 'many'\n", DataError, "must be an integer"),
        (HEAD + ONE + "[ensemble]\nmethod = 'magic'\n", DataError, "random, ewald or sqs"),
        (HEAD + ONE + "[bvse]\nspacing_A = -0.1\n", DataError, "positive"),
        (HEAD + ONE + ONE, DataError, "duplicate composition labels"),
        (HEAD + '[[composition]]\nlabel = "A"\nformula = "Na4Zr2Si2PO12"\n', FormulaError, "net charge"),
        (HEAD + ONE + "[surprise]\n", DataError, "unknown section"),
        ('[study]\nname = "x"\n' + ONE, DataError, "needs 'title'"),
        (HEAD + "this is not toml", DataError, "invalid TOML"),
    ],
)
def test_bad_definitions_fail_clearly(tmp_path, text, error, fragment):
    with pytest.raises(error) as info:
        load_study(write(tmp_path, text))
    assert fragment in str(info.value)


def test_missing_file_and_profile(tmp_path):
    with pytest.raises(DataError, match="no study definition"):
        load_study(tmp_path)
    with pytest.raises(DataError, match="no profile 'huge'"):
        load_study(ZUO, profile="huge")
