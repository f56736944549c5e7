"""NEB as a downstream task of a study run: one task per (configuration, hop).

The ``[neb]`` table of a study names the band settings, how many configurations of each
composition and how many hops of each configuration to compute. The hops are those of the
configuration's stored migration network (:func:`nasicon_sim.neb.hops.find_hops`: percolation
bottlenecks first, then one hop per label pair), in the structure the configuration analysed
(the relaxed one when the study relaxes), so neither the relaxation nor the BVSE landscape is
recomputed. A task is keyed by the configuration's store key, the hop, the band settings and
the code version; finished hops are stored at once (rerun to resume).

:func:`collect_neb` gathers the stored hops into the per-composition table the report shows
next to the BVSE barriers, the versioned barrier table
(:class:`nasicon_sim.neb.table.BarrierTable`) and its barrier model with the cross-validated
BVSE-to-NEB map (:func:`nasicon_sim.neb.table.fit_model`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = ["NEBTask", "collect_neb", "hops_of_row", "neb_key", "network_from_row",
           "plan_neb_tasks", "run_neb_task", "run_study_neb", "settings_tag"]

log = logging.getLogger(__name__)


def settings_tag(settings: Mapping[str, Any]) -> str:
    """Short hash of the band settings (a store tag: rows of other settings are not mixed)."""
    from nasicon_sim.store import task_hash

    return task_hash({"neb": dict(settings)})[:16]


def neb_key(config_key: str, hop_tag: str, settings: Mapping[str, Any]) -> str:
    """Store key of one hop of one configuration."""
    from nasicon_sim import __version__
    from nasicon_sim.store import task_hash

    return task_hash({"configuration": config_key, "hop": hop_tag, "neb": dict(settings),
                      "code": __version__})


def network_from_row(row: Mapping[str, Any]) -> SimpleNamespace:
    """The stored migration network of a study row (``sites``, ``links``, ``paths``) as objects
    with the attributes :func:`nasicon_sim.neb.hops.find_hops` reads."""
    def link(d: Mapping[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(**{**d, "translation": tuple(d["translation"]),
                                  "labels": tuple(d.get("labels") or (None, None)),
                                  "grid_index": d.get("grid_index")})

    sites = tuple(SimpleNamespace(**s) for s in row["sites"])
    links = tuple(link(x) for x in row["links"])
    paths = tuple(SimpleNamespace(dimension=int(p["dimension"]), bottleneck=link(p["bottleneck"]))
                  for p in row.get("paths") or ())
    return SimpleNamespace(sites=sites, links=links, paths=paths)


def hops_of_row(row: Mapping[str, Any], structure, max_hops: int,
                label_pairs: Sequence[str] = (), mobile: str = "Na") -> list:
    """The hops a study computes for one stored configuration.

    Parameters
    ----------
    row : mapping
        A stored configuration (its ``sites``, ``links`` and ``paths``).
    structure : pymatgen Structure
        The structure it analysed.
    max_hops : int
        Keep the first ``max_hops`` (bottlenecks of the percolating paths first).
    label_pairs : sequence of str
        Keep only these label pairs, in either direction (``"Na1-Na2"``); empty: all.
    """
    from nasicon_sim.neb.hops import find_hops

    if not row.get("links"):
        return []
    hops = find_hops(network_from_row(row), structure, None, mobile=mobile)
    wanted = {tuple(sorted(p.split("-", 1))) for p in label_pairs}
    if wanted:
        hops = [h for h in hops if tuple(sorted(lab.rstrip("*") for lab in h.labels)) in wanted]
    return hops[:max_hops]


@dataclass(frozen=True)
class NEBTask:
    """One hop of one configuration (picklable)."""

    key: str
    config_key: str
    label: str
    index: int
    structure: dict = field(repr=False)
    hop: dict = field(repr=False)
    candidates_frac: tuple = field(repr=False, default=())
    settings: dict = field(default_factory=dict)
    mobile: str = "Na"


def run_neb_task(task: NEBTask) -> dict[str, Any]:
    """Compute one hop; returns ``NEBResult.as_dict()`` plus label, index and configuration."""
    from pymatgen.core import Structure

    from nasicon_sim.neb.band import NEBSettings
    from nasicon_sim.neb.hops import Hop
    from nasicon_sim.neb.workflow import compute_hop

    settings = NEBSettings.from_dict({**task.settings, "threads": 1})
    structure = Structure.from_dict(task.structure)
    cands = np.asarray(task.candidates_frac, dtype=float).reshape(-1, 3) \
        if task.candidates_frac else None
    result = compute_hop(structure, Hop.from_dict(task.hop), settings, candidates_frac=cands,
                         mobile=task.mobile, source=f"{task.label}#{task.index}")
    out = result.as_dict()
    out.update({"label": task.label, "index": task.index, "configuration_key": task.config_key})
    return out


def plan_neb_tasks(study, store, keys_by_label: Mapping[str, Sequence[str]]
                   ) -> tuple[list[NEBTask], int]:
    """The hops of a study that are not stored yet, and how many are stored.

    The first ``[neb] max_configurations`` stored configurations of each composition (all
    when 0), ``max_hops`` hops each.
    """
    from pymatgen.io.ase import AseAtomsAdaptor

    from nasicon_sim.neb.hops import site_positions

    spec = study.neb
    settings = spec.settings_dict()
    tasks, n_done = [], 0
    for label, keys in keys_by_label.items():
        limit = spec.max_configurations or len(keys)
        for index, ckey in enumerate(list(keys)[:limit]):
            recs = list(store.records(task_hash=ckey))
            if not recs:
                continue  # the configuration failed or is missing: reported by the runner
            row, atoms = recs[0]
            structure = AseAtomsAdaptor.get_structure(atoms)
            hops = hops_of_row(row, structure, spec.max_hops, spec.label_pairs,
                               study.bvse.mobile_ion)
            cands = None
            for hop in hops:
                key = neb_key(ckey, hop.tag, settings)
                if key in store:
                    n_done += 1
                    continue
                if cands is None:
                    cands = tuple(map(tuple, site_positions(network_from_row(row),
                                                            structure.lattice.matrix, None)))
                tasks.append(NEBTask(key=key, config_key=ckey, label=label, index=index,
                                     structure=structure.as_dict(), hop=hop.as_dict(),
                                     candidates_frac=cands, settings=settings,
                                     mobile=study.bvse.mobile_ion))
    return tasks, n_done


def run_study_neb(study, store, keys_by_label: Mapping[str, Sequence[str]],
                  workers: int | None = None, dask_address: str | None = None,
                  progress: bool = True) -> list[str]:
    """Run the missing NEB hops of a study and store them; returns failure messages.

    Parameters
    ----------
    study : Study
        With a ``neb`` spec (:class:`nasicon_sim.study.NEBSpec`).
    store : ResultsStore
    keys_by_label : mapping label -> configuration keys
        In index order.
    """
    from pymatgen.core import Structure

    from nasicon_sim.executors import run_and_record

    tasks, _ = plan_neb_tasks(study, store, keys_by_label)
    tag = settings_tag(study.neb.settings_dict())

    def record(task: NEBTask, result: dict) -> None:
        store.put(task.key, Structure.from_dict(task.structure), result,
                  {"neb_study": study.name, "label": task.label, "index": task.index,
                   "neb_settings": tag})

    return run_and_record(run_neb_task, tasks, record,
                          lambda t: f"NEB {t.label}#{t.index} {t.hop.get('name')}",
                          desc=f"{study.name}: NEB", unit="hop", workers=workers,
                          dask_address=dask_address, progress=progress)


def _mean(values: Sequence[float | None]) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def collect_neb(study, store, keys_by_label: Mapping[str, Sequence[str]]
                ) -> tuple[dict[str, Any], Any, Any]:
    """The stored hops of a study: summary, barrier table and barrier model.

    Returns
    -------
    (summary, table, model)
        ``summary`` is JSON-able: ``settings``, ``compositions`` (label -> its hops, each
        with the NEB and BVSE barriers side by side, and means per label pair over the
        configurations) and ``model`` (the barrier model's dict); ``table`` a
        :class:`~nasicon_sim.neb.table.BarrierTable` of the converged hops with a saddle and
        ``model`` its :class:`~nasicon_sim.neb.table.BarrierModel`. ``({}, None, None)``
        without ``[neb]``.
    """
    from nasicon_sim.neb.result import NEBResult
    from nasicon_sim.neb.table import BarrierTable, fit_model

    if getattr(study, "neb", None) is None:
        return {}, None, None
    settings = study.neb.settings_dict()
    tag = settings_tag(settings)
    comps: dict[str, Any] = {}
    results = []
    for comp in study.compositions:
        keys = list(keys_by_label.get(comp.label, []))
        rows = [r for r in store.rows(neb_study=study.name, label=comp.label, neb_settings=tag)
                if r.get("configuration_key") in keys]
        rows.sort(key=lambda r: (r["index"], r["sites"]))
        hops = []
        for r in rows:
            res = NEBResult.from_dict(r)
            results.append(res)
            hops.append({
                "index": r["index"], "hop": "-".join(r["labels"]),
                "environment": r["hop_type"].split("|", 1)[1], "sites": r["sites"],
                "status": r["status"], "converged": r["converged"],
                "has_saddle": r["has_saddle"],
                "neb_forward_eV": r["barrier_forward_eV"],
                "neb_backward_eV": r["barrier_backward_eV"], "neb_kra_eV": r["kra_eV"],
                "bvse_forward_eV": r["bvse_barrier_forward_eV"],
                "bvse_backward_eV": r["bvse_barrier_backward_eV"],
                "bvse_kra_eV": r["bvse_kra_eV"], "bottleneck_of": r["hop"].get("bottleneck_of"),
                "message": r.get("message"), "n_steps": r["n_steps"], "seconds": r["seconds"],
            })
        by_pair: dict[str, dict[str, list]] = {}
        for h in hops:
            pair = "-".join(sorted(lab.rstrip("*") for lab in h["hop"].split("-")))
            usable = h["converged"] and h["has_saddle"]
            d = by_pair.setdefault(pair, {"neb": [], "bvse": []})
            d["bvse"].append(h["bvse_kra_eV"])
            if usable:
                d["neb"].append(h["neb_kra_eV"])
        comps[comp.label] = {
            "hops": hops,
            "label_pairs": {p: {"n_hops": len(d["bvse"]), "n_with_barrier": len(d["neb"]),
                                "neb_kra_eV_mean": _mean(d["neb"]),
                                "bvse_kra_eV_mean": _mean(d["bvse"])}
                            for p, d in sorted(by_pair.items())},
        }
    table = BarrierTable.from_results(results)
    model = fit_model(table)
    summary = {"settings": settings, "max_configurations": study.neb.max_configurations,
               "max_hops": study.neb.max_hops, "label_pairs": list(study.neb.label_pairs),
               "compositions": comps, "model": model.as_dict(),
               "n_hops": len(results), "n_table_rows": len(table.rows)}
    return summary, table, model
