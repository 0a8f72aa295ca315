"""The assay-nano model card: what the weights were trained on, how, on what, and how well."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay.train.nano_corpus import CorpusReport

SAMPLE_PROMPTS: dict[str, str] = {
    "python-fim": "<fim_prefix>def hello_world():\n    <fim_suffix>\n<fim_middle>",
    "python": "import os\n\ndef read_file(path):\n    ",
    "go": "package main\n\nimport \"fmt\"\n\nfunc main() {\n\t",
    "ruby": "def greet(name)\n  ",
}

REPRODUCE = "assay train nano   # or: bash recipes/assay-nano.sh (installs the Debian sources first)"


def sample_completions(model_dir: Path, max_new_tokens: int = 48) -> dict[str, str]:
    """Greedy completions of ``SAMPLE_PROMPTS``: key -> completion, and ``key:seconds`` -> its latency."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    out: dict[str, str] = {}
    for key, prompt in SAMPLE_PROMPTS.items():
        ids = tok(prompt, return_tensors="pt", add_special_tokens=False).input_ids
        start, cpu = time.perf_counter(), time.process_time()
        with torch.no_grad():
            gen = model.generate(ids, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=tok.eos_token_id,
                                 pad_token_id=tok.eos_token_id)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        text = tok.decode(gen[0, ids.shape[1] :], skip_special_tokens=True)
        out[key] = text
        out[key + ":seconds"] = f"{elapsed:.2f} s wall, {cpu:.2f} s CPU, {gen.shape[1] - ids.shape[1]} tokens"
    return out


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass
class CardFacts:
    parameters: int
    steps: int
    tokens_seen: int
    train_loss: float | None
    val_loss: float | None
    elapsed_s: float
    device: str
    hardware: str
    torch_version: str
    config: dict[str, Any]
    corpus: CorpusReport
    samples: dict[str, str]
    val_curve: list[tuple[int, float]] = field(default_factory=list)
    date: str = ""
    phases: list[str] = field(default_factory=list)
    """One line per training phase (steps, tokens a step, rate, seed, time, validation loss)."""
    evaluation: list[str] = field(default_factory=list)
    """Markdown table rows (lines starting with ``|``) of benchmark scores with 95% CIs from ``assay eval``,
    and sentences printed under the table (every other line), both written by the CLI."""
    precision: str = "fp32"
    """``fp32`` or ``bf16`` (autocast, fp32 weights): the precision the (last phase's) training computed in."""

    @classmethod
    def collect(cls, *, config_dict: dict[str, Any], training: dict[str, Any], corpus: CorpusReport,
                samples: dict[str, str], metrics_path: Path) -> CardFacts:
        import torch

        curve: list[tuple[int, float]] = []
        if metrics_path.is_file():
            for line in metrics_path.read_text().splitlines():
                row = json.loads(line)
                if row.get("val_loss") is not None:
                    curve.append((row["step"], row["val_loss"]))
        threads = training["config"].get("threads")
        device = training["device"]
        hardware = (f"{_cpu_name()}, {threads or os.cpu_count()} thread(s) (machine shared with other jobs)"
                    if device == "cpu" else training.get("gpu") or device)
        return cls(training["parameters"], training["steps"], training["tokens_seen"], training["train_loss"],
                   training["val_loss"], training["elapsed_s"], device, hardware, torch.__version__,
                   training["config"], corpus, samples, curve, datetime.now(UTC).strftime("%Y-%m-%d"),
                   precision=training.get("precision", "fp32"))


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _precision(precision: str) -> str:
    return "bf16 autocast (fp32 weights)" if precision == "bf16" else "fp32"


def _label_scale(row: str) -> str:
    """``row`` with its metric cell (the third) naming the metric's scale when it is not 0-1, e.g.
    ``edit_similarity (0-100)``, so a 3.000 next to shares in 0-1 reads as 3 of 100."""
    from assay.eval.metrics import SHARE, metric_range

    cells = row.split("|")
    if len(cells) < 5:
        return row
    name = cells[3].strip()
    scale = metric_range(name)
    if scale is None or scale == SHARE or "(" in name:
        return row
    cells[3] = f" {name} ({scale[0]:g}-{scale[1]:g}) "
    return "|".join(cells)


