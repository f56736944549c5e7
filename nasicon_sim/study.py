"""Study definitions: a TOML file in ``calculations/<study>/study.toml`` parsed into typed data.

A study is data plus one function (the runner): which compositions, with which labels and
measured values, how large an ensemble of supercells per composition, which ordering method,
which BVSE settings, which ML model and whether to relax. Nothing here computes anything.

The file format (see ``calculations/zuo2026/study.toml`` for a complete example)::

    [study]            name, title, source
    [ensemble]         n_configurations, method, seed, min_atoms, max_atoms, supercell, dedup
    [bvse]             spacing_A, mobile_ion, connectivity, threshold_eV, convention options
    [ml]               model
    [relax]            method ("none", "chgnet", or "module:factory"), fmax_eV_A, steps, cell,
                       optimizer (an ASE optimiser, nasicon_sim.relax.OPTIMIZERS), batch_size
    [kmc]              optional: kMC transport of every stored configuration (KMCSpec)
    [neb]              optional: NEB barriers of the network hops of the first configurations
                       (NEBSpec; the report shows them beside the BVSE barriers)
    [profiles.NAME]    overrides of the sections above (e.g. a laptop-sized profile)
    [[composition]]    label, formula, single_phase, phase, sigma_total_mS_cm, ea_eV, ...
"""

from __future__ import annotations

import copy
import os
import re
import sys
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from nasicon_sim.errors import DataError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "BVSESpec",
    "EnsembleSpec",
    "MLSpec",
    "KMCSpec",
    "NEBSpec",
    "RelaxSpec",
    "Study",
    "StudyComposition",
    "bundled_study_dir",
    "load_study",
]


@dataclass(frozen=True)
class StudyComposition:
    """One composition of a study, with what was measured on it.

    Attributes
    ----------
    label : str
        Short name used in tables and plots (``ME1``).
    formula : str
        As printed; parsed with :func:`nasicon_sim.composition.parse_nasicon`.
    single_phase : bool or None
        Experimental phase outcome (True: single-phase NASICON), None if unknown.
    phase : str
        Phase analysis in words.
    sigma_total_mS_cm : float or None
        Measured room-temperature total ionic conductivity, mS/cm.
    ea_eV : float or None
        Measured activation energy, eV.
    sigma_bulk_mS_cm : float or None
        Measured bulk (grain) conductivity, mS/cm, when reported.
    source : str
        Where the measured values come from.
    note : str
        Free text shown in the report.
    """

    label: str
    formula: str
    single_phase: bool | None = None
    phase: str = ""
    sigma_total_mS_cm: float | None = None
    ea_eV: float | None = None
    sigma_bulk_mS_cm: float | None = None
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class EnsembleSpec:
    """How the supercell ensemble of each composition is built."""

    n_configurations: int = 10
    method: str = "ewald"
    seed: int = 0
    min_atoms: int = 0
    max_atoms: int = 500
    supercell: str | None = None
    dedup: bool = False


@dataclass(frozen=True)
class BVSESpec:
    """BVSE and percolation settings (forwarded to the BVSE engine)."""

    spacing_A: float = 0.2
    mobile_ion: str = "Na"
    connectivity: int = 26
    threshold_eV: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MLSpec:
    """Which synthesizability model scores the compositions.

    Attributes
    ----------
    model : str
        Classifier short name (``gnb``, ``knn``, ``dt``, ``svm``, ``mlp``, ``hgb``).
    exclude_sources : list of str
        Sources (DOI/URL) whose rows are left out of the training table, e.g. the study's own
        DOI, so that its compositions are scored by a model that has not seen them.
    """

    model: str = "gnb"
    exclude_sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RelaxSpec:
    """Relaxation before BVSE: ``none``, ``chgnet``, or ``module:factory`` of an ASE calculator.

    ``optimizer`` is the ASE optimiser (part of the task key); ``batch_size`` how many
    configurations a worker relaxes together in one batched model call per step (1: one by
    one; not part of the task key, since a batch takes the same steps as one-by-one).
    """

    method: str = "none"
    fmax_eV_A: float = 0.05
    steps: int = 500
    cell: bool = False
    optimizer: str = "LBFGS"  # nasicon_sim.relax.DEFAULT_OPTIMIZER (the measured best)
    batch_size: int = 1


