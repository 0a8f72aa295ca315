"""File modes of what training writes.

safetensors (0.8) writes each ``*.safetensors`` file through a temporary file created with mode 0600 and
renamed into place (safetensors issue #782), so a model saved by one user could not be read by the service
account that serves it, while its ``config.json`` and tokenizer beside it are readable. ``share_like_siblings``
gives the weights the mode every other new file gets: 0666 less the process umask.
"""

from __future__ import annotations

import os
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def share_like_siblings(folder: Path) -> None:
    """Give every ``*.safetensors`` file in ``folder`` the mode a newly created file gets (0666 less the umask)."""
    mode = 0o666 & ~_umask()
    for weights in Path(folder).glob("*.safetensors"):
        weights.chmod(mode)
