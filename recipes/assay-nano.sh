#!/usr/bin/env bash
# Rebuild assay-nano from scratch: the weights shipped in src/assay/weights/assay-nano.
#
# Run from the repository root. Needs Debian/Ubuntu for the Go and Ruby sources (without them the
# corpus is the CPython standard library alone), and the evaluation sets in ../shared/data for
# decontamination. Work files (corpus, tokenizer, checkpoints) go to runs/nano/; rerunning after an
# interruption resumes pretraining from its last checkpoint.
#
# The shipped weights were trained exactly like this on a shared 2-core machine: phase 1 on one thread
# beside other work, phase 2 (continued pretraining from phase 1) on two threads, then `assay eval`
# scores for the model card. On a machine of
# your own, drop `nice` and OMP_NUM_THREADS and pass e.g. `--threads 8 --steps 2000 --max-minutes 240`
# for a better model; with CUDA the same command trains in bf16 autocast.
set -euo pipefail

if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends golang-1.19-src ruby3.1
fi

OMP_NUM_THREADS=1 nice -n 5 assay train nano --out runs/nano --benchmarks ../shared/data "$@"
