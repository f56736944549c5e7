"""Hostile or unusual input: bounded time, one clear line naming the flag (issue 12, 8-10)."""

from __future__ import annotations

import csv
import itertools
import subprocess
from pathlib import Path

import pytest

import nasicon_sim.composition as composition
from nasicon_sim.composition import parse_nasicon
from nasicon_sim.errors import (
    ChargeBalanceError,
    DataError,
    FormulaError,
    NasiconSimError,
    OxidationStateError,
    StructureError,
)
from nasicon_sim.formula import parse_amounts

MULTIVALENT = "Ti Sn Nb V Cr Mo W Mn Fe Co Ni Cu Pb Ce Pr Eu Tb Yb Bi".split()  # 19


def _cli(*args: str, cwd: Path, capsys) -> subprocess.CompletedProcess:
    """Run the CLI in this process (``nasicon_sim.cli.main.main``), as a CompletedProcess."""
    from nasicon_sim.cli.main import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out, err)


def _formula(elements: list[str], na: float = 3.0) -> str:
    amount = 2 / len(elements)
    return f"Na{na:g}" + "".join(f"{el}{amount:.6f}" for el in elements) + "Si2PO12"


def _brute_force(formula: str) -> dict[str, int] | None:
    """Independent reference: every combination, the neutral one of smallest rank (sum of
    table positions), ties in itertools.product order."""
    comp_amounts = parse_amounts(formula)
    na = comp_amounts.pop("Na")
    comp_amounts.pop("O")
    elements = list(comp_amounts)
    table = composition.oxidation_state_table()
    best = None
    for combo in itertools.product(*[range(len(table[el])) for el in elements]):
        q = na + sum(comp_amounts[el] * table[el][k] for el, k in zip(elements, combo)) - 24
        if abs(q) <= composition.CHARGE_TOLERANCE and (best is None or sum(combo) < best[0]):
            best = (sum(combo), {el: table[el][k] for el, k in zip(elements, combo)})
    return None if best is None else best[1]


@pytest.mark.parametrize("elements", [MULTIVALENT[:6], MULTIVALENT[3:10], MULTIVALENT[8:16:2]])
@pytest.mark.parametrize("na", [1.0, 2.5, 3.0])
def test_the_bounded_search_picks_what_the_full_enumeration_picks(elements, na):
    formula = _formula(elements, na)
    expected = _brute_force(formula)
    if expected is None:
        with pytest.raises(ChargeBalanceError):
            parse_nasicon(formula)
    else:
        states = parse_nasicon(formula).oxidation_states
        assert {el: states[el] for el in expected} == expected


def test_nineteen_multivalent_cations_need_few_search_steps(monkeypatch):
    """3^19 combinations exist; the search visits a few thousand nodes (measured through its
    budget: with 20 000 it must still succeed)."""
    monkeypatch.setattr(composition, "OXIDATION_SEARCH_BUDGET", 20_000)
    comp = parse_nasicon(_formula(MULTIVALENT))
    assert abs(comp.charge) <= composition.CHARGE_TOLERANCE
    assert all(comp.oxidation_states[el] > 0 for el in MULTIVALENT)


def test_an_exhausted_search_is_refused_with_the_flag(monkeypatch):
    monkeypatch.setattr(composition, "OXIDATION_SEARCH_BUDGET", 50)
    with pytest.raises(OxidationStateError, match="--oxi"):
        parse_nasicon(_formula(MULTIVALENT))


def test_an_impossible_charge_balance_is_still_refused_quickly():
    with pytest.raises(ChargeBalanceError, match="not charge neutral"):
        parse_nasicon(_formula(MULTIVALENT, na=0.0) + "")


def test_formulas_nested_a_thousand_deep_parse():
    depth = 1000
    formula = "Na3Zr2" + "(" * depth + "Si2PO12" + ")" * depth
    assert parse_amounts(formula) == parse_amounts("Na3Zr2Si2PO12")
    comp = parse_nasicon(formula)
    assert comp.na == 3.0


def test_parsing_is_linear_in_length(monkeypatch):
    """Count the characters the parser looks at: doubling the formula doubles the count."""
    import nasicon_sim.formula as formula_module

    def looked_at(formula: str) -> int:
        count = 0
        real = formula_module._Parser.amount

        def counting(self):
            nonlocal count
            start = self.pos
            value = real(self)
            count += self.pos - start + 1
            return value

        monkeypatch.setattr(formula_module._Parser, "amount", counting)
        parse_amounts(formula)
        monkeypatch.setattr(formula_module._Parser, "amount", real)
        return count

    unit = "Na(O(O"
    short, long = unit * 500 + ")" * 1000, unit * 1000 + ")" * 2000
    assert looked_at(long) <= 2.2 * looked_at(short)