@dataclass(frozen=True)
class KMCSpec:
    """The ``[kmc]`` table: kinetic Monte Carlo transport on each configuration's network.

    Fields are those of :class:`nasicon_sim.transport.KMCSettings` (temperatures_K, passes,
    equilibration_passes, runs, blocks, seed, attempt_frequency_Hz, interaction_scale,
    blocking_distance_A, min_length_A, kra_floor_eV) plus ``max_configurations``: kMC on the
    first N configurations of each composition (0: all). ``kra_floor_eV`` enters the task
    key only when it is set (> 0), so studies recorded before it existed keep their keys.
    """

    temperatures_K: list = field(default_factory=lambda: [373.0, 473.0, 573.0])
    passes: int = 1000
    equilibration_passes: int = 200
    runs: int = 4
    blocks: int = 25
    seed: int = 0
    attempt_frequency_Hz: float = 5e12
    interaction_scale: float = 1.0
    blocking_distance_A: float = 2.5
    min_length_A: float = 20.0
    kra_floor_eV: float = 0.0
    max_configurations: int = 0

    def settings_dict(self) -> dict[str, Any]:
        """Keyword arguments of ``KMCSettings`` (validated there)."""
        d = asdict(self)
        d.pop("max_configurations")
        if not d["kra_floor_eV"]:
            d.pop("kra_floor_eV")
        d["temperatures_K"] = [float(t) for t in d["temperatures_K"]]
        return d


@dataclass(frozen=True)
class NEBSpec:
    """The ``[neb]`` table: climbing-image NEB of each configuration's network hops.

    Band fields are those of :class:`nasicon_sim.neb.NEBSettings` (n_images, spring_eV_A2,
    fmax_eV_A, steps, climb, method, relax_fmax_eV_A, relax_steps, calculator, idpp); images
    are evaluated one by one (batching measured slower on CPU, ``benchmarks/bench_neb.py``).
    ``max_configurations``: NEB on the first N configurations of each composition (0: all;
    default 1); ``max_hops``: the first N hops of each configuration's network, percolation
    bottlenecks first (default 2); ``label_pairs``: only these hops, e.g.
    ``["Na1-Na2", "Na1-Na3"]`` (empty: any).
    """

    n_images: int = 5
    spring_eV_A2: float = 0.1
    fmax_eV_A: float = 0.05
    steps: int = 500
    climb: bool = True
    method: str = "improvedtangent"
    relax_fmax_eV_A: float | None = None
    relax_steps: int = 500
    calculator: str = "chgnet"
    idpp: bool = True
    max_configurations: int = 1
    max_hops: int = 2
    label_pairs: list = field(default_factory=list)

    def settings_dict(self) -> dict[str, Any]:
        """Keyword arguments of ``NEBSettings`` (validated there)."""
        d = asdict(self)
        for k in ("max_configurations", "max_hops", "label_pairs"):
            d.pop(k)
        d["batch"] = False
        return d


