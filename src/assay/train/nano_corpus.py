"""assay-nano's training corpus: permissively licensed code that is on the machine without a model hub.

Sources: the CPython standard library that ships with Python (PSF-2.0), and Debian source packages
when installed (``golang-1.19-src``: BSD-3-Clause; ``ruby3.1``'s library: Ruby OR BSD-2-Clause),
whose licenses are read from their machine-readable ``/usr/share/doc/*/copyright`` files. Test
suites, test data and IDLE are skipped; files sharing a long word n-gram with a benchmark prompt or
solution in the evaluation data (HumanEval, HumanEval-X, MBPP) are dropped and counted.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assay.errors import ConfigError
from assay.languages import detect_language

_WORD = re.compile(r"\w+")
_SKIP_DIRS = frozenset({"test", "tests", "testdata", "idlelib", "site-packages", "dist-packages", "__pycache__",
                        "vendor", "lib2to3", "turtledemo", "testing"})


@dataclass(frozen=True)
class CorpusSource:
    name: str
    root: Path
    suffixes: tuple[str, ...]
    license: str
    license_evidence: str
    """Where the license was read (a copyright file or the Python distribution)."""
    max_bytes: int | None = None
    """Cap on this source's share; files are taken in a stable hashed order until the cap."""
    skip_suffixes: tuple[str, ...] = ()


@dataclass
class SourceReport:
    name: str
    license: str
    license_evidence: str
    files: int = 0
    bytes: int = 0
    dropped_contaminated: int = 0
    dropped_other: int = 0


@dataclass
class CorpusReport:
    path: Path
    files: int
    bytes: int
    ngram: int
    sources: list[SourceReport] = field(default_factory=list)
    contaminated_files: list[str] = field(default_factory=list)


def debian_license(package: str, doc_root: Path = Path("/usr/share/doc")) -> str | None:
    """The ``License:`` of the ``Files: *`` stanza of a Debian machine-readable copyright file."""
    path = doc_root / package / "copyright"
    if not path.is_file():
        return None
    for stanza in path.read_text(encoding="utf-8", errors="replace").split("\n\n"):
        if re.search(r"^Files:\s*\*\s*$", stanza, re.M) and (m := re.search(r"^License:\s*(.+)$", stanza, re.M)):
            return m.group(1).strip()
    return None


def offline_sources(go_max_bytes: int = 3_000_000, ruby_max_bytes: int = 2_000_000) -> list[CorpusSource]:
    """The stdlib, plus the Debian sources that are installed."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sources = [CorpusSource("cpython-stdlib", stdlib, (".py",), "PSF-2.0", str(stdlib / "LICENSE.txt"))]
    go = sorted(Path("/usr/share").glob("go-1.*/src"))
    go_license = debian_license("golang-1.19-src")
    if go and go_license:
        sources.append(CorpusSource("go-stdlib", go[-1], (".go",), go_license,
                                    "/usr/share/doc/golang-1.19-src/copyright", go_max_bytes, ("_test.go",)))
    ruby = sorted(Path("/usr/lib/ruby").glob("3.*"))
    ruby_license = debian_license("libruby3.1") or debian_license("ruby3.1")
    if ruby and ruby_license:
        sources.append(CorpusSource("ruby-stdlib", ruby[0], (".rb",), ruby_license,
                                    "/usr/share/doc/libruby3.1/copyright", ruby_max_bytes))
    return sources


def _benchmark_texts(data_dir: Path) -> Iterator[str]:
    for path in sorted(data_dir.rglob("*.jsonl*")):
        if "example" in path.name:
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                for key in ("prompt", "canonical_solution", "text", "code", "declaration"):
                    if isinstance(row.get(key), str):
                        yield row[key]


def _ngrams(text: str, n: int) -> set[int]:
    words = _WORD.findall(text.lower())
    return {hash(tuple(words[i : i + n])) for i in range(len(words) - n + 1)}


def benchmark_ngrams(data_dir: Path, n: int = 13) -> set[int]:
    """Hashes of every word n-gram in the benchmark prompts and solutions under ``data_dir``."""
    if not data_dir.is_dir():
        raise ConfigError(f"benchmark data directory {data_dir} does not exist (needed for decontamination)")
    grams: set[int] = set()
    for text in _benchmark_texts(data_dir):
        grams |= _ngrams(text, n)
    return grams


def _files(source: CorpusSource) -> list[Path]:
    found = []
    for path in source.root.rglob("*"):
        rel = path.relative_to(source.root).parts
        if any(part in _SKIP_DIRS for part in rel[:-1]) or not path.is_file():
            continue
        if path.suffix in source.suffixes and not path.name.endswith(source.skip_suffixes or ("\0",)):
            found.append(path)
    return sorted(found, key=lambda p: hashlib.sha256(str(p.relative_to(source.root)).encode()).hexdigest())


def gather_corpus(out: Path, *, sources: list[CorpusSource], benchmarks: Path, ngram: int = 13,
                  max_file_bytes: int = 150_000, min_file_bytes: int = 200) -> CorpusReport:
    """Write the corpus as JSONL (``text, language, path, source, license``) to ``out`` and report on it."""
    banned = benchmark_ngrams(benchmarks, ngram)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = CorpusReport(out, 0, 0, ngram)
    with out.open("w", encoding="utf-8") as fh:
        for source in sources:
            rep = SourceReport(source.name, source.license, source.license_evidence)
            report.sources.append(rep)
            for path in _files(source):
                if source.max_bytes is not None and rep.bytes >= source.max_bytes:
                    break
                try:
                    text = path.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    rep.dropped_other += 1
                    continue
                if not min_file_bytes <= len(text) <= max_file_bytes:
                    rep.dropped_other += 1
                    continue
                rel = f"{source.name}/{path.relative_to(source.root)}"
                if banned and not _ngrams(text, ngram).isdisjoint(banned):
                    rep.dropped_contaminated += 1
                    report.contaminated_files.append(rel)
                    continue
                lang = detect_language(path.name)
                fh.write(json.dumps({"text": text, "language": lang.id if lang else None, "path": rel,
                                     "source": source.name, "license": source.license}) + "\n")
                rep.files += 1
                rep.bytes += len(text.encode("utf-8"))
            report.files += rep.files
            report.bytes += rep.bytes
    if report.files == 0:
        raise ConfigError("the assay-nano corpus is empty: no source files were found")
    return report