def test_describe_of_a_deeply_nested_formula_is_an_answer(tmp_path, capsys):
    formula = "Na3Zr2" + "(" * 1000 + "Si2PO12" + ")" * 1000
    proc = _cli("describe", formula, "--json", cwd=tmp_path, capsys=capsys)
    assert proc.returncode == 0, proc.stderr
    assert "RecursionError" not in proc.stderr


def test_a_missing_variable_names_the_var_flag(tmp_path, capsys):
    with pytest.raises(FormulaError, match="--var x="):
        parse_amounts("Na1+xZr2SixP3-xO12")
    proc = _cli("describe", "Na1+xZr2SixP3-xO12", cwd=tmp_path, capsys=capsys)
    assert proc.returncode == 2 and "--var x=" in proc.stderr


def test_not_a_file_says_what_it_is(tmp_path, capsys):
    from nasicon_sim.io.read import read_structure

    loop = tmp_path / "loop.cif"
    loop.symlink_to(loop)
    broken = tmp_path / "broken.cif"
    broken.symlink_to(tmp_path / "gone.cif")
    (tmp_path / "dir.cif").mkdir()
    cases = {loop: "symbolic link loop", broken: "broken symbolic link",
             tmp_path / "dir.cif": "is a directory", tmp_path / "none.cif": "no such file"}
    for path, words in cases.items():
        with pytest.raises(StructureError, match=words):
            read_structure(path)
    proc = _cli("bvse", str(loop), cwd=tmp_path, capsys=capsys)
    assert proc.returncode == 2 and "symbolic link loop" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_study_path_that_is_a_link_loop_says_so(tmp_path):
    from nasicon_sim.study import load_study

    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "study.toml").symlink_to(tmp_path / "s" / "study.toml")
    with pytest.raises(DataError, match="symbolic link loop"):
        load_study(tmp_path / "s")


def test_an_existing_ensemble_names_the_flags(tmp_path):
    from nasicon_sim.io.write import EnsembleWriter

    EnsembleWriter(tmp_path / "ens", {"n_requested": 1})
    with pytest.raises(NasiconSimError) as err:
        EnsembleWriter(tmp_path / "ens", {"n_requested": 1})
    assert "--overwrite" in str(err.value) and "--resume" in str(err.value)


def test_a_hundred_thousand_bad_rows_make_a_short_message(tmp_path):
    from nasicon_sim.ml.dataset import read_table

    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["formula", "phase_outcome", "source"])
        for _ in range(100_000):
            writer.writerow(["Na3Zr2Si2PO12", "maybe", "x"])
    with pytest.raises(DataError) as err:
        read_table(path)
    message = str(err.value)
    assert "100000 bad row(s)" in message and "99980 more" in message
    assert len(message) < 5_000


@pytest.mark.parametrize("source", ['=cmd|" /C calc"!A0', "+1+1", "-2+3", "@SUM(A1:A2)",
                                    "\t=1+1"])
def test_data_add_escapes_spreadsheet_formulas(tmp_path, source, capsys):
    table = tmp_path / "mine.csv"
    proc = _cli("data", "add", "Na3Zr2Si2PO12", "--label", "single_phase", f"--source={source}",
                "--note", "=HYPERLINK(\"http://x\")", "--data", str(table), cwd=tmp_path, capsys=capsys)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(table.open()))
    assert rows[-1]["source"] == "'" + source.strip()
    assert rows[-1]["note"].startswith("'=")
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_ordinary_sources_are_kept_as_written(tmp_path, capsys):
    table = tmp_path / "mine.csv"
    proc = _cli("data", "add", "Na3Zr2Si2PO12", "--label", "single_phase", "--source",
                "doi:10.1039/d5ee06594a", "--data", str(table), cwd=tmp_path, capsys=capsys)
    assert proc.returncode == 0, proc.stderr
    assert list(csv.DictReader(table.open()))[-1]["source"] == "doi:10.1039/d5ee06594a"


def test_library_errors_are_nasicon_sim_errors():
    assert issubclass(OxidationStateError, NasiconSimError)
