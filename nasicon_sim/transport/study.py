"""kMC as a downstream task of a study run: one task per stored configuration.

A task is keyed by the configuration's store key, the ``[kmc]`` settings and the code version;
it reads the structure the configuration analysed (the relaxed one when the study relaxes) and
its stored migration network from the results store, so neither the relaxation nor the BVSE
landscape is recomputed. Finished tasks are stored at once (rerun to resume).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["KMCTask", "collect_kmc", "kmc_key", "run_kmc_task", "run_study_kmc"]

log = logging.getLogger(__name__)

#: An Arrhenius line (sigma T = A exp(-Ea / k_B T)) counts as rejected by a configuration's
#: kMC points when its weighted chi-square has a p-value below this (it needs three or more
#: converged temperatures): sigma(25 C) and Ea then depend on the temperature window.
ARRHENIUS_REJECT_P = 0.01


def kmc_key(config_key: str, settings: Mapping[str, Any]) -> str:
    """Store key of the kMC task of one configuration."""
    from nasicon_sim import __version__
    from nasicon_sim.store import task_hash

    return task_hash({"configuration": config_key, "kmc": dict(settings), "code": __version__})


@dataclass(frozen=True)
class KMCTask:
    """One configuration's kMC (picklable)."""

    key: str
    config_key: str
    label: str
    index: int
    structure: dict = field(repr=False)
    network: dict = field(repr=False)
    bvse: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


def run_kmc_task(task: KMCTask) -> dict[str, Any]:
    """Run one task; returns ``TransportResult.as_dict()`` plus its label and index."""
    from pymatgen.core import Structure

    from nasicon_sim.bvse.settings import BVSESettings
    from nasicon_sim.transport.from_structure import lattice_from_network, network_from_dict
    from nasicon_sim.transport.simulate import KMCSettings, simulate

    structure = Structure.from_dict(task.structure)
    settings = KMCSettings.from_dict(task.settings)
    bvse = BVSESettings(**{k: v for k, v in task.bvse.items() if k != "threads"},
                        keep_landscape=False)
    lat = lattice_from_network(structure, network_from_dict(task.network), settings, bvse)
    out = simulate(lat, settings).as_dict()
    out.update({"label": task.label, "index": task.index, "configuration_key": task.config_key})
    return out


def run_study_kmc(study, store, keys_by_label: Mapping[str, Sequence[str]],
                  bvse_kwargs: Mapping[str, Any], workers: int | None = None,
                  dask_address: str | None = None, progress: bool = True) -> list[str]:
    """Run the missing kMC tasks of a study and store them; returns failure messages.

    Parameters
    ----------
    study : Study
        With a ``kmc`` spec (:class:`nasicon_sim.study.KMCSpec`).
    store : ResultsStore
    keys_by_label : mapping label -> configuration keys
        In index order; the first ``study.kmc.max_configurations`` (all when 0) get kMC.
    bvse_kwargs : mapping
        The study's BVSE settings (mobile ion, Na-Na term parameters).
    """
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    from nasicon_sim.executors import run_and_record

    spec = study.kmc
    settings = spec.settings_dict()
    tasks = []
    for label, keys in keys_by_label.items():
        limit = spec.max_configurations or len(keys)
        for index, ckey in enumerate(list(keys)[:limit]):
            key = kmc_key(ckey, settings)
            if key in store:
                continue
            recs = list(store.records(task_hash=ckey))
            if not recs:
                continue  # the configuration failed or is missing: reported by the runner
            row, atoms = recs[0]
            if not row.get("sites"):
                continue
            structure = AseAtomsAdaptor.get_structure(atoms)
            tasks.append(KMCTask(key=key, config_key=ckey, label=label, index=index,
                                 structure=structure.as_dict(),
                                 network={"sites": row["sites"], "links": row["links"]},
                                 bvse=dict(bvse_kwargs), settings=settings))

    def record(task: KMCTask, result: dict) -> None:
        store.put(task.key, Structure.from_dict(task.structure), result,
                  {"kmc_study": study.name, "label": task.label, "index": task.index})

    return run_and_record(run_kmc_task, tasks, record, lambda t: f"kMC {t.label}#{t.index}",
                          desc=f"{study.name}: kMC", unit="cfg", workers=workers,
                          dask_address=dask_address, progress=progress)


def _merge_floor_notes(notes: set[str]) -> list[str]:
    """One line for the per-configuration E_KRA-floor notes (their counts differ), sorted."""
    import re

    pat = re.compile(r"^E_KRA floor (\S+) eV: (\d+) of (\d+) directed hops raised to it")
    floors: dict[str, list[tuple[int, int]]] = {}
    rest = []
    for note in notes:
        m = pat.match(note)
        if m:
            floors.setdefault(m[1], []).append((int(m[2]), int(m[3])))
        else:
            rest.append(note)

    def span(values: list[int]) -> str:
        return f"{min(values)}" if min(values) == max(values) else f"{min(values)}-{max(values)}"

    for floor, counts in floors.items():
        rest.append(f"E_KRA floor {floor} eV: {span([c[0] for c in counts])} of "
                    f"{span([c[1] for c in counts])} directed hops raised to it per "
                    "configuration (an acceleration; check that sigma does not change with a "
                    "lower floor)")
    return sorted(rest)


