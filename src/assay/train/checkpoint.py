"""Training checkpoints: everything a resumed run needs to continue the exact same loss curve.

A checkpoint holds the model and optimizer and scheduler states, the Python/NumPy/torch RNG states,
the step, the data position (epoch and row cursor), tokens seen, elapsed time and the resolved config.
It is written to a temporary file and renamed into place, so a run killed mid-save leaves the
previous checkpoint intact. Tensors load onto the CPU and move to wherever the resumed run computes, so
a run checkpointed on a GPU resumes on a CPU and the other way round (CUDA RNG states are restored for
the devices both machines have). Weights and optimizer state are float32 under every precision.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.errors import ConfigError

CHECKPOINT_NAME = "checkpoint.pt"


@dataclass
class TrainState:
    """Progress counters saved with each checkpoint."""

    step: int = 0
    epoch: int = 0
    cursor: int = 0
    """Index of the next row of this epoch's shuffled order."""
    tokens_seen: int = 0
    elapsed_s: float = 0.0
    best_val_loss: float | None = None
    last_val_loss: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def rng_state() -> dict[str, Any]:
    import numpy as np
    import torch

    state: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        for index, cuda_state in enumerate(state["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state, index)


def save_checkpoint(directory: Path, *, model: Any, optimizer: Any, scheduler: Any, state: TrainState,
                    config: dict[str, Any]) -> Path:
    """Atomically write ``directory/checkpoint.pt`` and return its path."""
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CHECKPOINT_NAME
    tmp = directory / (CHECKPOINT_NAME + ".tmp")
    payload = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rng_state(),
        "state": state.__dict__.copy(),
        "config": config,
    }
    torch.save(payload, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def load_checkpoint(directory: Path) -> dict[str, Any] | None:
    """The checkpoint in ``directory``, or None when there is none; ``ConfigError`` when it is unreadable."""
    import torch

    path = directory / CHECKPOINT_NAME
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a corrupt file
        raise ConfigError(f"checkpoint {path} is unreadable: {exc}") from None
    payload["state"] = TrainState(**payload["state"])
    return payload


def restore(payload: dict[str, Any], *, model: Any, optimizer: Any, scheduler: Any) -> TrainState:
    """Load a checkpoint's states into freshly built objects and return its progress counters."""
    model.load_state_dict(payload["model"])
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    set_rng_state(payload["rng"])
    return payload["state"]
