"""Labelled phase-outcome tables: reading, validation, the label policy, atomic appends.

A table is a CSV with at least the columns ``formula`` (as printed by the source) and
``phase_outcome``: ``single_phase`` (the source states a single-phase NASICON after its
synthesis), ``secondary_phases`` (the source names an extra phase, or says the composition
could not be made), or ``ambiguous`` (the source does not say). ``note`` (tags in square
brackets), ``doi``, ``source_url`` and ``source`` are optional. The shipped literature table
(``data/literature/``, counts in the README there) is one such table; users bring their own.

Turning rows into training data is a named, explicit :class:`LabelPolicy`; every row it
leaves out is kept in :attr:`Dataset.issues` with the reason, in this order of precedence:

1. ``processing_variant``: the note carries a tag of ``policy.exclude_tags``
   (``[EXCLUDE_FROM_MSITE_MODEL]``: sintering aids, glass additives, processing series);
2. ``unbalanced_as_printed``: the note carries a tag of ``policy.unbalanced_tags``
   (``[CHARGE_IMBALANCE_AS_PRINTED]``, ``[FORMULA_TYPO_AS_PRINTED]``). Such a row is never
   repaired, not even when a different oxidation state would balance it (Ti3+ does for
   Na3.5HfTi(SiO4)1.5(PO4)1.5);
3. ``unparseable``: :func:`~nasicon_sim.composition.parse_nasicon` rejects the formula
   (in strict mode this is an error instead, with one message per bad row);
4. ``unlabelled``: ``phase_outcome`` is ``ambiguous``;
5. ``second_hand``: tagged ``[SECOND_HAND]`` while ``policy.include_second_hand`` is False.

The remaining rows are merged per composition (equal site occupancies within 1e-3 per formula
unit, whatever the notation or the order of the M-site cations). Their labels are combined by
``policy.duplicates``:

* ``"majority"`` (default): the label most reports give; a tie drops the composition;
* ``"any_single_phase"``: one reported single-phase synthesis makes it single phase;
* ``"drop_conflicts"``: a composition with contradictory reports is dropped.

Compositions with contradictory reports are listed in :attr:`Dataset.conflicts` with the
resolution, whichever rule is used.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np

from nasicon_sim.composition import NasiconComposition, parse_nasicon
from nasicon_sim.errors import DataError, NasiconSimError
from nasicon_sim.io.atomic import atomic_write_bytes

__all__ = [
    "LABELS",
    "LITERATURE_NAME",
    "POLICIES",
    "REQUIRED_COLUMNS",
    "Conflict",
    "Dataset",
    "LabelPolicy",
    "LabelledComposition",
    "RowIssue",
    "Table",
    "TableRow",
    "append_outcome",
    "build_dataset",
    "composition_key",
    "load_dataset",
    "load_literature",
    "read_table",
]

logger = logging.getLogger(__name__)

#: Columns a phase-outcome table must have.
REQUIRED_COLUMNS: tuple[str, ...] = ("formula", "phase_outcome")
#: Allowed values of ``phase_outcome``.
LABELS: tuple[str, ...] = ("single_phase", "secondary_phases", "ambiguous")
#: Name under which the shipped literature table is reported.
LITERATURE_NAME = "nasicon_literature.csv (shipped)"
#: Columns of a new user table created by :func:`append_outcome`.
#: Bad rows listed in a table's error message (the rest are counted).
MAX_ERRORS_SHOWN = 20
NEW_TABLE_COLUMNS: tuple[str, ...] = ("formula", "phase_outcome", "source", "note")
_SOURCE_COLUMNS = ("source", "doi", "source_url")
_TAG = re.compile(r"\[([A-Z][A-Z_]+)")
_KEY_DECIMALS = 3

IssueKind = Literal[
    "processing_variant", "unbalanced_as_printed", "unparseable", "unlabelled", "second_hand"
]


@dataclass(frozen=True)
class LabelPolicy:
    """How rows of a phase-outcome table become labelled compositions (see module docstring).

    Attributes
    ----------
    name : str
        Name reported with every result and stored with fitted models.
    duplicates : {"majority", "any_single_phase", "drop_conflicts"}
        How the reports of one composition are combined.
    exclude_tags : tuple of str
        Note tags that mark processing or additive variants (excluded).
    unbalanced_tags : tuple of str
        Note tags that mark formulas that do not balance as printed (excluded, reported).
    include_second_hand : bool
        Whether rows tagged ``[SECOND_HAND]`` (labels from surveys or reviews) are used.
    """

    name: str = "majority"
    duplicates: Literal["majority", "any_single_phase", "drop_conflicts"] = "majority"
    exclude_tags: tuple[str, ...] = ("EXCLUDE_FROM_MSITE_MODEL",)
    unbalanced_tags: tuple[str, ...] = ("CHARGE_IMBALANCE_AS_PRINTED", "FORMULA_TYPO_AS_PRINTED")
    include_second_hand: bool = True

    def __post_init__(self) -> None:
        if self.duplicates not in ("majority", "any_single_phase", "drop_conflicts"):
            raise DataError(f"unknown duplicate rule {self.duplicates!r}")


#: The named policies; ``majority`` is the default everywhere.
POLICIES: dict[str, LabelPolicy] = {
    "majority": LabelPolicy(),
    "any-single-phase": LabelPolicy(name="any-single-phase", duplicates="any_single_phase"),
    "drop-conflicts": LabelPolicy(name="drop-conflicts", duplicates="drop_conflicts"),
    "first-hand": LabelPolicy(name="first-hand", include_second_hand=False),
}


def get_policy(policy: LabelPolicy | str | None) -> LabelPolicy:
    """A :class:`LabelPolicy` from itself, its name, or None (the default, ``majority``)."""
    if policy is None:
        return POLICIES["majority"]
    if isinstance(policy, LabelPolicy):
        return policy
    if policy not in POLICIES:
        raise DataError(f"unknown label policy {policy!r}; choose one of {', '.join(POLICIES)}")
    return POLICIES[policy]


@dataclass(frozen=True)
class TableRow:
    """One data row of a table, as read.

    Attributes
    ----------
    line : int
        Line number in the file (the header is line 1).
    fields : dict of str to str
        The row's cells by column name (stripped).
    """

    line: int
    fields: dict[str, str]

    @property
    def formula(self) -> str:
        return self.fields.get("formula", "")

    @property
    def label(self) -> str:
        return self.fields.get("phase_outcome", "")

    @property
    def note(self) -> str:
        return self.fields.get("note", "")

    @property
    def tags(self) -> frozenset[str]:
        """Tags in square brackets found in the note, e.g. ``{"SECOND_HAND", "FAMILY"}``."""
        return frozenset(_TAG.findall(self.note))

    @property
    def source(self) -> str:
        """The first non-empty of the ``source``, ``doi`` and ``source_url`` cells."""
        for column in _SOURCE_COLUMNS:
            if self.fields.get(column):
                return self.fields[column]
        return ""


@dataclass(frozen=True)
class Table:
    """A validated phase-outcome table.

    Attributes
    ----------
    name : str
        Path of the file, or :data:`LITERATURE_NAME`.
    columns : tuple of str
        Header.
    rows : tuple of TableRow
    sha256 : str
        SHA-256 of the file's bytes (identifies the data a model was fitted on).
    """

    name: str
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]
    sha256: str


@dataclass(frozen=True)
class RowIssue:
    """A row left out of the training data, and why."""

    line: int
    formula: str
    kind: IssueKind
    reason: str


@dataclass(frozen=True)
class Conflict:
    """A composition with contradictory reports, and what the policy did with it."""

    formula: str
    lines: tuple[int, ...]
    n_single_phase: int
    n_secondary_phases: int
    resolution: str


@dataclass(frozen=True)
class LabelledComposition:
    """One unique composition with its merged label.

    Attributes
    ----------
    composition : NasiconComposition
        From the first report.
    label : str
        ``single_phase`` or ``secondary_phases``.
    lines : tuple of int
        Lines of the reports merged here.
    formulas : tuple of str
        The formulas as printed in those reports.
    sources : tuple of str
        Their sources (DOI or URL).
    n_single_phase, n_secondary_phases : int
        How many reports say each.
    """

    composition: NasiconComposition
    label: str
    lines: tuple[int, ...]
    formulas: tuple[str, ...]
    sources: tuple[str, ...]
    n_single_phase: int
    n_secondary_phases: int

    @property
    def y(self) -> int:
        """1 for single phase, 0 for secondary phases."""
        return int(self.label == "single_phase")


@dataclass(frozen=True)
class Dataset:
    """Labelled compositions from a table under a policy, and everything left out.

    Attributes
    ----------
    entries : tuple of LabelledComposition
        One per unique composition, in order of first appearance.
    issues : tuple of RowIssue
        Rows left out, with the reason.
    conflicts : tuple of Conflict
        Compositions with contradictory reports.
    policy : LabelPolicy
    table_name : str
    sha256 : str
        Of the table file.
    n_rows : int
        Data rows in the table.
    """

    entries: tuple[LabelledComposition, ...]
    issues: tuple[RowIssue, ...]
    conflicts: tuple[Conflict, ...]
    policy: LabelPolicy
    table_name: str
    sha256: str
    n_rows: int
    excluded_sources: tuple[str, ...] = field(default=())

    @property
    def compositions(self) -> list[NasiconComposition]:
        return [e.composition for e in self.entries]

    @property
    def y(self) -> np.ndarray:
        """Labels, shape (n,), int: 1 single phase, 0 secondary phases."""
        return np.array([e.y for e in self.entries], dtype=int)

    @property
    def formulas(self) -> list[str]:
        """The first printed formula of each composition."""
        return [e.formulas[0] for e in self.entries]

    def counts(self) -> dict[str, int]:
        """Row and composition counts: what the policy kept and left out."""
        out = {"rows": self.n_rows}
        for kind in ("processing_variant", "unbalanced_as_printed", "unparseable",
                     "unlabelled", "second_hand"):
            out[f"rows_{kind}"] = sum(1 for i in self.issues if i.kind == kind)
        out["rows_labelled_used"] = sum(len(e.lines) for e in self.entries)
        out["rows_dropped_by_conflict"] = sum(
            len(c.lines) for c in self.conflicts if c.resolution.startswith("dropped"))
        out["rows_from_excluded_sources"] = (
            self.n_rows - sum(v for k, v in out.items() if k.startswith("rows_") and k != "rows"))
        out["compositions"] = len(self.entries)
        out["single_phase"] = int(self.y.sum()) if self.entries else 0
        out["secondary_phases"] = len(self.entries) - out["single_phase"]
        out["conflicts"] = len(self.conflicts)
        return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parse_csv(text: str, name: str, sha256: str) -> Table:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{name}: the file is empty (expected a CSV header)") from None
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{name}: missing required column(s) {', '.join(missing)} "
            f"(the header has: {', '.join(header) or 'nothing'})"
        )
    duplicated = sorted({h for h in header if header.count(h) > 1 and h})
    if duplicated:
        raise DataError(f"{name}: column(s) {', '.join(duplicated)} appear more than once")
    rows: list[TableRow] = []
    errors: list[str] = []
    for cells in reader:
        line_no = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(f"line {line_no}: {len(cells)} cells for {len(header)} columns")
            continue
        fields = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}
        row = TableRow(line_no, fields)
        if not row.formula:
            errors.append(f"line {line_no}: empty formula")
        label = row.label.lower()
        if label not in LABELS:
            errors.append(
                f"line {line_no}: phase_outcome {row.label!r} is not one of {', '.join(LABELS)}"
            )
        else:
            fields["phase_outcome"] = label
        rows.append(row)
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        more = len(errors) - len(shown)
        raise DataError(f"{name}: {len(errors)} bad row(s):\n  " + "\n  ".join(shown)
                        + (f"\n  ... and {more} more bad row(s)" if more else ""))
    return Table(name, tuple(header), tuple(rows), sha256)


def read_table(path: str | os.PathLike) -> Table:
    """Read and validate a phase-outcome CSV (columns and labels; formulas are checked later).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Table

    Raises
    ------
    DataError
        Missing file or columns, or bad rows (every bad row named with its line number).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"no such dataset file: {path}") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a directory, not a CSV file") from None
    except OSError:  # a symbolic-link loop, no permission...: say which
        from nasicon_sim.io.read import require_file

        require_file(path, DataError)
        raise
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return _parse_csv(text, str(path), _sha256(data))


