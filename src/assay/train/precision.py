"""Where a training run computes and in what precision: one resolution shared by pretraining and LoRA.

Contract: ``resolve_placement(device, precision, parameters=)`` turns the user's settings into a ``Placement`` or
raises ``ConfigError`` naming the value that cannot be honoured. ``device`` is ``auto`` (CUDA when
available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``; ``precision`` is one of ``PRECISIONS``:

- ``auto``: bf16 autocast on a CUDA device that supports bf16 natively (Ampere or newer) for a model of
  at least ``BF16_MIN_PARAMETERS`` parameters, else fp32. Below that size a training step is a chain of
  small kernels bound by their launches, and autocast's extra cast per weight makes bf16 no faster, often
  slower (measured on an H200, see ``BF16_MIN_PARAMETERS``); callers pass ``parameters``, and without it
  ``auto`` treats the model as large. It never picks bf16 on a CPU: there its speed depends on the
  processor (with AMX, a nano-sized training step ran about as fast as fp32; on the tiny test model, 3x
  slower; without bf16 instructions it is emulated), so fp32 stays the CPU default; ``bf16`` asks for it.
- ``fp32``: plain float32 everywhere.
- ``bf16``: ``torch.autocast`` to bfloat16 on whatever device runs (CPU included). Parameters, gradients
  and optimizer state stay float32 ("master weights"); only the autocast ops compute in bf16.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal

from assay.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16")
Precision = Literal["fp32", "bf16"]
BF16_MIN_PARAMETERS = 50_000_000
"""The smallest model for which ``auto`` picks bf16 on a GPU. ``python bench/train_precision.py --device cuda``
on an NVIDIA H200 (2026-11-27; seq 512, 16 windows a step) gave bf16 autocast over fp32: 0.71x and 0.98x at 4M
parameters (assay-nano's shape, two runs), 0.95x at 25M, 1.27x and 1.44x at 79M, 4.0x at 422M."""


@dataclass(frozen=True)
class Placement:
    """A resolved device and precision."""

    device: str
    """A torch device string: ``cpu``, ``cuda`` or ``cuda:N``."""
    precision: Precision
    reason: str = field(default="", compare=False)
    """Why this precision, in words a run's output and ``training.json`` carry."""

    @property
    def device_type(self) -> str:
        return self.device.split(":", 1)[0]

    def autocast(self) -> AbstractContextManager[Any]:
        """The context the forward pass runs in: bf16 autocast, or nothing for fp32."""
        if self.precision == "fp32":
            return nullcontext()
        import torch

        return torch.autocast(self.device_type, dtype=torch.bfloat16)


def _cuda_bf16() -> bool:
    import torch

    return torch.cuda.is_bf16_supported(including_emulation=False)


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available else ``cpu``; a CUDA device that is not there is a ``ConfigError``."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    kind, _, index = device.partition(":")
    if kind not in ("cpu", "cuda") or (index and not (kind == "cuda" and index.isdigit())):
        raise ConfigError(f"device '{device}' is not one of auto, cpu, cuda, cuda:N")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device '{device}' requested but CUDA is not available")
        if index and int(index) >= torch.cuda.device_count():
            raise ConfigError(f"device '{device}' requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    return device


def check_precision(precision: str) -> None:
    """A ``ConfigError`` naming ``precision`` unless it is one of ``PRECISIONS`` (checked before any work starts)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision '{precision}' is not one of {', '.join(PRECISIONS)}")


def resolve_placement(device: str = "auto", precision: str = "auto", *, parameters: int | None = None) -> Placement:
    """Resolve user settings to a ``Placement`` for a model of ``parameters`` (None: unknown, treated as large);
    see the module docstring for the rules."""
    check_precision(precision)
    resolved = resolve_device(device)
    on_cuda = resolved.startswith("cuda")
    if precision == "auto":
        if not on_cuda:
            return Placement(resolved, "fp32", "auto: fp32 on a CPU")
        if not _cuda_bf16():
            return Placement(resolved, "fp32", "auto: fp32, the GPU has no native bf16")
        if parameters is not None and parameters < BF16_MIN_PARAMETERS:
            return Placement(resolved, "fp32", f"auto: fp32, {parameters / 1e6:.1f}M parameters is under the "
                             f"{BF16_MIN_PARAMETERS / 1e6:.0f}M at which bf16 trains faster on a GPU; "
                             "--precision bf16 forces it")
        return Placement(resolved, "bf16", "auto: bf16 autocast on a GPU with native bf16")
    if precision == "bf16" and on_cuda and not _cuda_bf16():
        import torch

        raise ConfigError(f"precision 'bf16' requested but {torch.cuda.get_device_name(resolved)} has no native "
                          "bf16 support; use --precision fp32")
    return Placement(resolved, precision, f"--precision {precision}")  # type: ignore[arg-type]
