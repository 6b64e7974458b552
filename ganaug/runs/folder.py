"""The layout of a run folder, in one place: every path a training run writes or reads.

::

    <run>/config.json                the resolved training and model config
    <run>/log.jsonl                  one JSON record per line (losses, gradient norms, diversity, events)
    <run>/samples/grid_<step>.png    one row per class; grid_final.png at the end
    <run>/checkpoints/step_<N>/      weights.safetensors + meta.json (see ganaug.runs.checkpoint)
    <run>/generator/                 the final generator (generator.safetensors + generator.json)
    <run>/tensorboard/               TensorBoard events, when tensorboard is installed
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ganaug.data.memory import format_bytes
from ganaug.errors import ConfigError


class RunFolder:
    """Paths and file-level operations of one run folder.

    Args:
        path: the run folder (created by :meth:`prepare`).
    """

    CHECKPOINT_PREFIX = "step_"
    ENTRIES = frozenset({"config.json", "log.jsonl", "samples", "checkpoints", "generator", "tensorboard"})
    """What a run writes at the top of its folder (besides hidden files: its lock, temporary folders)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    # -- paths --------------------------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        return self.path / "config.json"

    @property
    def log_file(self) -> Path:
        return self.path / "log.jsonl"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    def grid(self, step: int | None = None) -> Path:
        """The grid of ``step``, or the final grid when ``step`` is None."""
        return self.samples / ("grid_final.png" if step is None else f"grid_{step:08d}.png")

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"{self.CHECKPOINT_PREFIX}{step:08d}"

    @property
    def generator(self) -> Path:
        return self.path / "generator"

    @property
    def tensorboard(self) -> Path:
        return self.path / "tensorboard"

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # -- set-up -------------------------------------------------------------------------------

    def layout_problems(self) -> list[str]:
        """What in an existing run folder is in the way of a run: a file where it needs a folder (checkpoints/,
        samples/...) or a folder where it writes a file (config.json, log.jsonl). Read-only, so ``fit`` checks it
        before reading the data; otherwise the first checkpoint or grid, after training, would fail."""
        problems = []
        for folder in (self.checkpoints, self.samples, self.generator, self.tensorboard):
            if folder.exists() and not folder.is_dir():
                problems.append(f"{folder} is a file; ganaug needs a folder there: move that file away or use "
                                "another --out (out=)")
        for file in (self.config_file, self.log_file):
            if file.is_dir():
                problems.append(f"{file} is a folder; ganaug writes a file there: move that folder away or use "
                                "another --out (out=)")
        return problems

    def fresh_run_problems(self) -> list[str]:
        """What in an existing folder a new run (not a resume) would mix with or replace: files that are not a run
        folder's (the user's own; hidden ones aside), or the trained generator of an earlier run whose checkpoints
        are gone (with checkpoints, :meth:`refuse_overwrite` asks for ``resume``)."""
        if not self.path.is_dir():
            return []
        problems = []
        foreign = sorted(entry.name for entry in self.path.iterdir()
                         if entry.name not in self.ENTRIES and not entry.name.startswith("."))
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            problems.append(f"{self.path} holds files that are not a ganaug run's ({shown}); a run does not write "
                            "among them: train into a new or empty --out (out=)")
        if self.generator.is_dir() and any(self.generator.iterdir()) and not (
                self.checkpoints.is_dir() and any(self.checkpoints.iterdir())):
            problems.append(f"{self.generator} holds the trained generator of an earlier run, which a new run would "
                            "replace: use another --out (out=), or move it away")
        return problems

    def prepare(self) -> None:
        """Create the folder, check it is writable and laid out as a run folder, and remove temporary folders of
        killed writers."""
        problems = self.layout_problems()
        if problems:
            raise ConfigError("; ".join(problems))
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / f".write-test-{os.getpid()}"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"cannot write to the output folder {self.path} ({exc.strerror or exc}); choose "
                              "another out= (--out) or fix its permissions") from None
        for stale in [*self.path.glob(".tmp-*"), *self.checkpoints.glob(".tmp-*")]:
            shutil.rmtree(stale, ignore_errors=True)  # left by a run killed while writing

    def refuse_overwrite(self, has_checkpoints: bool, resume: bool) -> None:
        """A fresh run must not mix its checkpoints with an earlier run's."""
        if has_checkpoints and not resume:
            raise ConfigError(
                f"{self.path} already holds checkpoints of an earlier run; pass resume=True (--resume) to continue "
                "it, or choose another out folder"
            )

    def check_free_space(self, needed: int) -> None:
        """Refuse to start when the disk cannot hold ``needed`` more bytes."""
        free = shutil.disk_usage(self.path).free
        if free < needed:
            raise ConfigError(f"only {format_bytes(free)} free on the disk of {self.path}; one checkpoint needs about "
                              f"{format_bytes(needed)}. Free some space or choose another out= (--out)")

    # -- files --------------------------------------------------------------------------------

    def write_config(self, config: dict[str, Any]) -> None:
        self.config_file.write_text(json.dumps(config, indent=2))

    def append_log(self, record: dict[str, Any]) -> None:
        with open(self.log_file, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    def truncate_log(self, step: int) -> None:
        """Drop log lines past ``step`` left by a run that died after its last checkpoint."""
        if not self.log_file.exists():
            return
        kept = []
        for line in self.log_file.read_text().splitlines():
            if not line.strip():
                continue
            try:
                if json.loads(line).get("step", 0) <= step:
                    kept.append(line)
            except ValueError:
                continue  # a half-written line from a kill
        self.log_file.write_text("".join(line + "\n" for line in kept))