@dataclass(frozen=True)
class Study:
    """A parsed study definition.

    Attributes
    ----------
    name, title, source : str
        Identification and the reference the study reproduces.
    compositions : tuple of StudyComposition
    ensemble : EnsembleSpec
    bvse : BVSESpec
    ml : MLSpec
    relax : RelaxSpec
    profile : str or None
        Name of the profile applied (None: the file's base settings).
    path : Path or None
        Directory of the study file.
    """

    name: str
    title: str
    source: str
    compositions: tuple[StudyComposition, ...]
    ensemble: EnsembleSpec = EnsembleSpec()
    bvse: BVSESpec = BVSESpec()
    ml: MLSpec = MLSpec()
    relax: RelaxSpec = RelaxSpec()
    kmc: KMCSpec | None = None
    neb: NEBSpec | None = None
    profile: str | None = None
    path: Path | None = None
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    def with_profile(self, name: str) -> Study:
        """The same study with the overrides of ``[profiles.NAME]`` applied."""
        if name not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise DataError(f"study {self.name!r} has no profile {name!r} (profiles: {known})")
        overrides = self.profiles[name]
        kwargs: dict[str, Any] = {"profile": name}
        for section, cls in _SECTIONS.items():
            if section in overrides:
                current = asdict(getattr(self, section))
                current.update(overrides[section])
                kwargs[section] = _build(cls, current, f"profiles.{name}.{section}")
        if "kmc" in overrides:
            current = asdict(self.kmc or KMCSpec())
            current.update(overrides["kmc"])
            kwargs["kmc"] = _build(KMCSpec, current, f"profiles.{name}.kmc")
        if "neb" in overrides:
            current = asdict(self.neb or NEBSpec())
            current.update(overrides["neb"])
            kwargs["neb"] = _build(NEBSpec, current, f"profiles.{name}.neb")
        return replace(self, **kwargs)

    def composition(self, label: str) -> StudyComposition:
        """The composition with this label."""
        for comp in self.compositions:
            if comp.label == label:
                return comp
        raise DataError(f"study {self.name!r} has no composition labelled {label!r}")

    def settings_dict(self) -> dict[str, Any]:
        """The computational settings (everything but the compositions), JSON-able."""
        return {
            "ensemble": asdict(self.ensemble),
            "bvse": asdict(self.bvse),
            "ml": asdict(self.ml),
            "relax": asdict(self.relax),
            "kmc": None if self.kmc is None else asdict(self.kmc),
            "neb": None if self.neb is None else asdict(self.neb),
            "profile": self.profile,
        }


_SECTIONS = {"ensemble": EnsembleSpec, "bvse": BVSESpec, "ml": MLSpec, "relax": RelaxSpec}


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise DataError(f"[{where}]: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}")
    try:
        obj = cls(**values)
    except TypeError as exc:
        raise DataError(f"[{where}]: {exc}") from None
    for name, f in known.items():
        value = getattr(obj, name)
        expected = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        if expected in ("int",) and not (isinstance(value, int) and not isinstance(value, bool)):
            raise DataError(f"[{where}] {name} must be an integer, got {value!r}")
        if expected in ("float",) and not isinstance(value, (int, float)):
            raise DataError(f"[{where}] {name} must be a number, got {value!r}")
        if expected in ("bool",) and not isinstance(value, bool):
            raise DataError(f"[{where}] {name} must be true or false, got {value!r}")
    return obj


#: Composition labels name report files (``figures/section_<label>.png``): no separators.
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}")


def _validate(study: Study) -> None:
    from nasicon_sim.composition import parse_nasicon

    if not study.compositions:
        raise DataError(f"study {study.name!r} defines no [[composition]]")
    labels = [c.label for c in study.compositions]
    for label in labels:
        if not (isinstance(label, str) and _LABEL.fullmatch(label)) or ".." in label:
            raise DataError(
                f"study {study.name!r}: composition label {label!r} is not usable in file names; "
                "use 1-40 letters, digits, '_', '-', '+', '.' (e.g. ME1)")
    duplicates = sorted({lab for lab in labels if labels.count(lab) > 1})
    if duplicates:
        raise DataError(f"study {study.name!r}: duplicate composition labels {duplicates}")
    for comp in study.compositions:
        parse_nasicon(comp.formula)  # raises a clear FormulaError naming the formula
    if study.ensemble.n_configurations < 1:
        raise DataError("[ensemble] n_configurations must be >= 1")
    if study.ensemble.method not in ("random", "ewald", "sqs"):
        raise DataError(f"[ensemble] method must be random, ewald or sqs, got {study.ensemble.method!r}")
    if not study.bvse.spacing_A > 0:
        raise DataError("[bvse] spacing_A must be positive")
    if study.bvse.connectivity not in (6, 26):
        raise DataError("[bvse] connectivity must be 6 or 26")
    from nasicon_sim.relax import OPTIMIZERS

    if str(study.relax.optimizer).upper() not in {o.upper() for o in OPTIMIZERS}:
        raise DataError(f"[relax] optimizer must be one of {', '.join(OPTIMIZERS)}, "
                        f"got {study.relax.optimizer!r}")
    if study.relax.batch_size < 1:
        raise DataError(f"[relax] batch_size must be >= 1, got {study.relax.batch_size}")
    if study.kmc is not None:
        from nasicon_sim.errors import NasiconSimError
        from nasicon_sim.transport.simulate import KMCSettings

        try:
            KMCSettings.from_dict(study.kmc.settings_dict())
        except NasiconSimError as exc:
            raise DataError(f"[kmc] {exc}") from None
    if study.neb is not None:
        _validate_neb(study.neb)