def evaluation_section(lines: list[str]) -> str:
    """The card's evaluation text: table rows (``|``-prefixed ``lines``) in a table, the other lines as a
    list under it."""
    if not lines:
        return ("No benchmark scores recorded for these weights yet: `assay train nano` records them after "
                "training (`assay eval TASK --model nano --json`).")
    rows = [_label_scale(line) for line in lines if line.startswith("|")]
    notes = "".join(f"\n- {line}" for line in lines if not line.startswith("|"))
    return ("Scored by `assay eval` through the production pipeline (`assay serve`'s prompt budget, FIM "
            "template and post-processing), greedy, in the bubblewrap sandbox; 95 % CIs clustered on the "
            "source problem and clipped to each metric's range. `answered` is the share of problems with a "
            "non-empty suggestion; an empty infill passes when the tests do not need the removed line, so "
            "passes include empty answers. Scores are shares (0-1) except `edit_similarity`, RapidFuzz "
            "`fuzz.ratio` on a 0-100 scale (100: identical to the reference)."
            "\n\n| Task | Problems | Metric | Score | 95 % CI |\n|---|---|---|---|---|\n"
            + "\n".join(rows) + ("\n" + notes if notes else ""))


def write_model_card(path: Path, f: CardFacts) -> None:
    m = f.config["model"]
    rows = "\n".join(f"| {s.name} | {s.license} | `{s.license_evidence}` | {s.files} | {s.bytes / 1e6:.1f} MB | "
                     f"{s.dropped_contaminated} |" for s in f.corpus.sources)
    curve = ", ".join(f"{step}: {loss:.3f}" for step, loss in f.val_curve)
    samples = "\n\n".join(
        f"**{key}** (greedy, up to 48 tokens; {f.samples.get(key + ':seconds', '?')})\n\n```\n{f.samples[key]}\n```"
        for key in SAMPLE_PROMPTS if key in f.samples)
    prompts = "\n".join(f"- **{k}**: `{json.dumps(v)}`" for k, v in SAMPLE_PROMPTS.items())
    path.write_text(f"""# assay-nano

assay's embedded default completion model: a {f.parameters / 1e6:.2f}M-parameter Llama
(`LlamaForCausalLM`: {m['num_layers']} layers, hidden {m['hidden_size']}, {m['num_heads']} heads /
{m['num_kv_heads']} KV heads, MLP {m['intermediate_size']}, vocab {m['vocab_size']}, RoPE context
{m['context_length']}, tied embeddings), trained from scratch by `assay train nano` with
fill-in-the-middle (PSM and SPM, 50 % of chunks; half of the spans syntax-aware). Special tokens
follow the `assay-nano` spec: `<fim_prefix>`, `<fim_suffix>`, `<fim_middle>`, `<repo_name>`,
`<file_sep>`, `<fim_pad>`, eos `<|endoftext|>` (id 0). Weights are fp32 safetensors.

It is tiny and has seen little data ({f.tokens_seen / 1e6:.1f}M tokens): expect locally plausible code
(indentation, common Python/Go idioms, closing blocks) that often repeats itself, and little Ruby. It is
an offline default that exercises the whole pipeline with no download, not a substitute for a real
code model; `assay serve`'s stop sequences and post-processing trim its output.

## Training

| | |
|---|---|
| Parameters | {f.parameters:,} |
| Steps | {f.steps} x {f.config['batch_size'] * f.config['grad_accum'] * f.config['seq_len']:,} tokens |
| Tokens seen | {f.tokens_seen:,} |
| Sequence length | {f.config['seq_len']} |
| Optimizer | AdamW, lr {f.config['lr']}, cosine to {f.config['min_lr_ratio']}x after {f.config['warmup_steps']} warmup steps, wd {f.config['weight_decay']}, clip {f.config['grad_clip']} |
| Final train loss | {_fmt(f.train_loss)} |
| Final validation loss | {_fmt(f.val_loss)} (nats/token on held-out files, FIM applied as in training) |
| Training time | {f.elapsed_s / 60:.1f} min |
| Hardware | {f.hardware}, {f.device}, {_precision(f.precision)}, torch {f.torch_version} |
| Date | {f.date} |

Validation loss by step (last phase): {curve}

{chr(10).join("- " + p for p in f.phases)}

## Data and licenses

{f.corpus.files} files, {f.corpus.bytes / 1e6:.1f} MB of source, all under permissive licenses, all
available offline (no model hub, no web crawl):

| Source | License | Read from | Files | Size | Dropped (benchmark overlap) |
|---|---|---|---|---|---|
{rows}

Test suites, test data, IDLE, `lib2to3`, vendored code and files over 150 kB were skipped.
Decontamination: files sharing any {f.corpus.ngram}-word n-gram with a HumanEval, HumanEval-X or MBPP
prompt or solution were dropped ({len(f.corpus.contaminated_files)} files). Validation is a 2 % split of
files by a hash of their path.

## Samples

Prompts:
{prompts}

{samples}

## Evaluation

{evaluation_section(f.evaluation)}

## Reproduce

```
{REPRODUCE}
```

The recipe's defaults (`assay.train.nano.NanoConfig`) are the settings above; it runs on CPU or CUDA
(bf16 autocast on GPU). Intermediate checkpoints stay in `runs/nano/`, outside the package.
""", encoding="utf-8")
