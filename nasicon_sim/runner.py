"""The study runner: formula -> ensembles -> BVSE per configuration -> ML -> cross-check -> report.

:func:`run_study` composes the public functions of the other modules; it holds no physics.

1. For each composition, the configuration tasks are keyed by a content hash of their inputs
   (formula, ensemble settings, configuration index, BVSE and relaxation settings, code
   version). Keys already in the results store are skipped. If any key of a composition is
   missing, its ensemble is built (deterministic from the seed) in this process.
2. The missing tasks run on a local process pool or a dask cluster
   (:mod:`nasicon_sim.executors`); each finished task is written to the store at once, so an
   interrupted run loses only the tasks in flight and a rerun recomputes nothing stored.
3. Every composition is scored by the synthesizability model, the per-configuration results
   are aggregated, BVSE barriers are cross-checked against the measured conductivities, and
   the report is written (:mod:`nasicon_sim.report`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from nasicon_sim import __version__
from nasicon_sim.crosscheck import (
    BarrierSummary,
    RankCorrelation,
    rank_correlation,
    summarise_barriers,
)
from nasicon_sim.errors import NasiconSimError
from nasicon_sim.executors import run_tasks
from nasicon_sim.io.atomic import clean_stale_temporaries
from nasicon_sim.progress import stage as progress_stage
from nasicon_sim.store import ResultsStore, structure_fingerprint, task_hash
from nasicon_sim.study import Study, StudyComposition

__all__ = [
    "CompositionResult",
    "ConfigTask",
    "RunSummary",
    "StudyResults",
    "check_plugins",
    "run_configuration",
    "run_configuration_batch",
    "run_study",
    "migrate_task_keys",
    "task_key",
    "task_keys",
]

log = logging.getLogger(__name__)

#: Barrier keys reported per configuration (eV, relative to the landscape minimum).
BARRIER_KEYS = ("E_1D_eV", "E_2D_eV", "E_3D_eV")
#: Network-refined thresholds (issue 12): the periodic union-find on refined link saddles.
REFINED_KEYS = ("E_1D_refined_eV", "E_2D_refined_eV", "E_3D_refined_eV")
#: Largest number of grid points kept per axis in the landscape preview of the report.
PREVIEW_POINTS_PER_AXIS = 48


@dataclass(frozen=True)
class ConfigTask:
    """One configuration to analyse (picklable; sent to worker processes or dask workers).

    Attributes
    ----------
    key : str
        Content hash of the task inputs (the results-store key).
    study, label, formula : str
    index : int
        Configuration index in its ensemble.
    structure : dict
        ``pymatgen.core.Structure.as_dict()`` of the ordered supercell.
    reference : tuple
        (frac_coords list, labels, wyckoffs) of all parent Na positions in the supercell.
    bvse : dict
        Keyword arguments of :class:`nasicon_sim.bvse.settings.BVSESettings`.
    relax : dict
        Relaxation settings (``method`` = ``none`` skips relaxation).
    keep_preview : bool
        Return a down-sampled landscape for the report's 3D view and cross-section.
    relax_cache : str or None
        Directory where a batched relaxation saves each finished member
        (``<key>.json``), so that an interrupted batch loses no finished relaxation.
    """

    key: str
    study: str
    label: str
    formula: str
    index: int
    structure: dict = field(repr=False)
    reference: tuple = field(repr=False)
    bvse: dict = field(default_factory=dict)
    relax: dict = field(default_factory=dict)
    keep_preview: bool = False
    relax_cache: str | None = None


def _preview(energies: np.ndarray, max_points: int = PREVIEW_POINTS_PER_AXIS) -> np.ndarray:
    """Down-sample a periodic grid by integer strides to at most ``max_points`` per axis."""
    strides = [max(1, math.ceil(n / max_points)) for n in energies.shape]
    return np.ascontiguousarray(energies[:: strides[0], :: strides[1], :: strides[2]], dtype=np.float32)


def run_configuration(task: ConfigTask) -> dict[str, Any]:
    """Analyse one configuration: (optional relaxation), BVSE landscape, percolation, network.

    Module-level so that process pools and dask can pickle it.

    Returns
    -------
    dict
        JSON-able results (see :meth:`nasicon_sim.bvse.analysis.BVSEResult.as_dict`) plus
        ``label``, ``index``, timings, and ``preview`` (a float32 array) when asked.
    """
    return _run_configuration(task, None)


def _relax_cache_path(task: ConfigTask) -> Path | None:
    return None if task.relax_cache is None else Path(task.relax_cache) / f"{task.key}.json"


def run_configuration_batch(tasks: tuple[ConfigTask, ...]) -> list[Any]:
    """Relax configurations together (:func:`nasicon_sim.relax.relax_batch`), then analyse each.

    Each member's relaxation is saved to ``task.relax_cache`` as soon as it finishes, and a
    member already saved there is not relaxed again, so an interrupted batch keeps every
    finished relaxation. Module-level so that process pools and dask can pickle it.

    Returns
    -------
    list
        Per task, the dict of :func:`run_configuration` or the exception that stopped it.
    """
    import json

    from pymatgen.core import Structure

    from nasicon_sim.io.atomic import atomic_write_text
    from nasicon_sim.relax import RelaxSettings, relax_batch

    done: dict[int, tuple[Any, dict]] = {}
    for i, task in enumerate(tasks):
        path = _relax_cache_path(task)
        if path is not None and path.is_file():
            saved = json.loads(path.read_text())
            done[i] = (Structure.from_dict(saved["structure"]), saved["record"])
    todo = [i for i in range(len(tasks)) if i not in done]
    errors: dict[int, str] = {}

    def save(j: int, result: Any, error: str | None) -> None:
        i = todo[j]
        if result is None:
            errors[i] = error or "relaxation failed"
            return
        done[i] = (result.structure, result.record())
        path = _relax_cache_path(tasks[i])
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(path, json.dumps({"structure": result.structure.as_dict(),
                                                    "record": result.record()}))
            except OSError as exc:  # e.g. a dask worker without the directory: not fatal
                log.warning("cannot save the relaxation of %s: %s", tasks[i].key, exc)

    if todo:
        settings = RelaxSettings.from_spec(tasks[0].relax, threads=1)
        relax_batch([Structure.from_dict(tasks[i].structure) for i in todo], settings,
                    batch_size=len(todo), on_done=save)
    out: list[Any] = []
    for i, task in enumerate(tasks):
        if i not in done:
            out.append(NasiconSimError(f"relaxation failed: {errors.get(i, 'unknown error')}"))
            continue
        try:
            out.append(_run_configuration(task, done[i]))
        except Exception as exc:  # reported per configuration; the others go on
            out.append(exc)
    return out


def _run_configuration(task: ConfigTask, relaxed: tuple[Any, dict] | None) -> dict[str, Any]:
    """:func:`run_configuration`; ``relaxed`` = (structure, record) of a relaxation done."""

    from pymatgen.core import Structure

    from nasicon_sim.bvse.analysis import analyse
    from nasicon_sim.bvse.settings import BVSESettings
    from nasicon_sim.network import ReferenceSites

    t0 = time.perf_counter()
    structure = Structure.from_dict(task.structure)
    settings = BVSESettings(**task.bvse)
    frac, labels, wyckoffs = task.reference
    reference = ReferenceSites(np.asarray(frac, dtype=float), tuple(labels), tuple(wyckoffs))
    relaxation = unrelaxed = None
    if task.relax.get("method", "none") != "none":
        from nasicon_sim.distortion import analyse_distortion
        from nasicon_sim.relax import RelaxSettings, relax_structure

        # the unrelaxed analysis is kept, so that the report can compare both
        unrelaxed = analyse(structure, settings, reference).without_landscape().as_dict()
        unrelaxed["distortion"] = analyse_distortion(structure).summary()
        if relaxed is None:
            r = relax_structure(structure, RelaxSettings.from_spec(task.relax, threads=1))
            relaxed = (r.structure, r.record())
        structure, relaxation = relaxed
    if task.keep_preview:
        settings = replace(settings, keep_landscape=True)
    result = analyse(structure, settings, reference)
    out = result.without_landscape().as_dict()
    if relaxation is not None:
        out["relaxation"] = relaxation
        out["distortion"] = analyse_distortion(structure).summary()
        out["unrelaxed"] = {k: unrelaxed[k] for k in (*BARRIER_KEYS, "E_1D_refined_eV",
                                                      "E_2D_refined_eV", "E_3D_refined_eV",
                                                      "distortion")}
        out["relaxed_structure"] = structure.as_dict()
    out["bottleneck_3D"] = _bottleneck(result.network, 3)
    out["bottleneck_1D"] = _bottleneck(result.network, 1)
    out["label"] = task.label
    out["index"] = task.index
    out["bvse_seconds"] = round(time.perf_counter() - t0, 3)
    if task.keep_preview and result.landscape is not None:
        out["preview"] = _preview(np.asarray(result.landscape.energies_eV))
        out["lattice"] = np.asarray(result.landscape.lattice).tolist()
        out["slice_png"] = _slice_png(
            result, task.label, structure.properties.get("nasicon_sim", {}).get("supercell_matrix"))
    return out


def _slice_png(result: Any, label: str, supercell_matrix: Any = None) -> np.ndarray:
    """PNG bytes (as uint8 array) of the section through the 3D bottleneck (else the minimum).

    Contours at E_1D, E_2D, E_3D (labelled), the bottleneck starred, axes named after the
    parent cell (``supercell_matrix``), colours clipped 0.15 eV above E_3D so that the
    channels, not the framework, span the colour scale.
    """
    import tempfile

    from nasicon_sim.io.images import parent_axis_names, write_slice_png

    landscape = result.landscape
    e = np.asarray(landscape.energies_eV)
    network = result.network
    path3 = network.path(3)
    axis = 2
    if path3 is not None:
        # the lattice plane through the bottleneck that keeps the two sites it joins closest
        link = path3.bottleneck
        a = np.asarray(network.sites[link.site_a].frac_coords)
        b = np.asarray(network.sites[link.site_b].frac_coords) + np.asarray(link.translation)
        heights = 1.0 / np.linalg.norm(np.linalg.inv(np.asarray(landscape.lattice)).T, axis=1)
        axis = int(np.argmin(np.abs(a - b) * heights))
        position = float(link.frac_coords[axis]) % 1.0
        where = "3D bottleneck"
        bottleneck = (f"3D bottleneck {link.name}", link.frac_coords)
    else:
        position = np.unravel_index(int(np.argmin(e)), e.shape)[axis] / e.shape[axis]
        where = "global minimum"
        bottleneck = None
    levels = {f"E_{d}D": float(v) for d, v in zip((1, 2, 3), result.barriers_eV)
              if v is not None and math.isfinite(v)}
    clip = (max(levels.values()) + 0.15) if levels else None
    sites = [(s.label or "?", s.frac_coords) for s in result.network.sites]
    names = parent_axis_names(supercell_matrix)
    with tempfile.TemporaryDirectory() as tmp:
        png = write_slice_png(Path(tmp) / "slice.png", landscape, axis=axis, position=position,
                              clip_eV=clip, levels_eV=levels, sites=sites,
                              bottleneck=bottleneck, axis_names=names,
                              title=f"{label}: Na+ site energy through the {where} "
                                    f"({names[axis]} = {position:.3f}; axes of the parent "
                                    "C2/c cell a, b, c)" if supercell_matrix is not None else
                                    f"{label}: Na+ site energy through the {where} "
                                    f"({'abc'[axis]} = {position:.3f})")
        return np.frombuffer(png.read_bytes(), dtype=np.uint8)


def _bottleneck(network: Any, dimension: int) -> dict[str, Any] | None:
    path = network.path(dimension)
    if path is None:
        return None
    link = path.bottleneck
    labels = sorted(lab or "?" for lab in link.labels)
    return {
        "link": "-".join(labels),
        "saddle_eV": round(float(path.barrier_eV), 6),
        "frac_coords": [round(float(x), 5) for x in link.frac_coords],
        "cycle_labels": [lab or "?" for lab in path.cycle_labels],
    }


# ----------------------------------------------------------------------------- aggregation


@dataclass(frozen=True)
class CompositionResult:
    """Everything the report says about one composition."""

    composition: StudyComposition
    descriptors: dict[str, Any]
    ml: dict[str, Any]
    barriers: dict[str, list[float]]
    summaries: dict[str, BarrierSummary]
    bottlenecks_3D: dict[str, int]
    n_configurations: int
    n_atoms: int
    supercell_matrix: list[list[int]]
    exact: bool
    deviation_per_fu: dict[str, float]
    ewald_energy_eV_per_atom: list[float]
    bvse_seconds: float = 0.0
    relaxation: dict[str, Any] | None = None
    #: landscape minimum of each configuration (eV, absolute; barriers are measured from it)
    minima_eV: list[float] = field(default_factory=list)
    #: the two M cations nearest to each configuration's deepest Na site, counted ("Ga-Ti": 7)
    deepest_site_cations: dict[str, int] = field(default_factory=dict)
    #: distinct frameworks (all atoms but the mobile ion, which BVSE removes) among the
    #: configurations; fewer than n_configurations when orderings differ only in Na
    n_frameworks: int = 0
    #: network-refined thresholds per configuration (NaN for rows computed before the
    #: network-wide refinement, whose refined values came from the critical grid points only)
    refined: dict[str, list[float]] = field(default_factory=dict)
    refined_summaries: dict[str, BarrierSummary] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["summaries"] = {k: v.as_dict() for k, v in self.summaries.items()}
        d["refined_summaries"] = {k: v.as_dict() for k, v in self.refined_summaries.items()}
        return d


@dataclass(frozen=True)
class RunSummary:
    """What a run did: tasks computed now, reused from the store, failed."""

    n_tasks: int
    n_computed: int
    n_reused: int
    failures: tuple[str, ...]
    seconds: float
    executor: str


@dataclass(frozen=True)
class StudyResults:
    """Aggregated results of a study run."""

    study: Study
    compositions: tuple[CompositionResult, ...]
    correlations: dict[str, RankCorrelation | None]
    run: RunSummary
    out_dir: Path
    store_url: str
    ml_evaluation: dict[str, Any] = field(default_factory=dict)
    #: kMC transport summary (:func:`nasicon_sim.transport.study.collect_kmc`), {} without [kmc]
    kmc: dict[str, Any] = field(default_factory=dict)
    #: NEB barriers beside BVSE (:func:`nasicon_sim.neb.study.collect_neb`), {} without [neb]
    neb: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            **({"kmc": self.kmc} if self.kmc else {}),
            **({"neb": self.neb} if self.neb else {}),
            "study": {"name": self.study.name, "title": self.study.title,
                      "source": self.study.source, **self.study.settings_dict()},
            "nasicon_sim_version": __version__,
            "compositions": [c.as_dict() for c in self.compositions],
            "correlations": {k: (v.as_dict() if v else None) for k, v in self.correlations.items()},
            "run": asdict(self.run),
            "store": self.store_url,
            "ml_evaluation": {k: v for k, v in self.ml_evaluation.items() if k != "holdout"},
        }


def _ensemble_seed(study_seed: int, label: str) -> int:
    """Seed of one composition's ensemble: stable in the study seed and the label."""
    digest = hashlib.sha256(f"{study_seed}:{label}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def _relax_key(relax: Mapping[str, Any], legacy: bool = False) -> dict[str, Any]:
    """The relaxation settings in a task key.

    ``batch_size`` is how, not what (a batch takes the steps of one-by-one relaxations), so it
    is left out. The optimiser is in (canonical spelling) when relaxing; without relaxation, or
    for ``legacy`` keys (made before the optimiser was in the key, all by FIRE), it is not.
    """
    d = {k: v for k, v in relax.items() if k != "batch_size"}
    if legacy or d.get("method", "none") == "none":
        d.pop("optimizer", None)
    elif "optimizer" in d:
        from nasicon_sim.relax import canonical_optimizer

        d["optimizer"] = canonical_optimizer(d["optimizer"])
    return d


def _task_inputs(study: Study, comp: StudyComposition, index: int,
                 legacy: bool = False) -> dict[str, Any]:
    """Everything that determines configuration ``index`` of a composition and its analysis.

    The ensemble size is not part of it: configuration ``k`` is drawn from
    ``SeedSequence(seed, spawn_key=(k,))`` (:func:`nasicon_sim.structure.ensemble.make_configuration`),
    and with ``dedup`` it is the ``k``-th distinct draw, so it does not depend on how many
    configurations are asked for. A larger ensemble therefore reuses a smaller one's rows.
    ``legacy`` gives the relaxation part of keys made before the optimiser was in them.
    """
    ens = study.ensemble
    return {
        "formula": comp.formula,
        "ensemble": {"method": ens.method,
                     "seed": _ensemble_seed(ens.seed, comp.label), "min_atoms": ens.min_atoms,
                     "max_atoms": ens.max_atoms,
                     "supercell": ens.supercell, "dedup": ens.dedup},
        "index": index,
        "bvse": _bvse_kwargs(study),
        "relax": _relax_key(asdict(study.relax), legacy),
        "code": __version__,
    }


def _legacy_task_key(study: Study, comp: StudyComposition, index: int, n: int) -> str:
    """The key versions up to 0.1.0 (before issues 12 and 13) gave a task: the ensemble size
    ``n`` was part of it, the relaxation optimiser (always FIRE then) was not."""
    inputs = _task_inputs(study, comp, index, legacy=True)
    inputs["ensemble"] = {"n": n, **inputs["ensemble"]}
    return task_hash(inputs)


def task_key(study: Study, comp: StudyComposition, index: int) -> str:
    """Store key of configuration ``index`` of a composition (see :func:`task_keys`)."""
    return task_hash(_task_inputs(study, comp, index))


def task_keys(study: Study, comp: StudyComposition) -> list[str]:
    """Store keys of a composition's configurations, index by index.

    A key is the SHA-256 of everything that determines the result (formula, ensemble
    settings but not the ensemble size, configuration index, BVSE and relaxation settings,
    code version), so a store that holds every key of a study holds results made by this code
    with these settings, and raising ``n_configurations`` reuses the configurations stored.
    """
    return [task_key(study, comp, i) for i in range(study.ensemble.n_configurations)]


#: Largest ensemble size tried when recognising a row keyed by an older version.
LEGACY_MAX_N = 256


def migrate_task_keys(store: ResultsStore, study: Study) -> int:
    """Re-key rows of ``study`` written with the older, size-dependent task keys.

    A row stored under the key an older version gave configuration ``i`` of an ``n``-ensemble
    (same formula, settings and code version) is given the current key of configuration
    ``i``; nothing is recomputed and no result changes. Rows that match no such key (other
    settings or code versions) are left alone.

    Returns
    -------
    int
        Rows re-keyed.
    """
    if study.relax.method != "none":
        from nasicon_sim.relax import canonical_optimizer

        if canonical_optimizer(study.relax.optimizer) != "FIRE":
            return 0  # 0.1.0 relaxed only with FIRE: its rows are not this study's results
    n_study = study.ensemble.n_configurations
    moved = 0
    for comp in study.compositions:
        current = set(task_keys(study, comp))
        for row in store.tags(study=study.name, label=comp.label):
            key, index = row.get("task_hash"), row.get("index")
            if key in current or not isinstance(index, int) or index < 0:
                continue
            new = task_key(study, comp, index)
            if key == new:
                continue
            sizes = [n_study] + [n for n in range(index + 1, LEGACY_MAX_N + 1) if n != n_study]
            if any(key == _legacy_task_key(study, comp, index, n) for n in sizes if n > index):
                if store.rekey(key, new):
                    moved += 1
    if moved:
        log.info("re-keyed %d stored configurations of %s (ensemble size no longer in the key)",
                 moved, study.name)
    return moved


def migrate_legacy_relax_keys(store: ResultsStore, study: Study, comp: StudyComposition) -> int:
    """Re-key rows relaxed before the optimiser was part of the task key.

    Those rows were all relaxed by FIRE (the only default then), so when ``study.relax``
    asks for FIRE, a row stored under the old key (same inputs, no optimiser) whose
    relaxation record says FIRE is the result of the new key: it is re-keyed, not recomputed.

    Returns
    -------
    int
        Rows re-keyed.
    """
    from nasicon_sim.relax import canonical_optimizer

    if study.relax.method == "none" or canonical_optimizer(study.relax.optimizer) != "FIRE":
        return 0
    n = 0
    for i, key in enumerate(task_keys(study, comp)):
        if key in store:
            continue
        old = task_hash(_task_inputs(study, comp, i, legacy=True))
        row = store.get(old)
        if row is None:
            continue
        used = ((row.get("relaxation") or {}).get("settings") or {}).get("optimizer", "FIRE")
        if str(used).upper() == "FIRE" and store.rekey(old, key):
            n += 1
    if n:
        log.info("%s: re-keyed %d FIRE relaxation(s) stored before the optimiser was in the key",
                 comp.label, n)
    return n


def _bvse_kwargs(study: Study) -> dict[str, Any]:
    b = study.bvse
    ion = b.mobile_ion if b.mobile_ion.endswith(("+", "-")) else f"{b.mobile_ion}+"
    return {"spacing_A": b.spacing_A, "mobile_ion": ion, "connectivity": b.connectivity,
            **dict(b.options)}


def _build(study: Study, comp: StudyComposition, start: int = 0) -> dict[int, Any]:
    """Configurations ``start .. n-1`` of a composition (all of them with ``dedup``, whose
    k-th configuration depends on the draws before it), by index."""
    from nasicon_sim.structure.ensemble import build_ensemble

    ens = study.ensemble
    start = 0 if ens.dedup else start
    ensemble = build_ensemble(comp.formula, n=ens.n_configurations,
                              seed=_ensemble_seed(ens.seed, comp.label), method=ens.method,
                              supercell=ens.supercell, min_atoms=ens.min_atoms,
                              max_atoms=ens.max_atoms, dedup=ens.dedup, start=start)
    return {config.index: config for config in ensemble}


def _reference(config) -> tuple:
    from nasicon_sim.structure.parent import load_reference
    from nasicon_sim.structure.supercell import parent_sites_in_supercell

    meta = config.metadata()
    frac, labels, wyck = parent_sites_in_supercell(load_reference(meta.get("parent", "NZSP_C2c")),
                                                   config.supercell_matrix, "Na")
    return (np.asarray(frac).tolist(), list(labels), list(wyck))


def _ml_scores(study: Study) -> dict[str, dict[str, Any]]:
    """Synthesizability scores per label, from a model fitted on the shipped literature table
    without the rows of ``study.ml.exclude_sources`` ({'error': ...} entries if unavailable)."""
    from nasicon_sim.composition import parse_nasicon

    comps = [parse_nasicon(c.formula) for c in study.compositions]
    try:
        from nasicon_sim.ml.dataset import load_literature
        from nasicon_sim.ml.prediction import DEFAULT_FEATURES, default_stability_model, predict
        from nasicon_sim.ml.synthesizability import fit_synthesizability_model

        train = load_literature(exclude_sources=tuple(study.ml.exclude_sources))
        model = fit_synthesizability_model(train, study.ml.model, DEFAULT_FEATURES,
                                           stability=default_stability_model())
        preds = predict(comps, model)
    except (NasiconSimError, ImportError) as exc:
        log.warning("ML scoring unavailable: %s", exc)
        return {c.label: {"error": str(exc)} for c in study.compositions}
    out = {}
    for comp, pred in zip(study.compositions, preds):
        out[comp.label] = {**pred.as_dict(), "n_training": len(train.compositions),
                           "excluded_sources": list(study.ml.exclude_sources)}
    return out


#: Relaxation methods a study file may name without ``--allow-plugins``.
BUILTIN_RELAX_METHODS = ("none", "chgnet")


def check_plugins(study: Study, allow_plugins: bool) -> None:
    """Refuse a study whose ``[relax] method`` names Python code, unless the user allowed it.

    A study file is data, possibly from someone else: ``method = "module:factory"`` would
    import that module (running its top-level code) in every worker. Only the person running
    the command can allow that, with ``--allow-plugins``.

    Raises
    ------
    NasiconSimError
    """
    method = str(study.relax.method).strip()
    if method.lower() not in BUILTIN_RELAX_METHODS and not allow_plugins:
        module = method.partition(":")[0]
        raise NasiconSimError(
            f"study {study.name!r}: [relax] method = {method!r} would import and run the Python "
            f"module {module!r}; a study file cannot enable code by itself: pass "
            "--allow-plugins if you trust it, or use method = \"chgnet\" or \"none\"")
    neb = getattr(study, "neb", None)
    calc = "chgnet" if neb is None else str(neb.calculator).strip()
    if calc.lower() != "chgnet" and not allow_plugins:
        module = calc.partition(":")[0]
        raise NasiconSimError(
            f"study {study.name!r}: [neb] calculator = {calc!r} would import and run the Python "
            f"module {module!r}; a study file cannot enable code by itself: pass "
            "--allow-plugins if you trust it, or use calculator = \"chgnet\"")


def run_study(
    study: Study,
    out_dir: str | Path | None = None,
    *,
    workers: int | None = None,
    dask_address: str | None = None,
    store_url: str | None = None,
    progress: bool = True,
    report: bool = True,
    allow_plugins: bool = False,
    redraw: bool = False,
) -> StudyResults:
    """Run a study end to end and write its report.

    Parameters
    ----------
    study : Study
        From :func:`nasicon_sim.study.load_study`.
    out_dir : str or Path, optional
        Where the store (``results.db``) and the report go; default ``<study dir>/results``
        (or ``results-<profile>`` for a profile).
    workers : int, optional
        Local worker processes (default: all cores).
    dask_address : str, optional
        A dask.distributed scheduler; the same tasks are sent there instead.
    store_url : str, optional
        An ase.db URL (e.g. PostgreSQL) instead of ``<out_dir>/results.db``.
    progress : bool
        Show a progress bar on standard error.
    report : bool
        Write ``report.md``, figures and ``report.html``.
    allow_plugins : bool
        Let the study's ``[relax] method`` or ``[neb] calculator = "module:factory"`` import
        and run that module (``--allow-plugins``); without it such a study is refused before
        any work.
    redraw : bool
        Redraw the stored landscape sections with the current figure code
        (:func:`redraw_sections`, ``--redraw-sections``).

    Returns
    -------
    StudyResults
    """
    t0 = time.perf_counter()
    check_plugins(study, allow_plugins)
    if out_dir is None:
        base = study.path or Path.cwd()
        out_dir = base / ("results" if study.profile is None else f"results-{study.profile}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(store_url or out_dir / "results.db")
    migrate_task_keys(store, study)
    for directory in (out_dir, out_dir / "figures"):  # left by a run killed while writing
        for path in clean_stale_temporaries(directory):
            log.info("removed %s, left by an interrupted write", path)

    tasks: list[ConfigTask] = []
    structures: dict[str, Any] = {}
    n_total = 0
    for comp in study.compositions:
        migrate_legacy_relax_keys(store, study, comp)
        keys = task_keys(study, comp)
        n_total += len(keys)
        missing = [i for i, k in enumerate(keys) if k not in store]
        if not missing:
            continue
        log.info("building configurations %d..%d of %s", missing[0],
                 study.ensemble.n_configurations - 1, comp.label)
        progress_stage(f"building configurations of {comp.label}")
        ensemble = _build(study, comp, start=missing[0])
        for i in missing:
            if i not in ensemble:
                continue  # dedup ran out of distinct configurations: reported in the summary
            config = ensemble[i]
            structures[keys[i]] = (config, comp)
            tasks.append(ConfigTask(
                key=keys[i], study=study.name, label=comp.label, formula=comp.formula, index=i,
                structure=config.structure.as_dict(), reference=_reference(config),
                bvse=_bvse_kwargs(study) | ({"threads": 1} if (workers or 2) > 1 or dask_address else {}),
                relax=asdict(study.relax), keep_preview=(i == 0),
            ))
    n_reused = n_total - len(tasks)
    progress_stage(f"computing {len(tasks)} configurations ({n_reused} reused from the store)")
    failures: list[str] = []
    bar = None
    if progress and tasks:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc=f"{study.name}: configurations", unit="cfg",
                   file=sys.stderr, disable=None)
    def store_result(task: ConfigTask, result: Any) -> None:
        if isinstance(result, BaseException):
            failures.append(f"{task.label}#{task.index}: {type(result).__name__}: {result}")
            log.error("configuration %s #%d failed: %s", task.label, task.index, result)
        else:
            config, comp = structures[task.key]
            extra = {k: result.pop(k) for k in ("preview", "slice_png") if k in result}
            relaxed = result.pop("relaxed_structure", None)
            if relaxed is None:
                analysed = config.structure
            else:
                from pymatgen.core import Structure

                analysed = Structure.from_dict(relaxed)
            result["structure_fingerprint"] = task_hash(structure_fingerprint(config.structure))
            result["ewald_energy_eV"] = float(config.ewald_energy_eV)
            result["n_atoms"] = len(config.structure)
            meta = config.metadata()
            result["supercell_matrix"] = meta.get("supercell_matrix")
            result["exact"] = bool(meta.get("exact", True))
            result["deviation_per_fu"] = meta.get("deviation_per_fu", {})
            tags = {"study": study.name, "label": comp.label, "index": task.index,
                    "method": study.ensemble.method}
            store.put(task.key, analysed, result, tags, extra_data=extra or None)
            cached = _relax_cache_path(task)
            if cached is not None:
                cached.unlink(missing_ok=True)  # stored: the saved relaxation is not needed
        if bar is not None:
            bar.update(1)

    try:
        batch = study.relax.batch_size if study.relax.method != "none" else 1
        if batch > 1:  # workers relax batches of configurations (nasicon_sim.relax.relax_batch)
            cache = str(out_dir / "relax-cache")
            tasks = [replace(t, relax_cache=cache) for t in tasks]
            chunks = [tuple(tasks[i:i + batch]) for i in range(0, len(tasks), batch)]
            for chunk, results in run_tasks(run_configuration_batch, chunks, workers=workers,
                                            dask_address=dask_address):
                if isinstance(results, BaseException):
                    results = [results] * len(chunk)
                for task, result in zip(chunk, results):
                    store_result(task, result)
        else:
            for task, result in run_tasks(run_configuration, tasks, workers=workers,
                                          dask_address=dask_address):
                store_result(task, result)
    finally:
        if bar is not None:
            bar.close()
    if redraw:  # figures of configurations stored by earlier runs, in the current style
        redraw_sections(study, store)
    kmc_summary: dict[str, Any] = {}
    if study.kmc is not None:  # transport is its own stage, keyed by configuration + [kmc]
        from nasicon_sim.transport.study import collect_kmc, run_study_kmc

        keys_by_label = {c.label: task_keys(study, c) for c in study.compositions}
        kmc_failures = run_study_kmc(study, store, keys_by_label, _bvse_kwargs(study),
                                     workers=workers, dask_address=dask_address,
                                     progress=progress)
        kmc_summary = collect_kmc(study, store, keys_by_label)
    else:
        kmc_failures = []
    neb_summary: dict[str, Any] = {}
    neb_failures: list[str] = []
    if study.neb is not None:  # NEB is its own stage, keyed by configuration + hop + [neb]
        from nasicon_sim.neb.study import collect_neb, run_study_neb

        progress_stage("NEB barriers of the network hops")
        keys_by_label = {c.label: task_keys(study, c) for c in study.compositions}
        neb_failures = run_study_neb(study, store, keys_by_label, workers=workers,
                                     dask_address=dask_address, progress=progress)
        neb_summary, table, model = collect_neb(study, store, keys_by_label)
        table.write(out_dir / "neb_barriers")
        from nasicon_sim.io.atomic import atomic_write_text

        atomic_write_text(out_dir / "neb_barrier_model.json",
                          json.dumps(model.as_dict(), indent=1) + "\n")
    run = RunSummary(n_tasks=n_total, n_computed=len(tasks) - len(failures), n_reused=n_reused,
                     failures=tuple(failures + kmc_failures + neb_failures),
                     seconds=round(time.perf_counter() - t0, 2),
                     executor=f"dask:{dask_address}" if dask_address else f"local:{workers or 'all'}")
    progress_stage("aggregating the results")
    results = aggregate(study, store, run, out_dir)
    if kmc_summary:
        results = replace(results, kmc=kmc_summary)
    if neb_summary:
        results = replace(results, neb=neb_summary)
    if report:
        progress_stage(f"writing the report in {out_dir}")
        from nasicon_sim.report.study import write_study_report

        write_study_report(results, store, previews(store, study))
    return results


def aggregate(study: Study, store: ResultsStore, run: RunSummary, out_dir: Path) -> StudyResults:
    """Per-composition summaries, ML scores and rank correlations from the stored rows."""
    from nasicon_sim.composition import parse_nasicon
    from nasicon_sim.descriptors import describe

    ml = _ml_scores(study)
    comps = []
    for comp in study.compositions:
        keys = set(task_keys(study, comp))
        records = sorted((rec for rec in store.records(study=study.name, label=comp.label)
                          if rec[0].get("task_hash") in keys), key=lambda rec: rec[0]["index"])
        rows = [r for r, _ in records]
        descriptors = describe(parse_nasicon(comp.formula)).as_dict()
        barriers = {k: [_as_float(r.get(k)) for r in rows] for k in BARRIER_KEYS}
        summaries = {k: summarise_barriers(v, study.bvse.threshold_eV) for k, v in barriers.items()}
        refined = {k: [_refined_value(r, k) for r in rows] for k in REFINED_KEYS}
        refined_summaries = {k: summarise_barriers(v, study.bvse.threshold_eV)
                             for k, v in refined.items()}
        bottlenecks = Counter((r.get("bottleneck_3D") or {}).get("link", "none") for r in rows)
        first = rows[0] if rows else {}
        comps.append(CompositionResult(
            composition=comp,
            descriptors=descriptors,
            ml=ml.get(comp.label, {}),
            barriers=barriers,
            summaries=summaries,
            bottlenecks_3D=dict(bottlenecks.most_common()),
            n_configurations=len(rows),
            n_atoms=int(first.get("n_atoms", 0)),
            supercell_matrix=first.get("supercell_matrix") or [],
            exact=bool(first.get("exact", True)),
            deviation_per_fu=dict(first.get("deviation_per_fu") or {}),
            ewald_energy_eV_per_atom=[r["ewald_energy_eV"] / r["n_atoms"] for r in rows
                                      if r.get("n_atoms")],
            bvse_seconds=float(sum(r.get("bvse_seconds", 0.0) for r in rows)),
            relaxation=_relaxation_summary(rows, study.bvse.threshold_eV),
            minima_eV=[_as_float(r.get("E_min_eV")) for r in rows],
            deepest_site_cations=dict(Counter(
                _deepest_site_key(r, atoms, descriptors["m_site"]) for r, atoms in records
            ).most_common()),
            n_frameworks=len({_framework_key(atoms, study.bvse.mobile_ion) for _, atoms in records}),
            refined=refined,
            refined_summaries=refined_summaries,
        ))
    correlations = {}
    sigma = {c.composition.label: (math.log10(c.composition.sigma_total_mS_cm)
                                   if c.composition.sigma_total_mS_cm else None) for c in comps}
    for key in BARRIER_KEYS:
        correlations[f"{key} vs log10 sigma_total"] = rank_correlation(
            {c.composition.label: c.barriers[key] for c in comps}, sigma)
    if all(c.refined_summaries and c.refined_summaries["E_3D_refined_eV"].n_finite
           for c in comps):
        correlations["E_3D_refined_eV vs log10 sigma_total"] = rank_correlation(
            {c.composition.label: c.refined["E_3D_refined_eV"] for c in comps}, sigma)
    return StudyResults(study=study, compositions=tuple(comps), correlations=correlations,
                        run=run, out_dir=out_dir, store_url=store.url,
                        ml_evaluation=_ml_evaluation(study))


#: Repeats of the 10-fold cross-validation of the ML models quoted in the study report.
ML_CV_REPEATS = 3


def _ml_evaluation(study: Study) -> dict[str, Any]:
    """Cross-validated quality of the phase-purity classifiers on the shipped literature table.

    The report quotes it next to the ML probabilities, because a probability means little
    without the model's measured skill. ``holdout`` (for the ROC figure) stays in memory.
    """
    try:
        from nasicon_sim.ml.dataset import literature_table
        from nasicon_sim.ml.synthesizability import evaluate_literature

        ev = evaluate_literature(literature_table(), strict=False, n_repeats=ML_CV_REPEATS,
                                 importance_model="", score_study=False)
    except (NasiconSimError, ImportError) as exc:
        log.warning("ML evaluation unavailable: %s", exc)
        return {"error": str(exc)}
    try:
        from nasicon_sim.ml.selection import report_summary

        nested: dict[str, Any] | None = report_summary()
    except (NasiconSimError, ImportError, OSError, KeyError) as exc:
        log.warning("nested-CV record unavailable: %s", exc)
        nested = None
    return {
        "nested": nested,
        "protocol": f"stratified 10-fold CV x {ML_CV_REPEATS} repeats, seed {ev.seed}",
        "n_compositions": len(ev.dataset.compositions),
        "counts": ev.dataset.counts(),
        "models": {r.name: r.as_dict() for r in ev.cv},
        "holdout": ev.holdout,
    }


def _mean(values: list[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return float(np.mean(vals)) if vals else None


def _relaxation_summary(rows: list[dict[str, Any]], threshold_eV: float) -> dict[str, Any] | None:
    """Relaxed vs unrelaxed barriers and distortion metrics over a composition's configurations."""
    relaxed = [r for r in rows if r.get("unrelaxed")]
    if not relaxed:
        return None
    out: dict[str, Any] = {
        "n": len(relaxed),
        "n_converged": sum(bool((r.get("relaxation") or {}).get("converged")) for r in relaxed),
        "calculator": (relaxed[0].get("relaxation") or {}).get("calculator"),
    }
    for key in BARRIER_KEYS:
        out[f"unrelaxed_{key}"] = summarise_barriers(
            [_as_float(r["unrelaxed"].get(key)) for r in relaxed], threshold_eV).as_dict()
        out[f"relaxed_{key}"] = summarise_barriers(
            [_as_float(r.get(key)) for r in relaxed], threshold_eV).as_dict()
    for stage, get in (("unrelaxed", lambda r: r["unrelaxed"].get("distortion") or {}),
                       ("relaxed", lambda r: r.get("distortion") or {})):
        for metric in ("gii_vu", "m_distortion_index_mean", "m_distortion_index_max",
                       "na_displacement_mean_A"):
            out[f"{stage}_{metric}"] = _mean([get(r).get(metric) for r in relaxed])
    out["energy_change_per_atom_eV"] = _mean(
        [(r.get("relaxation") or {}).get("energy_change_per_atom_eV") for r in relaxed])
    return out


def _deepest_site_key(row: Mapping[str, Any], atoms: Any, m_elements: Mapping[str, float]) -> str:
    """'Ga-Ti': the two M cations nearest to the global minimum of one configuration."""
    from nasicon_sim.site_environment import nearest_cations, neighbour_key

    sites = row.get("sites") or []
    if not sites or atoms is None:
        return "none"
    deepest = min(sites, key=lambda s: s["energy_eV"])
    return neighbour_key(nearest_cations(atoms.cell.array, deepest["frac_coords"],
                                         atoms.get_scaled_positions(wrap=False),
                                         atoms.get_chemical_symbols(), list(m_elements)))


def _framework_key(atoms: Any, mobile_ion: str) -> str:
    """Hash of the atoms BVSE keeps (all but the mobile ion): equal for equal landscapes."""
    element = mobile_ion.rstrip("+-0123456789")
    keep = [i for i, el in enumerate(atoms.get_chemical_symbols()) if el != element]
    frac = np.round(atoms.get_scaled_positions(wrap=True)[keep], 3) % 1.0
    rows = sorted(zip(np.asarray(atoms.get_chemical_symbols())[keep].tolist(),
                      map(tuple, frac.tolist())))
    cell = np.round(atoms.cell.array, 3).tolist()
    return task_hash({"cell": cell, "atoms": rows})


def _refined_value(row: Mapping[str, Any], key: str) -> float:
    """A network-refined threshold of a stored row (eV); NaN when the row predates it.

    Rows written before the network-wide refinement carry ``E_*_refined_eV`` from the critical
    grid points only, which can depend on the grid (issue 12); they have no
    ``metadata["refinement"]`` and are not mixed with the new values.
    """
    if not (row.get("metadata") or {}).get("refinement"):
        return math.nan
    return _as_float(row.get(key))


def _as_float(value: Any) -> float:
    if value is None:
        return math.inf  # no percolation below the network cap
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def redraw_sections(study: Study, store: ResultsStore) -> list[str]:
    """Redraw the stored landscape sections and previews with the current figure code.

    For configuration 0 of every composition (the one the report draws), the landscape is
    recomputed from the stored structure (the relaxed one when the study relaxes) with the
    study's BVSE settings; its E_1D/E_2D/E_3D must reproduce the stored values to 1e-6 eV,
    else nothing is replaced. Only the figure data of the row change.

    Returns
    -------
    list of str
        The labels whose figures were redrawn.

    Raises
    ------
    NasiconSimError
        A stored configuration is not reproduced (other code or settings: recompute the
        study instead).
    """
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    from nasicon_sim.bvse.analysis import analyse
    from nasicon_sim.bvse.settings import BVSESettings
    from nasicon_sim.network import ReferenceSites

    done = []
    for comp in study.compositions:
        key = task_keys(study, comp)[0]
        recs = list(store.records(task_hash=key))
        if not recs:
            continue
        row, atoms = recs[0]
        progress_stage(f"redrawing the section of {comp.label}")
        config = _build(study, comp, start=0)[0]
        frac, labels, wyck = _reference(config)
        reference = ReferenceSites(np.asarray(frac, dtype=float), tuple(labels), tuple(wyck))
        settings = BVSESettings(**_bvse_kwargs(study), keep_landscape=True)
        stored = AseAtomsAdaptor.get_structure(atoms)
        if [sp.symbol for sp in stored.species] != [
                getattr(sp, "symbol", str(sp)) for sp in config.structure.species]:
            raise NasiconSimError(
                f"{study.name} {comp.label}#0: the stored structure is not the configuration the "
                "builder makes now: recompute the study instead of redrawing its sections")
        # the stored (possibly relaxed) positions with the builder's oxidation states
        structure = Structure(stored.lattice, config.structure.species, stored.frac_coords)
        result = analyse(structure, settings, reference)
        for dim, value in zip((1, 2, 3), result.barriers_eV):
            stored = _as_float(row.get(f"E_{dim}D_eV"))
            same = (value is None and not math.isfinite(stored)) or (
                value is not None and math.isfinite(stored) and abs(value - stored) <= 1e-6)
            if not same:
                raise NasiconSimError(
                    f"{study.name} {comp.label}#0: E_{dim}D recomputed {value} eV differs from "
                    f"the stored {stored} eV; the store was made by other code or settings: "
                    "recompute the study instead of redrawing its sections")
        store.update_figures(key, {
            "preview": _preview(np.asarray(result.landscape.energies_eV)),
            "slice_png": _slice_png(result, comp.label, row.get("supercell_matrix"))})
        done.append(comp.label)
    return done


def previews(store: ResultsStore, study: Study) -> Mapping[str, tuple[np.ndarray, np.ndarray, dict, bytes | None]]:
    """Stored landscape previews: label -> (energies, lattice, result, slice PNG bytes or None)."""
    out = {}
    for comp in study.compositions:
        key = task_keys(study, comp)[0]
        got = store.get_with_data(key)
        if got is None:
            continue
        result, data = got
        if data.get("preview") is not None and result.get("lattice"):
            png = data.get("slice_png")
            out[comp.label] = (np.asarray(data["preview"]), np.asarray(result["lattice"]), result,
                               None if png is None else np.asarray(png, dtype=np.uint8).tobytes())
    return out
