"""``assay data build``: turn local repositories and folders into a filtered, split, sharded corpus.

Two stages:

1. **Scan**, per repository: path filters (vendored / minified / lock files), binary and content
   filters (generated headers, long lines), language detection, license lookup (and the
   ``permissive`` policy), decontamination, secret scrubbing. Kept files go to
   ``.work/<repo>.jsonl``; a completion marker ``.work/<repo>.done.json`` records the counts, the
   repository's fingerprint (git HEAD + status, or file sizes and mtimes) and the options. A rerun
   skips every repository whose marker still matches.
2. **Assemble**: split by repository, exact and near-duplicate removal across all repositories
   (training repositories first, so validation never repeats training files), shards, manifest.
   Skipped when the manifest's ``inputs_key`` already matches.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from assay.errors import ConfigError
from assay.languages import LANGUAGES, detect_language
from assay.train.corpus.decontam import DEFAULT_NGRAM, Decontaminator, default_decontaminator
from assay.train.corpus.dedup import DedupConfig, Deduplicator
from assay.train.corpus.filters import FilterLimits, content_reason, is_binary, path_reason
from assay.train.corpus.licenses import RepositoryLicenses, is_permissive
from assay.train.corpus.manifest import (
    MANIFEST_NAME,
    LanguageStats,
    Manifest,
    Record,
    RepositoryScan,
    Split,
    SplitStats,
)
from assay.train.corpus.secrets import scrub_secrets
from assay.train.corpus.shards import ShardWriter
from assay.train.corpus.sources import Repository, discover
from assay.train.corpus.tokens import TokenCounter

WORK_DIR = ".work"
LicensePolicy = Literal["any", "permissive"]


@dataclass(frozen=True)
class BuildOptions:
    licenses: LicensePolicy = "any"
    """``permissive`` keeps only files whose license is permissive (see ``licenses.PERMISSIVE``)."""
    val_fraction: float = 0.1
    """Share of repositories held out for validation (at least one when there are two or more)."""
    shard_bytes: int = 64 * 1024 * 1024
    decontaminate: bool = True
    ngram: int = DEFAULT_NGRAM
    dedup: DedupConfig = field(default_factory=DedupConfig)
    limits: FilterLimits = field(default_factory=FilterLimits)
    languages: tuple[str, ...] = ()
    """Keep only these ``assay.languages`` ids (all known languages when empty); matched case-insensitively."""
    tokenizer: str | None = None
    """A tokenizer directory or ``tokenizer.json`` to count tokens with; approximate counts when None."""
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.licenses not in ("any", "permissive"):
            raise ConfigError(f"licenses must be 'any' or 'permissive', got '{self.licenses}'")
        if self.shard_bytes <= 0:
            raise ConfigError(f"shard_bytes must be positive, got {self.shard_bytes}")
        if self.ngram <= 0:
            raise ConfigError(f"ngram must be positive, got {self.ngram}")
        object.__setattr__(self, "languages", language_ids(self.languages))

    def scan_key(self) -> str:
        """Hash of the options that change what a repository scan keeps."""
        relevant = {"licenses": self.licenses, "decontaminate": self.decontaminate, "ngram": self.ngram,
                    "limits": asdict(self.limits), "languages": list(self.languages)}
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def language_ids(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as canonical ``assay.languages`` ids (``Python`` -> ``python``), without repeats.

    An unknown name is an error rather than a filter that silently keeps nothing.
    """
    known = {lang.id for lang in LANGUAGES}
    ids: list[str] = []
    for name in names:
        lang_id = name.strip().lower()
        if lang_id not in known:
            raise ConfigError(f"unknown language '{name}'; known ids: {', '.join(sorted(known))}")
        ids.append(lang_id)
    return tuple(dict.fromkeys(ids))


@dataclass(frozen=True)
class BuildResult:
    out: Path
    manifest: Manifest
    scanned: tuple[str, ...]
    """Repositories scanned in this run."""
    skipped: tuple[str, ...]
    """Repositories whose earlier scan was reused."""
    assembled: bool
    """False when the existing shards and manifest already matched and were kept."""


ProgressHook = Callable[[str, int, int], None]
"""Called as ``hook(repository_name, files_done, files_total)`` while scanning."""


