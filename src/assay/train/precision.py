"""Where a training run computes and in what precision: one resolution shared by pretraining and LoRA.

Contract: ``resolve_placement(device, precision)`` turns the user's settings into a ``Placement`` or
raises ``ConfigError`` naming the value that cannot be honoured. ``device`` is ``auto`` (CUDA when
available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``; ``precision`` is one of ``PRECISIONS``:

- ``auto``: bf16 autocast on a CUDA device that supports bf16 natively (Ampere or newer), else fp32.
  It never picks bf16 on a CPU: there its speed depends on the processor (with AMX, a nano-sized
  training step ran about as fast as fp32; on the tiny test model, 3x slower; without bf16
  instructions it is emulated), so fp32 stays the CPU default; ``bf16`` asks for it explicitly.
- ``fp32``: plain float32 everywhere.
- ``bf16``: ``torch.autocast`` to bfloat16 on whatever device runs (CPU included). Parameters, gradients
  and optimizer state stay float32 ("master weights"); only the autocast ops compute in bf16.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from assay.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16")
Precision = Literal["fp32", "bf16"]


@dataclass(frozen=True)
class Placement:
    """A resolved device and precision."""

    device: str
    """A torch device string: ``cpu``, ``cuda`` or ``cuda:N``."""
    precision: Precision

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


def resolve_placement(device: str = "auto", precision: str = "auto") -> Placement:
    """Resolve user settings to a ``Placement``; see the module docstring for the rules."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision '{precision}' is not one of {', '.join(PRECISIONS)}")
    resolved = resolve_device(device)
    on_cuda = resolved.startswith("cuda")
    if precision == "auto":
        return Placement(resolved, "bf16" if on_cuda and _cuda_bf16() else "fp32")
    if precision == "bf16" and on_cuda and not _cuda_bf16():
        import torch

        raise ConfigError(f"precision 'bf16' requested but {torch.cuda.get_device_name(resolved)} has no native "
                          "bf16 support; use --precision fp32")
    return Placement(resolved, precision)  # type: ignore[arg-type]