def _geo(values: list[float]) -> tuple[float | None, float | None]:
    v = np.array([x for x in values if x is not None and x > 0], float)
    if not len(v):
        return None, None
    lg = np.log10(v)
    return float(lg.mean()), (float(lg.std(ddof=1)) if len(v) > 1 else None)


def collect_kmc(study, store, keys_by_label: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Per-composition kMC summary and rank correlations with the measured values.

    Returns a JSON-able dict: ``compositions`` (label -> configurations' sigma(25 C), Ea,
    sigma per temperature, their means; ``n_fitted`` counts the configurations with an
    Arrhenius fit, the only ones in the sigma(25 C) and Ea means; ``n_arrhenius_rejected`` of
    ``n_arrhenius_tested`` fits with three or more temperatures fail the chi-square test of
    :data:`ARRHENIUS_REJECT_P`) and ``correlations`` (Spearman rho with bootstrap
    intervals of predicted log10 sigma(25 C) vs measured log10 sigma_total, and of predicted
    vs measured Ea), or {} when the study has no ``[kmc]``.
    """
    from scipy.stats import chi2 as chi2_dist

    from nasicon_sim.crosscheck import rank_correlation

    if getattr(study, "kmc", None) is None:
        return {}
    settings = study.kmc.settings_dict()
    comps: dict[str, Any] = {}
    for comp in study.compositions:
        keys = keys_by_label.get(comp.label, [])
        rows = [store.get(kmc_key(k, settings)) for k in keys]
        rows = [r for r in rows if r]
        temps = list(study.kmc.temperatures_K)
        per_t = [[r["sigma_S_cm"][i] for r in rows
                  if i < len(r["sigma_S_cm"]) and r.get("converged", [True] * len(temps))[i]]
                 for i in range(len(temps))]  # converged temperatures only
        ea = [r["Ea_eV"] for r in rows if r.get("Ea_eV") is not None]
        s25 = [r["sigma_25C_S_cm"] for r in rows if r.get("sigma_25C_S_cm")]
        m25, sd25 = _geo(s25)
        tested = [r["arrhenius"] for r in rows
                  if r.get("arrhenius") and r["arrhenius"].get("dof", 0) >= 1]
        rejected = [a for a in tested
                    if float(chi2_dist.sf(a["chi2"], a["dof"])) < ARRHENIUS_REJECT_P]
        comps[comp.label] = {
            "n_configurations": len(rows),
            "n_fitted": len(ea),
            "n_arrhenius_tested": len(tested),
            "n_arrhenius_rejected": len(rejected),
            "sigma_25C_S_cm": s25, "Ea_eV": ea,
            "log10_sigma_25C_mean": m25, "log10_sigma_25C_sd": sd25,
            "Ea_eV_mean": float(np.mean(ea)) if ea else None,
            "Ea_eV_sd": float(np.std(ea, ddof=1)) if len(ea) > 1 else None,
            "temperatures_K": temps,
            "log10_sigma_mean": [_geo(v)[0] for v in per_t],
            "log10_sigma_sd": [_geo(v)[1] for v in per_t],
            "haven_ratio_mean": [float(np.mean([r["haven_ratio"][i] for r in rows
                                                if r["haven_ratio"][i] is not None]))
                                 if any(r["haven_ratio"][i] is not None for r in rows) else None
                                 for i in range(len(temps))],
            "reasons": sorted({r["reason"] for r in rows if r.get("reason")}),
            "notes": _merge_floor_notes({n for r in rows for n in r.get("notes", [])}),
            "measured_sigma_total_mS_cm": comp.sigma_total_mS_cm,
            "measured_ea_eV": comp.ea_eV,
        }
    corr = {}
    pred_s = {lab: [math.log10(x) for x in c["sigma_25C_S_cm"]] for lab, c in comps.items()}
    meas_s = {c.label: (math.log10(c.sigma_total_mS_cm / 1000.0) if c.sigma_total_mS_cm
                        else None) for c in study.compositions}
    r = rank_correlation(pred_s, meas_s)
    corr["log10 sigma_25C kMC vs log10 sigma_total measured"] = r.as_dict() if r else None
    r = rank_correlation({lab: c["Ea_eV"] for lab, c in comps.items()},
                         {c.label: c.ea_eV for c in study.compositions})
    corr["Ea kMC vs Ea measured"] = r.as_dict() if r else None
    return {"settings": settings, "compositions": comps, "correlations": corr}