def literature_table() -> Table:
    """The shipped literature table (``nasicon_sim/data/literature/nasicon_literature.csv``)."""
    data = resources.files("nasicon_sim").joinpath(
        "data/literature/nasicon_literature.csv").read_bytes()
    return _parse_csv(data.decode("utf-8"), LITERATURE_NAME, _sha256(data))


def composition_key(c: NasiconComposition) -> tuple:
    """Identity of a composition for merging reports: site occupancies rounded to 1e-3."""
    def site(d: dict[str, float]) -> tuple:
        return tuple(sorted((el, round(a, _KEY_DECIMALS)) for el, a in d.items()
                            if round(a, _KEY_DECIMALS) > 0))
    return (round(c.na, _KEY_DECIMALS), site(dict(c.m_site)), site(dict(c.t_site)))


def _combine(policy: LabelPolicy, n_single: int, n_secondary: int) -> str | None:
    if n_single and n_secondary:
        if policy.duplicates == "any_single_phase":
            return "single_phase"
        if policy.duplicates == "drop_conflicts" or n_single == n_secondary:
            return None
    return "single_phase" if n_single > n_secondary else "secondary_phases"


def build_dataset(
    table: Table,
    policy: LabelPolicy | str | None = None,
    *,
    strict: bool = True,
    exclude_sources: Sequence[str] = (),
) -> Dataset:
    """Apply a label policy to a table.

    Parameters
    ----------
    table : Table
    policy : LabelPolicy or str, optional
        Default :data:`POLICIES` ``["majority"]``.
    strict : bool, default True
        Raise :class:`DataError` listing every formula that does not parse (rows excluded by a
        tag are not parsed). With False, such rows are left out and reported as
        ``unparseable``.
    exclude_sources : sequence of str
        Rows whose ``doi``, ``source_url`` or ``source`` equals one of these are left out
        before merging (e.g. to score a study's compositions with a model that never saw them).

    Returns
    -------
    Dataset
    """
    policy = get_policy(policy)
    drop = {s.strip().lower() for s in exclude_sources if s.strip()}
    issues: list[RowIssue] = []
    errors: list[str] = []
    groups: dict[tuple, list[tuple[TableRow, NasiconComposition]]] = {}
    for row in table.rows:
        if drop and {row.fields.get(c, "").lower() for c in _SOURCE_COLUMNS} & drop:
            continue
        tags = row.tags
        hit = sorted(tags & set(policy.exclude_tags))
        if hit:
            issues.append(RowIssue(row.line, row.formula, "processing_variant",
                                   f"tagged [{hit[0]}]: not an M-site substitution"))
            continue
        hit = sorted(tags & set(policy.unbalanced_tags))
        if hit:
            issues.append(RowIssue(row.line, row.formula, "unbalanced_as_printed",
                                   _unbalanced_reason(row.formula, hit[0])))
            continue
        try:
            comp = parse_nasicon(row.formula)
        except NasiconSimError as exc:
            if strict:
                errors.append(f"line {row.line}: {exc}")
            else:
                issues.append(RowIssue(row.line, row.formula, "unparseable", str(exc)))
            continue
        if row.label == "ambiguous":
            issues.append(RowIssue(row.line, row.formula, "unlabelled",
                                   "phase_outcome is ambiguous (the source does not say)"))
            continue
        if "SECOND_HAND" in tags and not policy.include_second_hand:
            issues.append(RowIssue(row.line, row.formula, "second_hand",
                                   "label from a survey or review; policy uses first-hand only"))
            continue
        groups.setdefault(composition_key(comp), []).append((row, comp))
    if errors:
        raise DataError(
            f"{table.name}: {len(errors)} formula(s) cannot be used:\n  " + "\n  ".join(errors)
            + "\n(fix them, tag the rows, or load with strict=False / --lenient to skip them)"
        )
    entries: list[LabelledComposition] = []
    conflicts: list[Conflict] = []
    for reports in groups.values():
        n_single = sum(1 for r, _ in reports if r.label == "single_phase")
        n_secondary = len(reports) - n_single
        label = _combine(policy, n_single, n_secondary)
        lines = tuple(r.line for r, _ in reports)
        formula = reports[0][1].formula_pretty
        if n_single and n_secondary:
            resolution = (f"labelled {label} ({policy.duplicates})" if label
                          else f"dropped ({policy.duplicates}: "
                               f"{n_single} single_phase vs {n_secondary} secondary_phases)")
            conflicts.append(Conflict(formula, lines, n_single, n_secondary, resolution))
        if label is None:
            continue
        entries.append(LabelledComposition(
            composition=reports[0][1],
            label=label,
            lines=lines,
            formulas=tuple(r.formula for r, _ in reports),
            sources=tuple(r.source for r, _ in reports),
            n_single_phase=n_single,
            n_secondary_phases=n_secondary,
        ))
    dataset = Dataset(tuple(entries), tuple(issues), tuple(conflicts), policy, table.name,
                      table.sha256, len(table.rows), tuple(sorted(drop)))
    logger.info("%s under policy %s: %s", table.name, policy.name, dataset.counts())
    return dataset


