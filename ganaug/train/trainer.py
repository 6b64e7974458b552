"""The one trainer: any registered GAN family, on the CPU or a GPU, with logs, grids and checkpoints.

:func:`fit` loads the data into an :class:`~ganaug.data.ImageStore`, keeps it on the device as
uint8, draws batches by a pure function of ``(seed, batch number)``
(:class:`~ganaug.train.batches.BatchOrder`), alternates discriminator and generator updates
through the family's two losses, and writes the run folder (:class:`~ganaug.runs.folder.RunFolder`):
config, log, grids, checkpoints and the final generator.

Because batches, noise and dropout all come from RNG states saved in the checkpoint, a run
resumed from step 20 to 40 ends with the same weights as 40 straight steps on the CPU.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import time
from pathlib import Path
from typing import Any

import torch

from ganaug.data import DataSource, ImageStore, load_data
from ganaug.devices import resolve_device
from ganaug.errors import DISK_FULL, DiskFullError, TrainingInterrupted, is_out_of_memory
from ganaug.gan import to_unit_range, update_ema
from ganaug.generator import GENERATOR_META, GENERATOR_WEIGHTS, TrainedGenerator
from ganaug.plugins.registry import GeneratorEntry, Registry, default_registry
from ganaug.progress import progress
from ganaug.runs import checkpoint as ckpt
from ganaug.runs.folder import RunFolder
from ganaug.runs.lock import RunLock
from ganaug.seeds import Stream, derive_seed
from ganaug.storage import check_replaceable
from ganaug.train import distributed
from ganaug.train.batches import BatchOrder
from ganaug.train.config import AUTO_FAMILY, TrainConfig, default_batch_size, resolve_family, split_overrides
from ganaug.train.monitor import Monitor
from ganaug.train.numerics import cuda_fast_math, grad_norm
from ganaug.train.resume import (
    check_data,
    check_resume,
    kept_model_options,
    restore_state,
    resumed_config,
    warn_kept,
)
from ganaug.train.preflight import out_of_memory, preflight
from ganaug.train.signals import StopNow, StopRequest, stops_before_training
from ganaug.train.state import TrainingState
from ganaug.train.wrapping import Wrapping


def fit(data: DataSource, model: str = AUTO_FAMILY, *, steps: int = 2000, batch_size: int | None = None,
        device: str = "auto", seed: int = 0, out: str | Path | None = None, resume: bool = False,
        registry: Registry | None = None, **overrides: Any) -> TrainedGenerator:
    """Train a class-conditional GAN on labelled images.

    Args:
        data: anything :func:`ganaug.load_data` accepts (a Dataset, a folder, an .npz...), or an :class:`ImageStore`.
        model: registered generator family, or ``"auto"`` (:func:`~ganaug.train.config.default_family`).
        steps: total generator updates.
        batch_size: real images per discriminator update; None means 64 on the CPU and 512 on CUDA.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        seed: makes the run reproducible.
        out: run folder (logs, grids, checkpoints); None trains in memory only.
        resume: continue from the newest checkpoint in ``out``.
        registry: where to find ``model`` (and named data sets); the default registry when omitted.
        **overrides: other :class:`TrainConfig` fields (``checkpoint_every=100``) and the family's (``lr_g=1e-4``).

    Returns:
        The trained generator (EMA weights when the family keeps them), on ``device``.
    """
    train_overrides, model_overrides = split_overrides(overrides)
    registry = registry or default_registry()
    config, family = preflight(  # every bad option and run-folder obstacle at once, before loading data
        lambda: TrainConfig(model=model, steps=steps, batch_size=batch_size, device=str(device), seed=seed,
                            out=None if out is None else str(out), resume=resume, **train_overrides),
        model, model_overrides, registry)
    if config.resume:  # a resume that cannot go on is refused before the data is loaded; the Trainer checks again
        check_resume(ckpt.latest_checkpoint(Path(config.out), weights=False), RunFolder(config.out), config,
                     family.name if family else None)
    with stops_before_training("while loading the data"):
        store = data if isinstance(data, ImageStore) else load_data(
            data, image_size=config.image_size, channels=config.channels, skip_bad=config.skip_bad,
            registry=registry, resize=config.resize, cache=config.cache_data)
    entry = registry.generator(resolve_family(config.model, store.image_shape))  # Trainer checks its options
    config = dataclasses.replace(config, model=entry.name)  # an alias or 'auto' is stored as the family it names
    return Trainer(store, config, model_overrides, entry=entry).run()


class Trainer:
    """One training run; :meth:`run` trains and returns the generator.

    Args:
        store: the training images.
        config: how to train.
        model_overrides: options of the family's config.
        entry: the registered family; looked up in the default registry from ``config.model`` when omitted.
    """

    def __init__(self, store: ImageStore, config: TrainConfig, model_overrides: dict[str, Any] | None = None, *,
                 entry: GeneratorEntry | None = None) -> None:
        self.store = store
        self.device = resolve_device(config.device)
        self.batch_auto = config.batch_size is None
        if self.batch_auto:
            config = dataclasses.replace(config, batch_size=default_batch_size(self.device))
        self.config = config = dataclasses.replace(config, model=resolve_family(config.model, store.image_shape))
        self.entry = entry or default_registry().generator(config.model)
        self.model_config = dataclasses.asdict(self.entry.make_config(**(model_overrides or {})))
        self.given_model_options = list(model_overrides or {})
        self.run_folder = RunFolder(config.out) if config.out is not None else None
        self.fast_cuda = self.device.type == "cuda" and config.fast_path
        self.dist: distributed.DistContext | None = None
        self.stop = StopRequest()
        self.lock: RunLock | None = None
        self.training_from: int | None = None
        """The step the loop started at; None during set-up."""
        self.last_checkpoint: Path | None = None
        self.state: TrainingState

    @property
    def rank(self) -> int:
        return self.dist.rank if self.dist else 0

    @property
    def world_size(self) -> int:
        return self.dist.world_size if self.dist else 1

    @property
    def is_main(self) -> bool:
        return self.dist is None or self.dist.is_main

    # -- running ------------------------------------------------------------------------------

    def run(self) -> TrainedGenerator:
        self.dist = distributed.setup(self.device)
        if self.dist is not None and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        self.stop.immediate = self.dist is None
        try:
            rng_devices = [self.device.index or 0] if self.device.type == "cuda" else []
            with torch.random.fork_rng(devices=rng_devices), cuda_fast_math(self.fast_cuda), self.stop.handlers():
                torch.manual_seed(derive_seed(self.config.seed, Stream.TORCH_RNG, self.rank))
                try:
                    self._set_up()
                    try:
                        return self._train()
                    finally:
                        self.monitor.close()
                except StopNow:
                    self._stop(during="set-up" if self.training_from is None else None)
                except OSError as exc:
                    if exc.errno not in DISK_FULL:
                        raise
                    self._disk_full(exc)
                except (MemoryError, RuntimeError) as exc:
                    if not is_out_of_memory(exc):
                        raise
                    raise out_of_memory(exc, self.config.batch_size) from exc
        finally:
            if self.lock is not None:
                self.lock.release()
            distributed.teardown(self.dist)

    def _set_up(self) -> None:
        """Run folder, resume or build, disk check, wrapping, config.json, monitor."""
        self._prepare_run_folder()
        checkpoint = None
        if self.config.resume and self.run_folder is not None:
            checkpoint = ckpt.latest_checkpoint(self.run_folder.path)
            check_resume(checkpoint, self.run_folder, self.config, self.config.model)
        if checkpoint is not None:
            self._resume(checkpoint)
        else:
            self._build()
        distributed.main_rank_first(self.dist, self._check_disk)
        self.state.apply_lr_scale()
        self.wrapping = Wrapping(self.state.gan, distributed=self.dist is not None, compile_mode=self.config.compile)
        self.wrapping.wrap(self.device)
        self.batches = BatchOrder(len(self.store), self.config.batch_size, seed=self.config.seed,
                                  world_size=self.world_size, rank=self.rank, device=self.device,
                                  labels=self.store.labels, class_balance=self.config.class_balance)
        if self.run_folder is not None and self.is_main:
            self.run_folder.write_config(
                {"train": dataclasses.asdict(self.config), "model": self.model_config, "classes": self.store.classes,
                 "image_shape": list(self.store.image_shape), "world_size": self.world_size})
        self.monitor = Monitor(self.run_folder, self.store, self.config, enabled=self.is_main)

    def _train(self) -> TrainedGenerator:
        """The loop: a step, then the checks, logs, samples and checkpoints due at that step."""
        cfg, state = self.config, self.state
        trained = TrainedGenerator(state.gan, cfg.model, self.store.classes, sources=self.store)
        self.monitor.open()
        images, labels = self.store.images.to(self.device), self.store.labels.to(self.device)
        check_every = 1 if self.device.type == "cpu" else cfg.log_every
        bad = torch.zeros((), dtype=torch.bool, device=self.device)
        state.gan.train()
        bar = progress(cfg.steps, initial=state.step, disable=not (cfg.progress and self.is_main), unit="step",
                       desc="train")
        self.tick = (time.perf_counter(), state.step)
        with self.wrapping.plain():
            state.take_snapshot()
        self.training_from = state.step
        while state.step < cfg.steps:
            with self.stop.deferred():
                with self.wrapping.plain():
                    state.gan.on_step(state.step, cfg.steps)
                log_now = (state.step + 1) % cfg.log_every == 0 or state.step + 1 == cfg.steps
                losses = self._step(images, labels, measure=log_now)
                state.step += 1
            bad |= ~(torch.isfinite(losses["loss_d"]) & torch.isfinite(losses["loss_g"]))
            checkpoint_now = state.step % cfg.checkpoint_every == 0 and state.step < cfg.steps
            if state.step % check_every == 0 or log_now or checkpoint_now or state.step == cfg.steps:
                if self._check_finite(bad, losses, check_every, weights=log_now or checkpoint_now
                                      or state.step == cfg.steps):
                    bad.zero_()
                    bar.reset(total=cfg.steps)
                    bar.update(state.step)
                    continue
            if log_now:
                self._log_step(losses, bar)
            if state.step % cfg.sample_every == 0 and state.step < cfg.steps and self.is_main:
                with self.wrapping.plain():
                    self.monitor.log(self.monitor.sample_and_score(trained, state.step))
            if checkpoint_now:
                self.save_checkpoint()
                with self.wrapping.plain():
                    state.take_snapshot()
            bar.update(1)
            if self.stop.requested and (self.dist is None or state.step % check_every == 0):
                bar.close()
                self._stop()
        bar.close()
        return self._finish(trained)

    def _step(self, images: torch.Tensor, labels: torch.Tensor, *, measure: bool) -> dict[str, torch.Tensor]:
        """One generator update after the family's ``d_steps`` discriminator updates."""
        gan, state, device = self.state.gan, self.state, self.device
        self.wrapping.step_begin()
        d_steps, image_family = gan.config.d_steps, gan.conditioning == "image"
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.fast_cuda else contextlib.nullcontext()
        layout = torch.channels_last if self.config.channels_last else torch.contiguous_format
        batch = self.config.batch_size
        noise_slice = slice(self.rank * batch, (self.rank + 1) * batch)
        grad_d = None
        for j in range(d_steps):
            index = self.batches.indices(state.step * d_steps + j)
            real, real_labels = to_unit_range(images[index]).contiguous(memory_format=layout), labels[index]
            fake_labels = gan.fake_labels(real_labels)
            z = gan.sample_noise(batch * self.world_size, device=device, generator=state.noise)[noise_slice]
            inputs = gan.generator_inputs(real, z)  # z itself for noise families; the corrupted real for image ones
            with autocast:
                with torch.no_grad() if j < d_steps - 1 else contextlib.nullcontext():
                    fake = gan.generator(inputs, fake_labels)
                loss_d = gan.discriminator_loss(real, fake.detach(), real_labels, fake_labels,
                                                **({"inputs": inputs} if image_family else {}))
            state.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            grad_d = grad_norm(gan.discriminator) if measure else None
            state.opt_d.step()
        with self.wrapping.discriminator_frozen():
            with autocast:
                loss_g = gan.generator_loss(fake, inputs, fake_labels, **({"real": real} if image_family else {}))
            state.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
        grad_g = grad_norm(gan.generator) if measure else None
        state.opt_g.step()
        if hasattr(gan, "ema_generator") and self.is_main:
            update_ema(gan.ema_generator, gan.generator, min(gan.config.ema_decay, (1 + state.step) / (10 + state.step)))
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "grad_norm_d": grad_d, "grad_norm_g": grad_g}

    def _check_finite(self, bad: torch.Tensor, losses: dict[str, torch.Tensor], window: int, weights: bool) -> bool:
        """Agree over ranks on NaN/inf losses or weights and on a stop; roll back when needed (returns True)."""
        weights_bad = weights and not self.state.weights_finite()
        loss_bad, weights_bad, stop = distributed.any_true(
            self.dist, bool(bad), weights_bad, self.stop.requested, device=self.device)
        if stop and not self.stop.requested:
            self.stop.signal_number = signal.SIGTERM  # another rank was told to stop
        if not (loss_bad or weights_bad):
            return False
        what = "a weight" if weights_bad and not loss_bad else (
            f"loss_d={float(losses['loss_d'])}, loss_g={float(losses['loss_g'])}")
        last = str(self.last_checkpoint) if self.last_checkpoint else "none (no checkpoint written yet)"
        with self.wrapping.plain():
            record = self.state.roll_back(what, window, max_rollbacks=self.config.max_rollbacks,
                                          lr_factor=self.config.rollback_lr_factor, last_checkpoint=last)
        self.monitor.log(record)
        return True

    def _log_step(self, losses: dict[str, torch.Tensor], bar: Any) -> None:
        now, step = time.perf_counter(), self.state.step
        rate = ((step - self.tick[1]) * self.config.batch_size * self.world_size * self.state.gan.config.d_steps
                / max(now - self.tick[0], 1e-9))
        self.tick = (now, step)
        record = {"step": step, **{k: float(v) for k, v in losses.items()}, "images_per_s": rate}
        self.monitor.log(record)
        bar.set_postfix(loss_d=f"{record['loss_d']:.3f}", loss_g=f"{record['loss_g']:.3f}", img_s=f"{rate:.0f}",
                        refresh=False)

    def _finish(self, trained: TrainedGenerator) -> TrainedGenerator:
        """Unwrap, share rank 0's EMA, write the last checkpoint, the generator and the final grid."""
        self.wrapping.unwrap()
        # ganaug.load builds the standard layout; a channels-last network can round a pixel the other way
        self.state.gan.to(memory_format=torch.contiguous_format)
        self.state.gan.on_step(self.config.steps, self.config.steps)  # the schedule's end state, for sampling
        if self.dist is not None:  # EMA and the last batch-norm statistics live on rank 0: share them
            import torch.distributed as dist

            for tensor in self.state.gan.state_dict().values():
                dist.broadcast(tensor, src=0)
        self.save_checkpoint()
        if self.is_main:
            final = self.monitor.sample_and_score(trained, self.state.step, final=True)  # sets trained.fidelity
            if self.run_folder is not None:
                trained.save(self.run_folder.generator)
            self.monitor.log(final)
        distributed.barrier(self.dist)
        return trained

    # -- set-up -------------------------------------------------------------------------------

    def _build(self, model_config: dict[str, Any] | None = None) -> None:
        gan = self.entry.build(num_classes=self.store.num_classes, image_shape=self.store.image_shape,
                               **(model_config or self.model_config)).to(self.device)
        if self.config.channels_last:
            gan.to(memory_format=torch.channels_last)
        opt_g, opt_d = gan.configure_optimizers(fused=self.fast_cuda)
        noise = torch.Generator(device=self.device).manual_seed(derive_seed(self.config.seed, Stream.NOISE))
        self.state = TrainingState(gan, opt_g, opt_d, noise, self.device)

    def _prepare_run_folder(self) -> None:
        if self.run_folder is None:
            distributed.barrier(self.dist)
            return
        distributed.main_rank_first(self.dist, self._take_run_folder)
        self.run_folder.refuse_overwrite(bool(ckpt.checkpoint_dirs(self.run_folder.path)), self.config.resume)

    def _take_run_folder(self) -> None:
        """Rank 0's part: create the folder, lock it, refuse a generator it may not replace (before any work)."""
        assert self.run_folder is not None
        self.run_folder.prepare()
        self.lock = RunLock(self.run_folder.path).acquire()
        check_replaceable(self.run_folder.generator, GENERATOR_WEIGHTS, GENERATOR_META)

    def _check_disk(self) -> None:
        """Refuse to start when the output disk cannot hold one more checkpoint (rank 0, through main_rank_first)."""
        if self.run_folder is None:
            return
        gan = self.state.gan
        weights = sum(t.numel() * t.element_size() for t in gan.state_dict().values())
        adam = 2 * sum(p.numel() * p.element_size() for p in gan.parameters() if p.requires_grad)
        self.run_folder.check_free_space(2 * (weights + adam))  # the new checkpoint is written before pruning

    def _resume(self, checkpoint: ckpt.Checkpoint) -> None:
        """Continue from ``checkpoint`` with its options, warning about the given ones it overrides."""
        check_data(checkpoint, self.run_folder, self.store)
        self.config, kept = resumed_config(self.config, checkpoint, world_size=self.world_size,
                                           batch_auto=self.batch_auto)
        saved = dataclasses.asdict(self.entry.make_config(**checkpoint.model_config))
        warn_kept(kept + kept_model_options(self.given_model_options, self.model_config, saved))
        self.model_config = checkpoint.model_config
        self._build()
        restore_state(self.state, checkpoint, rank=self.rank, world_size=self.world_size, seed=self.config.seed)
        self.last_checkpoint = checkpoint.folder
        if self.is_main:
            self.run_folder.truncate_log(checkpoint.step)

    # -- checkpoints and stopping ---------------------------------------------------------------

    def save_checkpoint(self) -> Path | None:
        """Write a checkpoint (rank 0); every rank must call it, as it gathers their RNG states."""
        if self.run_folder is None:
            return None
        rng_ranks = distributed.gather_objects(self.dist, ckpt.rng_state(self.device))
        if not self.is_main:
            return None
        state = self.state
        with self.wrapping.plain():
            tensors = dict(state.gan.state_dict())
        self.last_checkpoint = ckpt.write_checkpoint(
            self.run_folder, state.step, tensors, model=self.config.model, model_config=self.model_config,
            train_config=self.config, classes=self.store.classes, image_shape=self.store.image_shape,
            optimizers={"opt_g": state.opt_g, "opt_d": state.opt_d}, lr_scale=state.lr_scale,
            rollbacks=state.rollbacks, world_size=self.world_size, rng_ranks=rng_ranks, noise=state.noise,
            keep=self.config.keep_checkpoints)
        return self.last_checkpoint

    def _stop(self, during: str | None = None) -> None:
        """Checkpoint (between steps) and raise TrainingInterrupted; ``during="set-up"``: nothing to save."""
        if during is not None:
            raise TrainingInterrupted(f"stopped by {self.stop.name} during {during}, before training began; "
                                      "nothing was trained or saved", self.stop.signal_number or 0)
        with self.stop.deferred():  # a second signal while writing must not leave the stop half done
            folder = self.save_checkpoint()
        where = f"checkpoint written to {folder}; continue with resume=True (--resume)" if folder else (
            "nothing saved (no out= folder)")
        raise TrainingInterrupted(f"stopped by {self.stop.name} at step {self.state.step}; {where}",
                                  self.stop.signal_number or 0)

    def _disk_full(self, exc: OSError) -> None:
        """A write failed for lack of space: keep the last good checkpoint and say how to go on."""
        last = (f"the last good checkpoint is {self.last_checkpoint}" if self.last_checkpoint else
                "no checkpoint was written yet")
        step = getattr(getattr(self, "state", None), "step", 0)
        raise DiskFullError(
            f"the disk is full: writing {exc.filename or self.run_folder.path if self.run_folder else '?'} failed at "
            f"step {step} ({exc.strerror or exc}); {last}. Free some space, then run again with resume=True "
            "(--resume) to continue from it") from exc
