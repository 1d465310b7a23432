"""Checkpointing the large preset: a latest checkpoint damaged on disk (a full disk, a copy cut
short) names the checkpoint before it, which ``save_checkpoint`` keeps, as where to resume from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functional_nn.checkpoints import CheckpointError, checkpoint_epoch, checkpoint_path

from test_resume import assert_same, run


def test_a_damaged_latest_checkpoint_names_the_one_before_it_which_resumes(tmp_path: Path) -> None:
    run(3, tmp_path)  # keeps checkpoints 2 and 3
    latest = tmp_path / "checkpoint-000003.npz"
    latest.write_bytes(latest.read_bytes()[:1000])  # cut short
    expected = f"{latest} is not a readable checkpoint (truncated or corrupt?): "
    hint = "; the checkpoint before it, checkpoint-000002.npz, is resumed from once checkpoint-000003.npz is removed"
    with pytest.raises(CheckpointError, match=f"^{re.escape(expected)}.*{re.escape(hint)}$"):
        run(5, tmp_path, resume=True)
    latest.unlink()  # as the message says
    assert_same(run(5, tmp_path, resume=True), run(5, None))


def test_a_checkpoints_epoch_is_read_from_its_name_without_loading_it(tmp_path: Path) -> None:
    # what train_mnist.py says as it resumes: the fold loads the checkpoint itself
    assert checkpoint_epoch(checkpoint_path(tmp_path, 12)) == 12
    assert checkpoint_epoch(tmp_path / "checkpoint-1000000.npz") == 1_000_000
    with pytest.raises(ValueError, match=r"params\.npz is not named as save_checkpoint names checkpoints"):
        checkpoint_epoch(tmp_path / "params.npz")
