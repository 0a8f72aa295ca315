"""Code corpora for training: sources, licenses, filters, decontamination, secrets, dedup, shards, manifest."""

from assay.train.corpus.build import BuildOptions, BuildResult, build_corpus
from assay.train.corpus.manifest import Manifest, Record
from assay.train.corpus.shards import iter_records

__all__ = ["BuildOptions", "BuildResult", "Manifest", "Record", "build_corpus", "iter_records"]