def _unbalanced_reason(formula: str, tag: str) -> str:
    try:
        comp = parse_nasicon(formula)
    except NasiconSimError as exc:
        return f"tagged [{tag}]; the parser also rejects it: {exc}"
    forced = [n for n in comp.notes if n.startswith("oxidation states chosen")]
    detail = f" ({forced[0]})" if forced else ""
    return (f"tagged [{tag}]; it parses only with non-preferred states{detail}, which is not "
            "used to repair a printed formula" if forced
            else f"tagged [{tag}] by the curator although it parses; left out as tagged")


def load_dataset(
    path: str | os.PathLike | None = None,
    policy: LabelPolicy | str | None = None,
    *,
    strict: bool | None = None,
    exclude_sources: Sequence[str] = (),
) -> Dataset:
    """Read a phase-outcome table and apply a label policy.

    Parameters
    ----------
    path : path-like, optional
        A user CSV; None for the shipped literature table.
    policy : LabelPolicy or str, optional
        Default ``"majority"``.
    strict : bool, optional
        Unparseable formulas raise (default for user files) or are reported and skipped
        (default for the shipped table, whose problem rows are documented in its README).
    exclude_sources : sequence of str
        Sources (DOI/URL) whose rows are left out.

    Returns
    -------
    Dataset
    """
    if path is None:
        table = literature_table()
        strict = False if strict is None else strict
    else:
        table = read_table(path)
        strict = True if strict is None else strict
    return build_dataset(table, policy, strict=strict, exclude_sources=exclude_sources)


