"""The closed loop: Pareto ranks, the acquisition rule, determinism, response to an outcome."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from nasicon_sim.cli.main import main
from nasicon_sim.ml.acquisition import (
    ColumnTransport,
    NaContentProxy,
    pareto_front_mask,
    pareto_ranks,
    suggest,
)
from nasicon_sim.ml.screening import ScreenSpec, screen

SUGGEST = ["ml", "suggest", "--json", "-n", "3", "--elements", "Ti,Hf,Sc", "--max-cations", "3",
           "--step", "0.25"]


def _brute_front(obj):
    n = len(obj)
    return np.array([not any((obj[j] >= obj[i]).all() and (obj[j] > obj[i]).any()
                             for j in range(n)) for i in range(n)])


def test_pareto_ranks_match_brute_force():
    rng = np.random.default_rng(0)
    obj = rng.random((80, 2))
    ranks = pareto_ranks(obj)
    np.testing.assert_array_equal(ranks == 0, _brute_front(obj))
    rest = ranks > 0
    np.testing.assert_array_equal(ranks[rest] == 1, _brute_front(obj[rest]))
    np.testing.assert_array_equal(pareto_front_mask(obj[:, 0], obj[:, 1]), ranks == 0)
    obj[3] = np.nan
    assert pareto_ranks(obj)[3] == len(obj)


def test_na_proxy_peaks_at_3_3():
    v = NaContentProxy().values(np.array([1.0, 3.3, 4.0]), [])
    assert v[1] == 0 and v[0] < v[2] < 0


@pytest.fixture(scope="module")
def grid(default_model):
    return screen(ScreenSpec(("Ti", "Hf", "Sc"), max_cations=3, step=0.25), default_model)


def test_rule_ranks_by_front_and_skips_near_duplicates(grid):
    picks = suggest(grid, set(), 4, min_distance=0.6)
    assert [s.rank for s in picks] == [1, 2, 3, 4]
    assert picks[0].pareto_rank == 0
    assert all(a.pareto_rank <= b.pareto_rank for a, b in zip(picks, picks[1:]))
    c = grid.candidates
    pos = {c.formula(i): np.r_[c.units[i] * c.step, c.si[i]] for i in range(len(c))}
    for i, a in enumerate(picks):
        for b in picks[:i]:
            assert np.abs(pos[a.formula] - pos[b.formula]).sum() >= 0.6 - 1e-9
        assert a.optimistic_p == pytest.approx(min(1, a.p_single_phase + a.p_std))


def test_labelled_compositions_are_never_suggested(grid):
    first = suggest(grid, set(), 2)
    key = grid.candidates.key([grid.candidates.formula(i) for i in range(len(grid.candidates))]
                              .index(first[0].formula))
    again = suggest(grid, {key}, 2)
    assert first[0].formula not in [s.formula for s in again]


def test_a_transport_column_plugs_in(grid, tmp_path):
    c = grid.candidates
    inside = [i for i in range(len(c)) if grid.scores["in_domain"][i]][:6]
    path = tmp_path / "kmc.csv"
    path.write_text("formula,log_sigma\n" + "".join(
        f"{c.formula(i)},{-3 - k}\n" for k, i in enumerate(inside)))
    picks = suggest(grid, set(), 3, ColumnTransport(str(path), "log_sigma"), min_distance=0)
    assert {s.formula for s in picks} <= {c.formula(i) for i in inside}
    assert all(s.transport in [-3 - k for k in range(6)] for s in picks)
    with pytest.raises(Exception, match="needs columns 'formula' and 'nope'"):
        suggest(grid, set(), 3, ColumnTransport(str(path), "nope"))


def test_suggest_is_deterministic_for_a_seed(capsys, tmp_path):
    assert main([*SUGGEST, "--seed", "0", "--study-toml", str(tmp_path / "s.toml")]) == 0
    a = json.loads(capsys.readouterr().out)
    from nasicon_sim.ml import prediction

    prediction._SELECTED_FITS.clear()  # a fresh refit, not the kept one
    assert main([*SUGGEST, "--seed", "0"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert a["suggestions"] == b["suggestions"] and len(a["suggestions"]) == 3
    from nasicon_sim.study import load_study

    study = load_study(tmp_path / "s.toml")
    assert [c.formula for c in study.compositions] == [s["formula"] for s in a["suggestions"]]
    assert study.ml.model == "selected"


def test_an_added_outcome_refits_the_model_and_moves_the_suggestions(capsys, tmp_path):
    """Copy the shipped table, suggest, report the top pick as failed, suggest again."""
    from nasicon_sim.ml.dataset import build_dataset, read_table
    from nasicon_sim.ml.prediction import fit_selected

    table = tmp_path / "mine.csv"
    table.write_bytes(resources.files("nasicon_sim").joinpath(
        "data/literature/nasicon_literature.csv").read_bytes())
    argv = [*SUGGEST, "--data", str(table), "--lenient"]
    assert main(argv) == 0
    before = json.loads(capsys.readouterr().out)
    top = before["suggestions"][0]["formula"]

    def p_of(formula):
        from nasicon_sim.ml import predict

        ds = build_dataset(read_table(table), strict=False)
        return predict([formula], fit_selected(ds))[0].p_single_phase, len(ds.y)

    p_before, n_before = p_of(top)
    assert main(["data", "add", top, "--label", "secondary_phases", "--source",
                 "lab book 12, XRD shows ZrO2", "--data", str(table)]) == 0
    capsys.readouterr()
    p_after, n_after = p_of(top)
    assert n_after == n_before + 1 and p_after < p_before - 0.01
    assert main(argv) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["n_labelled"] == before["n_labelled"] + 1
    assert top not in [s["formula"] for s in after["suggestions"]]
    assert after["suggestions"] != before["suggestions"]


@pytest.mark.parametrize("extra, match", [
    (["-n", "0"], "-n must be at least 1"),
    (["--transport-csv", "x.csv"], "--transport-csv and --transport-column go together"),
    (["--kappa", "-1"], "--kappa and --min-distance must be >= 0"),
])
def test_bad_suggest_requests_are_one_line(capsys, extra, match):
    assert main([*SUGGEST, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_outcomes_of_your_own_join_the_shipped_table(capsys, tmp_path):
    """The guide's loop: suggest, 'data add' the top pick as failed, suggest --add-data."""
    assert main(SUGGEST) == 0
    before = json.loads(capsys.readouterr().out)
    top = before["suggestions"][0]["formula"]
    mine = tmp_path / "my_outcomes.csv"
    assert main(["data", "add", top, "--label", "secondary_phases", "--source", "lab book 12",
                 "--data", str(mine)]) == 0
    capsys.readouterr()
    assert main([*SUGGEST, "--add-data", str(mine)]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["n_labelled"] == before["n_labelled"] + 1
    assert top not in [s["formula"] for s in after["suggestions"]]
    assert after["dataset_sha256"] != before["dataset_sha256"]
