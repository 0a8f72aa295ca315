"""``assay.train.files``: weights saved by safetensors get the mode of the files beside them."""

from __future__ import annotations

import os
from pathlib import Path

from assay.train.files import share_like_siblings


def test_safetensors_files_get_the_umask_mode_and_other_files_are_left_alone(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "model.safetensors"))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "notes.txt").chmod(0o600)
    old = os.umask(0o027)
    try:
        share_like_siblings(tmp_path)
    finally:
        os.umask(old)
    assert (tmp_path / "model.safetensors").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "notes.txt").stat().st_mode & 0o777 == 0o600