def _validate_neb(spec: NEBSpec) -> None:
    from nasicon_sim.errors import NasiconSimError
    from nasicon_sim.neb.band import NEBSettings

    try:
        NEBSettings.from_dict(spec.settings_dict())
    except NasiconSimError as exc:
        raise DataError(f"[neb] {exc}") from None
    for name in ("max_configurations", "max_hops"):
        value = getattr(spec, name)
        low = 0 if name == "max_configurations" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise DataError(f"[neb] {name} must be an integer >= {low}, got {value!r}")
    pairs = spec.label_pairs
    if not isinstance(pairs, list) or not all(
            isinstance(p, str) and re.fullmatch(r"[A-Za-z0-9_]+-[A-Za-z0-9_]+", p) for p in pairs):
        raise DataError(f"[neb] label_pairs must be a list of hops like \"Na1-Na2\", got {pairs!r}")


def load_study(path: str | Path, profile: str | None = None) -> Study:
    """Read and validate a study definition.

    Parameters
    ----------
    path : str or Path
        A ``study.toml`` file or the directory holding it.
    profile : str, optional
        Apply the overrides of ``[profiles.<profile>]``.

    Returns
    -------
    Study

    Raises
    ------
    DataError
        Missing file, TOML syntax error, unknown keys, wrong types, bad formulas
        (the message names the key or formula).
    """
    path = Path(path)
    file = path / "study.toml" if path.is_dir() else path
    if not file.is_file():
        if not os.path.lexists(file):
            raise DataError(f"no study definition at {file}")
        from nasicon_sim.io.read import require_file

        require_file(file, DataError)  # a directory, a broken link, a link loop: says which
    try:
        raw = tomllib.loads(file.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{file}: invalid TOML: {exc}") from None
    raw = copy.deepcopy(raw)
    head = raw.pop("study", {})
    for key in ("name", "title", "source"):
        if key not in head:
            raise DataError(f"{file}: [study] needs '{key}'")
    comps_raw = raw.pop("composition", [])
    compositions = tuple(
        _build(StudyComposition, dict(c), f"composition {i + 1}") for i, c in enumerate(comps_raw)
    )
    sections = {name: _build(cls, raw.pop(name, {}), name) for name, cls in _SECTIONS.items()}
    kmc_raw = raw.pop("kmc", None)
    sections["kmc"] = None if kmc_raw is None else _build(KMCSpec, dict(kmc_raw), "kmc")
    neb_raw = raw.pop("neb", None)
    sections["neb"] = None if neb_raw is None else _build(NEBSpec, dict(neb_raw), "neb")
    profiles = raw.pop("profiles", {})
    if raw:
        raise DataError(f"{file}: unknown section(s) {', '.join(sorted(raw))}")
    study = Study(
        name=str(head["name"]),
        title=str(head["title"]),
        source=str(head["source"]),
        compositions=compositions,
        profiles=profiles,
        path=file.parent,
        **sections,
    )
    _validate(study)
    if profile is not None:
        study = study.with_profile(profile)
        _validate(study)
    return study


def bundled_study_dir(name: str = "zuo2026") -> Path:
    """Directory of a study shipped with nasicon-sim (``calculations/<name>``).

    The repository's ``calculations/`` in a source checkout or editable install; the copy of
    its ``study.toml`` bundled into the wheel otherwise.
    """
    from importlib import resources

    checkout = Path(__file__).resolve().parents[1] / "calculations" / name
    if (checkout / "study.toml").is_file():
        return checkout
    bundled = Path(str(resources.files("nasicon_sim"))) / "_bundled" / "calculations" / name
    if (bundled / "study.toml").is_file():
        return bundled
    raise DataError(f"no bundled study {name!r} (expected calculations/{name}/study.toml)")