def load_literature(
    policy: LabelPolicy | str | None = None, exclude_sources: Sequence[str] = ()
) -> Dataset:
    """The shipped literature table under a label policy (unparseable rows reported)."""
    return load_dataset(None, policy, strict=False, exclude_sources=exclude_sources)


# --------------------------------------------------------------------------- appending


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path.lock`` (POSIX; a no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append_outcome(
    path: str | os.PathLike,
    formula: str,
    label: str,
    source: str,
    note: str = "",
    *,
    _before_replace: Callable[[], None] | None = None,
) -> TableRow:
    """Append one experimental outcome to a user table (created if missing), atomically.

    The new content (old bytes + the new row) is written to a temporary file next to the
    table, flushed to disk, and renamed over it; an interruption leaves the old table intact.
    Concurrent appends are serialised with a lock file (POSIX).

    Parameters
    ----------
    path : path-like
        The user table. A new file gets the columns :data:`NEW_TABLE_COLUMNS`.
    formula : str
        Must parse as a NASICON composition.
    label : str
        One of :data:`LABELS`.
    source : str
        Where the outcome comes from (DOI, URL, lab notebook page); required.
    note : str
        Free text.

    Returns
    -------
    TableRow
        The row as it will be read back.

    Raises
    ------
    DataError
        Bad label, empty source, an unusable existing table; FormulaError subclasses for a
        formula that does not parse.
    """
    path = Path(path)
    label = label.strip().lower()
    if label not in LABELS:
        raise DataError(f"label {label!r} is not one of {', '.join(LABELS)}")
    if not source.strip():
        raise DataError("a source is required (DOI, URL or lab notebook reference)")
    parse_nasicon(formula)  # raises a clear FormulaError subclass
    with _locked(path):
        if path.exists():
            old = path.read_bytes()
            table = _parse_csv(old.decode("utf-8-sig"), str(path), _sha256(old))
            columns = table.columns
        else:
            old, columns = b"", NEW_TABLE_COLUMNS
        values = {"formula": formula.strip(), "phase_outcome": label, "note": note.strip()}
        source_column = next((c for c in _SOURCE_COLUMNS if c in columns), None)
        if source_column is None:
            raise DataError(
                f"{path} has no source column ({', '.join(_SOURCE_COLUMNS)}); add one first"
            )
        values[source_column] = source.strip()
        if values["note"] and "note" not in columns:
            raise DataError(f"{path} has no note column; add one or leave out the note")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if not old:
            writer.writerow(columns)
        elif not old.endswith(b"\n"):
            buffer.write("\n")
        writer.writerow([values.get(c, "") for c in columns])
        new = old + buffer.getvalue().encode("utf-8")
        atomic_write_bytes(path, new, _before_replace=_before_replace)
    line = new.count(b"\n")
    logger.info("appended %s (%s) to %s", formula, label, path)
    return TableRow(line, {c: values.get(c, "") for c in columns})



# --------------------------------------------------------------------------- row evidence

#: Note tag of a labelled row whose label rests on the curator's summary of the source rather
#: than on quoted words (older rows of the shipped table; accepted, counted and listed).
PARAPHRASE_TAG = "PARAPHRASE"
#: Words quoted in a note: straight or curly double quotes around at least two words.
_QUOTE = re.compile(r'"([^"]+)"|\u201c([^\u201d]+)\u201d')


def quoted_words(note: str) -> list[str]:
    """The quotations of at least two words in a note (straight or curly double quotes).

    Examples
    --------
    >>> quoted_words('Hong 1976: "complete solid solution ... 0<=x<=3"; "Se" (=Sc)')
    ['complete solid solution ... 0<=x<=3']
    """
    found = (a or b for a, b in _QUOTE.findall(note))
    return [q.strip() for q in found if len(q.split()) >= 2]


def check_row_evidence(table: Table, *, require_quote: bool = True) -> tuple[int, ...]:
    """Refuse a labelled row that does not say where its label comes from.

    Every row labelled ``single_phase`` or ``secondary_phases`` needs a source (a ``doi``,
    ``source_url`` or ``source`` cell) and, with ``require_quote``, the source's own words that
    give the outcome, in double quotes in its ``note``. Rows tagged ``[PARAPHRASE]`` (the
    curator summarised the source instead of quoting it) are accepted and returned.
    ``ambiguous`` rows need neither.

    Parameters
    ----------
    table : Table
    require_quote : bool, default True
        Also demand quoted words (the shipped literature table always does; a user's table of
        lab results may rely on its ``source`` cell alone).

    Returns
    -------
    tuple of int
        Lines of labelled rows tagged ``[PARAPHRASE]``.

    Raises
    ------
    DataError
        One line naming the first offending row (and how many more there are).
    """
    problems: list[str] = []
    paraphrased: list[int] = []
    for row in table.rows:
        if row.label not in ("single_phase", "secondary_phases"):
            continue
        where = f"{table.name} line {row.line} ({row.formula})"
        if not row.source:
            problems.append(f"{where} is labelled {row.label} but names no source; fill its "
                            f"{' or '.join(c for c in _SOURCE_COLUMNS if c in table.columns)}")
        elif require_quote and not quoted_words(row.note):
            if PARAPHRASE_TAG in row.tags:
                paraphrased.append(row.line)
            else:
                problems.append(f"{where} is labelled {row.label} but its note quotes no words "
                                "of the source; put the words that give the outcome in double "
                                "quotes, or label the row ambiguous")
    if problems:
        more = f" (and {len(problems) - 1} more such rows)" if len(problems) > 1 else ""
        raise DataError(problems[0] + more)
    return tuple(paraphrased)
