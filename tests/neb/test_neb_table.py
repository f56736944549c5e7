"""Barrier table (CSV/JSON round trip, provenance) and the barrier model for kMC."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict

from nasicon_sim.errors import DataError
from nasicon_sim.neb.hops import Hop
from nasicon_sim.neb.result import NEBResult
from nasicon_sim.neb.table import COLUMNS, BarrierTable, fit_model

BASE = Hop(site_i=0, site_j=1, translation=(0, 0, 0), labels=("Na1", "Na2"), env_key="M:Zr3|T:P1Si3",
           frac_i=(0, 0, 0), frac_j=(0.3, 0, 0), saddle_frac=(0.15, 0, 0), bvse_saddle_eV=0.6,
           bvse_barrier_forward_eV=0.6, bvse_barrier_backward_eV=0.2, link_index=0)


def _results():
    rng = np.random.default_rng(3)
    out = []
    specs = [("Na1", "Na2", "M:Zr3|T:P1Si3"), ("Na1", "Na3", "M:Zr3|T:P1Si2"),
             ("Na1", "Na3", "M:Zr2Ti1|T:P1Si2"), ("Na1", "Na2", "M:Lu1Zr2|T:P1Si3"),
             ("Na1", "Na3", "M:Lu1Ti1Zr1|T:P2Si2")]
    for k, (a, b, env) in enumerate(specs):
        bf, bb = 0.5 + 0.1 * k, 0.15 + 0.03 * k
        hop = replace(BASE, site_i=k, site_j=k + 10, labels=(a, b), env_key=env,
                      bvse_barrier_forward_eV=bf, bvse_barrier_backward_eV=bb)
        e0 = -600.0
        e1 = e0 + 0.2 + rng.normal(0, 0.02)
        top = e0 + 0.1 + 0.4 * bf + rng.normal(0, 0.02)
        out.append(NEBResult(hop=hop, status="converged", energies_eV=(e0, top, e1),
                             path_A=(0, 1, 2), converged=True, n_steps=10, calculator="test",
                             settings={"n_images": 1}, source=f"s{k}.cif"))
    out.append(NEBResult(hop=replace(BASE, site_i=99), status="end-point-left-site",
                         message="the final end point is not stable", source="s9.cif"))
    return out


def test_table_rows_both_directions_and_round_trip(tmp_path):
    results = _results()
    table = BarrierTable.from_results(results)
    assert len(table.rows) == 2 * 5 and len(table.skipped) == 1
    assert "not stable" in table.skipped[0]["reason"]
    for fwd, bwd in zip(table.rows[::2], table.rows[1::2]):
        assert fwd["from_label"] == bwd["to_label"] and fwd["env_key"] == bwd["env_key"]
        assert fwd["barrier_eV"] - fwd["reverse_barrier_eV"] == pytest.approx(
            fwd["delta_E_eV"], abs=2e-6)
        assert bwd["barrier_eV"] == fwd["reverse_barrier_eV"]
        assert fwd["hop_type"] == f"{fwd['from_label']}-{fwd['to_label']}|{fwd['env_key']}"
    csv_path, json_path = table.write(tmp_path / "barriers")
    assert csv_path.read_text().splitlines()[0] == ",".join(COLUMNS)
    for path in (csv_path, json_path):
        back = BarrierTable.read(path)
        assert [r["barrier_eV"] for r in back.rows] == [r["barrier_eV"] for r in table.rows]
        assert [r["hop_type"] for r in back.rows] == [r["hop_type"] for r in table.rows]
        assert fit_model(back).as_dict() == fit_model(table).as_dict()
    assert BarrierTable.read(json_path).created == table.created


def test_model_exact_then_linear_map_with_cross_validated_error():
    table = BarrierTable.from_results(_results())
    model = fit_model(table)
    row = table.rows[0]
    assert model.barrier(row["hop_type"]) == (pytest.approx(row["barrier_eV"]), "exact")
    value, source = model.barrier("Na2-Na3|M:Hf1|T:Si3", bvse_barrier_eV=0.7)
    assert source == "linear-map"
    # independent reference: scikit-learn's least squares and leave-one-group-out predictions
    x = np.array([[r["bvse_barrier_eV"]] for r in table.rows])
    y = np.array([r["barrier_eV"] for r in table.rows])
    groups = np.repeat(np.arange(5), 2)
    lr = LinearRegression().fit(x, y)
    assert model.slope == pytest.approx(lr.coef_[0], abs=1e-9)
    assert value == pytest.approx(lr.predict([[0.7]])[0], abs=1e-9)
    pred = cross_val_predict(LinearRegression(), x, y, groups=groups, cv=LeaveOneGroupOut())
    assert model.cv_rmse_eV == pytest.approx(np.sqrt(np.mean((pred - y) ** 2)), abs=1e-9)
    assert model.cv_mae_eV == pytest.approx(np.mean(np.abs(pred - y)), abs=1e-9)
    assert model.as_dict()["fallback_order"] == ["exact", "linear-map", "bvse"]


def test_model_without_enough_hops_falls_back_to_bvse():
    model = fit_model(BarrierTable.from_results(_results()[:2]))
    assert model.slope is None
    assert model.barrier("X-Y|M:-|T:-", bvse_barrier_eV=0.42) == (0.42, "bvse")
    with pytest.raises(DataError, match="not in the barrier table"):
        model.barrier("X-Y|M:-|T:-")


def test_bad_tables(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("hop_type,barrier_eV\nA-B|x,0.3\n")
    with pytest.raises(DataError, match="missing column"):
        BarrierTable.read(p)
    good = BarrierTable.from_results(_results()).csv_text().splitlines()
    cols = good[0].split(",")
    bad = good[1].split(",")
    bad[cols.index("barrier_eV")] = "abc"
    p.write_text("\n".join([good[0], ",".join(bad)]) + "\n")
    with pytest.raises(DataError, match="row 2: barrier_eV is not a number"):
        BarrierTable.read(p)
    q = tmp_path / "t.json"
    q.write_text('{"rows": []}')
    with pytest.raises(DataError, match="not a barrier table"):
        BarrierTable.read(q)


def test_a_band_without_an_interior_maximum_makes_no_row():
    r = _results()[0]
    flat = replace(r, energies_eV=(-600.0, -600.1, -599.95))  # highest image = final state
    assert not flat.has_saddle and flat.barrier_backward_eV == 0.0
    table = BarrierTable.from_results([flat, r])
    assert len(table.rows) == 2 and len(table.skipped) == 1
    assert "no saddle" in table.skipped[0]["reason"]
    assert flat.as_dict()["has_saddle"] is False and r.as_dict()["has_saddle"] is True
