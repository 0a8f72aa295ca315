"""``quiet_transformers`` silences transformers' own progress bars and logging for one block only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from transformers.utils import logging

from assay.cli.common import quiet_transformers


@pytest.fixture()
def transformers_defaults() -> Iterator[None]:
    bars, verbosity = logging.is_progress_bar_enabled(), logging.get_verbosity()
    logging.enable_progress_bar()
    logging.set_verbosity_warning()
    yield
    logging.set_verbosity(verbosity)
    (logging.enable_progress_bar if bars else logging.disable_progress_bar)()


@pytest.mark.usefixtures("transformers_defaults")
def test_bars_and_warnings_are_silenced_inside_and_restored_after(capsys: pytest.CaptureFixture[str]) -> None:
    with quiet_transformers():
        list(logging.tqdm(range(3), desc="Writing model shards"))
        assert not logging.is_progress_bar_enabled() and logging.get_verbosity() == logging.ERROR
    assert "Writing model shards" not in capsys.readouterr().err
    assert logging.is_progress_bar_enabled() and logging.get_verbosity() == logging.WARNING
    list(logging.tqdm(range(3), desc="Writing model shards"))
    assert "Writing model shards" in capsys.readouterr().err