def scan_repository(repo: Repository, options: BuildOptions, work: Path,
                    decontaminator: Decontaminator | None, progress: ProgressHook | None = None) -> RepositoryScan:
    """Stage 1 for one repository; writes ``work/<name>.jsonl`` and then its ``.done.json`` marker."""
    licenses = RepositoryLicenses(repo.root)
    removed: Counter[str] = Counter()
    secrets: Counter[str] = Counter()
    contaminated: Counter[str] = Counter()
    files = repo.files(exclude=work.parent)
    kept = 0
    staged = work / f"{repo.name}.jsonl"
    with staged.open("w", encoding="utf-8") as out:
        for i, rel in enumerate(files, 1):
            if progress is not None:
                progress(repo.name, i, len(files))
            reason, record = _scan_file(repo, rel, licenses, options, decontaminator, secrets, contaminated)
            if reason is not None:
                removed[reason] += 1
                continue
            assert record is not None
            out.write(record.model_dump_json() + "\n")
            kept += 1
    scan = RepositoryScan(name=repo.name, root=str(repo.root), fingerprint=repo.fingerprint(exclude=work.parent),
                          options_key=options.scan_key(), seen=len(files), kept=kept, removed=dict(removed),
                          secrets=dict(secrets), contaminated=dict(contaminated))
    (work / f"{repo.name}.done.json").write_text(scan.model_dump_json(indent=2), encoding="utf-8")
    return scan


def _scan_file(repo: Repository, rel: str, licenses: RepositoryLicenses, options: BuildOptions,
               decontaminator: Decontaminator | None, secrets: Counter[str],
               contaminated: Counter[str]) -> tuple[str | None, Record | None]:
    if (reason := path_reason(rel)) is not None:
        return reason, None
    language = detect_language(rel)
    if language is None:
        return "unknown_language", None
    if options.languages and language.id not in options.languages:
        return "language_not_selected", None
    path = repo.root / rel
    try:
        if path.stat().st_size > options.limits.max_file_bytes:
            return "too_large", None
        data = path.read_bytes()
    except OSError:
        return "unreadable", None
    if is_binary(data):
        return "binary", None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "not_utf8", None
    if (reason := content_reason(text, options.limits)) is not None:
        return reason, None
    license_id = licenses.license_for(rel, text)
    if options.licenses == "permissive" and not is_permissive(license_id):
        return "license", None
    if decontaminator is not None and (hit := decontaminator.check(text)) is not None:
        contaminated[hit.benchmark] += 1
        return "contaminated", None
    scrubbed = scrub_secrets(text)
    secrets.update(scrubbed.found)
    return None, Record(text=scrubbed.text, repo=repo.name, path=rel, language=language.id, license=license_id)


def _assign_splits(repos: Sequence[Repository], options: BuildOptions) -> dict[str, Split]:
    def rank(r: Repository) -> str:
        return hashlib.sha256(f"{options.seed}:{r.name}".encode()).hexdigest()

    ordered = sorted(repos, key=rank)
    n_val = round(len(ordered) * options.val_fraction)
    if options.val_fraction > 0 and len(ordered) >= 2:
        n_val = max(1, min(len(ordered) - 1, n_val))
    return {r.name: ("validation" if i < n_val else "train") for i, r in enumerate(ordered)}


def _inputs_key(options: BuildOptions, scans: Sequence[RepositoryScan]) -> str:
    h = hashlib.sha256(json.dumps(asdict(options), sort_keys=True, default=str).encode())
    for scan in scans:
        h.update(f"{scan.name}:{scan.fingerprint}:{scan.options_key}\n".encode())
    return h.hexdigest()


def assemble(out: Path, repos: Sequence[Repository], scans: Sequence[RepositoryScan], sources: Sequence[str],
             options: BuildOptions) -> Manifest:
    """Stage 2: dedup across repositories, split, shard, and write the manifest."""
    splits = _assign_splits(repos, options)
    for old in list(out.glob("train-*.jsonl")) + list(out.glob("validation-*.jsonl")):
        old.unlink()
    counter = TokenCounter(options.tokenizer)
    dedup = Deduplicator(options.dedup)
    writers = {s: ShardWriter(out, s, options.shard_bytes) for s in ("train", "validation")}
    manifest = Manifest(sources=list(sources), inputs_key=_inputs_key(options, scans), token_count=counter.kind,
                        splits={"train": SplitStats(), "validation": SplitStats()})
    removed: Counter[str] = Counter()
    for scan in scans:
        manifest.files_seen += scan.seen
        removed.update(scan.removed)
        _add(manifest.contaminated, scan.contaminated)
        _add(manifest.secrets_scrubbed, scan.secrets)
    licenses: Counter[str] = Counter()
    ordered = sorted(scans, key=lambda s: (splits[s.name] != "train", s.name))
    for scan in ordered:
        split = splits[scan.name]
        stats = manifest.splits[split]
        stats.repositories.append(scan.name)
        with (out / WORK_DIR / f"{scan.name}.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                record = Record.model_validate_json(line)
                verdict = dedup.add(f"{record.repo}/{record.path}", record.text)
                if verdict != "unique":
                    removed[verdict] += 1
                    continue
                writers[split].write(record)
                n_bytes = len(record.text.encode("utf-8", errors="replace"))
                n_tokens = counter.count(record.text)
                lang = manifest.languages.setdefault(record.language, LanguageStats())
                lang.files += 1
                lang.bytes += n_bytes
                lang.tokens += n_tokens
                licenses[record.license] += 1
                stats.files += 1
                stats.bytes += n_bytes
                stats.tokens += n_tokens
    for writer in writers.values():
        manifest.shards += writer.close()
    manifest.files = sum(s.files for s in manifest.splits.values())
    manifest.bytes = sum(s.bytes for s in manifest.splits.values())
    manifest.tokens = sum(s.tokens for s in manifest.splits.values())
    manifest.licenses = dict(licenses.most_common())
    manifest.removed = dict(removed.most_common())
    manifest.repositories = list(scans)
    manifest.write(out)
    return manifest


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value


def _load_marker(work: Path, repo: Repository, options: BuildOptions) -> RepositoryScan | None:
    marker = work / f"{repo.name}.done.json"
    if not marker.is_file() or not (work / f"{repo.name}.jsonl").is_file():
        return None
    try:
        scan = RepositoryScan.model_validate_json(marker.read_text(encoding="utf-8"))
    except ValueError:
        return None
    if scan.options_key != options.scan_key() or scan.fingerprint != repo.fingerprint(exclude=work.parent):
        return None
    return scan


def build_corpus(sources: Sequence[Path], out: Path, options: BuildOptions = BuildOptions(), *,
                 progress: ProgressHook | None = None, force: bool = False) -> BuildResult:
    """Build (or bring up to date) the corpus in ``out`` from ``sources``; see the module docstring."""
    if not sources:
        raise ConfigError("no sources given: name at least one repository or folder")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"the corpus folder {out} is an existing file; name a folder (it is created when missing)")
    repos: list[Repository] = []
    for source in sources:
        repos.extend(discover(Path(source)))
    names = [r.name for r in repos]
    if len(set(names)) != len(names):
        raise ConfigError("the same repository was named twice among the sources")
    if not any(repo.files(exclude=out) for repo in repos):
        raise ConfigError(f"no files found in {', '.join(str(s) for s in sources)}: nothing to build a corpus from "
                          "(hidden folders are not read)")
    work = out / WORK_DIR
    if force and work.exists():
        shutil.rmtree(work)
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the corpus folder {out}: {exc.strerror or exc}") from None
    decontaminator = default_decontaminator(options.ngram) if options.decontaminate else None
    scans: list[RepositoryScan] = []
    scanned: list[str] = []
    skipped: list[str] = []
    for repo in repos:
        marker = _load_marker(work, repo, options)
        if marker is not None:
            skipped.append(repo.name)
            scans.append(marker)
            continue
        scans.append(scan_repository(repo, options, work, decontaminator, progress))
        scanned.append(repo.name)
    key = _inputs_key(options, scans)
    if not force and (out / MANIFEST_NAME).is_file():
        try:
            existing = Manifest.read(out)
        except ConfigError:
            existing = None
        if existing is not None and existing.inputs_key == key and all((out / s.path).is_file() for s in existing.shards):
            return BuildResult(out, existing, tuple(scanned), tuple(skipped), assembled=False)
    manifest = assemble(out, repos, scans, [str(s) for s in sources], options)
    return BuildResult(out, manifest, tuple(scanned), tuple(skipped), assembled=True)
