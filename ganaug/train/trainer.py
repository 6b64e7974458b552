"""The one trainer: any registered GAN family, on the CPU or a GPU, with logs, grids and checkpoints.

:func:`fit` loads the data into an :class:`~ganaug.data.ImageStore`, keeps it on the device as
uint8, draws batches by a pure function of ``(seed, batch number)``, alternates discriminator
and generator updates through the family's two losses, and writes into the run folder:

* ``config.json``: the resolved training and model config;
* ``log.jsonl``: losses, gradient norms of G and D, images/s, and the per-class diversity score;
* ``samples/grid_<step>.png``: one row per class, fixed noise, every ``sample_every`` steps;
* ``checkpoints/step_<N>/``: weights and optimiser states (safetensors), step, RNG states,
  config and classes (JSON), written atomically every ``checkpoint_every`` steps;
* ``generator/``: the final generator, loadable with :func:`ganaug.load`.

Because batches, noise and dropout all come from RNG states saved in the checkpoint, a run
resumed from step 20 to 40 ends with the same weights as 40 straight steps on the CPU.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import math
import os
import shutil
import signal
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ganaug._version import __version__
from ganaug.data import DataSource, ImageStore, load_data
from ganaug.data.memory import format_bytes
from ganaug.devices import resolve_device
from ganaug.errors import (
    CheckpointError,
    ConfigError,
    TrainingDivergedError,
    TrainingInterrupted,
)
from ganaug.gan import GAN, to_unit_range, update_ema
from ganaug.generator import TrainedGenerator
from ganaug.grid import save_class_grid
from ganaug.metrics.diversity import diversity_ratio, per_class_diversity
from ganaug.plugins.registry import create_generator, default_registry
from ganaug.seeds import Stream, derive_seed
from ganaug.storage import write_folder_atomically
from ganaug.train import checkpoint as ckpt
from ganaug.train import distributed
from ganaug.train.config import TrainConfig, default_batch_size, split_overrides


def fit(data: DataSource, model: str = "cdcgan", *, steps: int = 2000, batch_size: int | None = None,
        device: str = "auto", seed: int = 0, out: str | Path | None = None, resume: bool = False,
        **overrides: Any) -> TrainedGenerator:
    """Train a class-conditional GAN on labelled images.

    Args:
        data: anything :func:`ganaug.load_data` accepts (a Dataset, a folder, an .npz, ``(x, y)``,
            ``"digits"``) or an :class:`ImageStore`.
        model: registered generator family.
        steps: total generator updates.
        batch_size: real images per discriminator update; None means 64 on the CPU and 512 on CUDA.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        seed: makes the run reproducible.
        out: run folder (logs, grids, checkpoints); None trains in memory only.
        resume: continue from the newest checkpoint in ``out``.
        **overrides: other :class:`TrainConfig` fields (``checkpoint_every=100``...) and fields
            of the family's config (``lr_g=1e-4``, ``z_dim=32``...).

    Returns:
        The trained generator (EMA weights when the family keeps them), on ``device``.
    """
    train_overrides, model_overrides = split_overrides(overrides)
    config = TrainConfig(model=model, steps=steps, batch_size=batch_size, device=str(device), seed=seed,
                         out=None if out is None else str(out), resume=resume, **train_overrides)
    config.validate()
    store = data if isinstance(data, ImageStore) else load_data(
        data, image_size=config.image_size, channels=config.channels, skip_bad=config.skip_bad)
    return Trainer(store, config, model_overrides).run()


class Trainer:
    """Holds one training run's state; :meth:`run` trains and returns the generator."""

    def __init__(self, store: ImageStore, config: TrainConfig, model_overrides: dict[str, Any]) -> None:
        self.store = store
        self.config = config
        self.device = resolve_device(config.device)
        self.out = Path(config.out) if config.out is not None else None
        self.entry = default_registry().generator(config.model)
        self.model_config = dataclasses.asdict(self.entry.make_config(**model_overrides))
        self.batch_auto = config.batch_size is None
        if self.batch_auto:
            config.batch_size = default_batch_size(self.device)
        self.fast_cuda = self.device.type == "cuda" and config.fast_path
        self.step = 0
        self.lr_scale = 1.0
        self.rollbacks = 0
        self.stop_signal: int | None = None
        self.last_checkpoint: Path | None = None
        self._perm_cache: tuple[int, torch.Tensor] | None = None
        self.dist: distributed.DistContext | None = None
        self._plain: tuple[torch.nn.Module, torch.nn.Module] | None = None  # G and D before _wrap

    @property
    def rank(self) -> int:
        return self.dist.rank if self.dist else 0

    @property
    def world_size(self) -> int:
        return self.dist.world_size if self.dist else 1

    @property
    def is_main(self) -> bool:
        return self.dist is None or self.dist.is_main

    # -- data ---------------------------------------------------------------------------------

    def batch_indices(self, batch_number: int) -> torch.Tensor:
        """This rank's indices of batch ``batch_number``: epoch-wise shuffles seeded by (seed, epoch).

        The global batch (``batch_size`` x world size) is the same whatever the number of processes;
        rank r takes its r-th slice, so ranks never share an image within an epoch.
        """
        n, size = len(self.store), self.config.batch_size * self.world_size
        per_epoch = max(1, n // size)
        epoch, k = divmod(batch_number, per_epoch)
        if self._perm_cache is None or self._perm_cache[0] != epoch:
            generator = torch.Generator().manual_seed(derive_seed(self.config.seed, Stream.BATCH_ORDER, epoch))
            repeats = math.ceil(size / n)
            perm = torch.cat([torch.randperm(n, generator=generator) for _ in range(repeats)])
            self._perm_cache = (epoch, perm.to(self.device))  # one host-to-device copy per epoch
        start = k * size + self.rank * self.config.batch_size
        return self._perm_cache[1][start:start + self.config.batch_size]

    # -- set-up -------------------------------------------------------------------------------

    def _build(self) -> None:
        gan = create_generator(self.config.model, num_classes=self.store.num_classes,
                               image_shape=self.store.image_shape, **self.model_config)
        self.gan: GAN = gan.to(self.device)
        if self.config.channels_last:
            self.gan.to(memory_format=torch.channels_last)
        self.opt_g, self.opt_d = gan.configure_optimizers(fused=self.fast_cuda)
        self.noise = torch.Generator(device=self.device).manual_seed(self.config.seed)

    def _prepare_out(self) -> None:
        if self.out is None:
            return
        if not self.is_main:
            if not self.config.resume and ckpt.checkpoint_dirs(self.out):
                raise ConfigError(f"{self.out} already holds checkpoints of an earlier run")
            return
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            probe = self.out / f".write-test-{os.getpid()}"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"cannot write to the output folder {self.out} ({exc.strerror or exc}); choose another "
                              "out= (--out) or fix its permissions") from None
        for stale in [*self.out.glob(".tmp-*"), *(self.out / "checkpoints").glob(".tmp-*")]:
            shutil.rmtree(stale, ignore_errors=True)  # left by a run killed while writing
        if not self.config.resume and ckpt.checkpoint_dirs(self.out):
            raise ConfigError(
                f"{self.out} already holds checkpoints of an earlier run; pass resume=True (--resume) to "
                "continue it, or choose another out folder"
            )

    def _check_disk(self) -> None:
        """Refuse to start when the output disk cannot hold one more checkpoint."""
        if self.out is None or not self.is_main:
            return
        state = sum(t.numel() * t.element_size() for t in self.gan.state_dict().values())
        adam = 2 * sum(p.numel() * p.element_size() for p in self.gan.parameters() if p.requires_grad)
        needed = 2 * (state + adam)  # the new checkpoint is written before the oldest is pruned
        free = shutil.disk_usage(self.out).free
        if free < needed:
            raise ConfigError(f"only {format_bytes(free)} free on the disk of {self.out}; one checkpoint needs about "
                              f"{format_bytes(needed)}. Free some space or choose another out= (--out)")

    def _resume(self) -> None:
        found = ckpt.load_latest_checkpoint(self.out) if self.out is not None else None
        if found is None:
            return
        folder, tensors, meta = found
        saved = meta["train_config"]
        if meta["model"] != self.config.model:
            raise ConfigError(f"{folder} was trained with model {meta['model']!r}, not {self.config.model!r}")
        if meta["classes"] != self.store.classes or tuple(meta["image_shape"]) != self.store.image_shape:
            raise CheckpointError(
                f"{folder} was trained on classes {meta['classes']} and images {tuple(meta['image_shape'])}; "
                f"this data has classes {self.store.classes} and images {self.store.image_shape}"
            )
        saved_world = int(meta.get("world_size", 1))
        if saved_world != self.world_size and (saved["batch_size"] * saved_world) % self.world_size == 0:
            saved["batch_size"] = saved["batch_size"] * saved_world // self.world_size  # keep the global batch
        for name in ("batch_size", "seed"):
            if saved[name] != getattr(self.config, name):
                if not (name == "batch_size" and self.batch_auto):  # a default batch follows the run quietly
                    warnings.warn(f"resuming with the checkpoint's {name}={saved[name]} "
                                  f"(not {getattr(self.config, name)})", stacklevel=3)
                setattr(self.config, name, saved[name])
        self.model_config = meta["model_config"]
        self._build()
        self.gan.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("gan.")})
        ckpt.load_optimizer_state(self.opt_g, "opt_g", tensors, meta["opt_g"])
        ckpt.load_optimizer_state(self.opt_d, "opt_d", tensors, meta["opt_d"])
        ranks = meta.get("rng_ranks") or [{"cpu": meta["rng_cpu"], "cuda": meta.get("rng_cuda")}]
        if self.rank < len(ranks) and len(ranks) == max(self.world_size, 1) or self.rank == 0:
            states = ranks[self.rank if self.rank < len(ranks) else 0]
            torch.set_rng_state(ckpt.decode_bytes(states["cpu"]))
            if self.device.type == "cuda" and states.get("cuda"):
                torch.cuda.set_rng_state(ckpt.decode_bytes(states["cuda"]), self.device)
        else:  # another number of processes: this rank gets a fresh stream, derived from the step
            torch.manual_seed(derive_seed(self.config.seed, Stream.TORCH_RNG, self.rank, int(meta["step"])))
        if meta.get("rng_noise"):
            self.noise.set_state(ckpt.decode_bytes(meta["rng_noise"]).to(self.noise.get_state().device))
        self.step = int(meta["step"])
        self.lr_scale = float(meta.get("lr_scale", 1.0))
        self.rollbacks = int(meta.get("rollbacks", 0))
        self.last_checkpoint = folder
        self._truncate_log(self.step)

    # -- outputs ------------------------------------------------------------------------------

    def _truncate_log(self, step: int) -> None:
        """Drop log lines past ``step`` left by a run that died after its last checkpoint."""
        path = self.out / "log.jsonl" if self.out is not None else None
        if path is None or not path.exists():
            return
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        kept = []
        for line in lines:
            try:
                if json.loads(line).get("step", 0) <= step:
                    kept.append(line)
            except ValueError:
                continue  # a half-written line from a kill
        path.write_text("".join(line + "\n" for line in kept))

    def _log(self, record: dict[str, Any]) -> None:
        if self.out is None or not self.is_main:
            return
        with open(self.out / "log.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for key, value in record.items():
                if isinstance(value, (int, float)) and key != "step":
                    self.writer.add_scalar(key, value, record["step"])

    def save_checkpoint(self) -> Path | None:
        """Write a checkpoint (rank 0); every rank must call it, as it gathers their RNG states."""
        if self.out is None:
            return None
        rng = {"cpu": ckpt.encode_bytes(torch.get_rng_state()),
               "cuda": ckpt.encode_bytes(torch.cuda.get_rng_state(self.device)) if self.device.type == "cuda" else None}
        rng_ranks = distributed.gather_objects(self.dist, rng)
        if not self.is_main:
            return None
        with self._unwrapped():
            tensors = {f"gan.{k}": v for k, v in self.gan.state_dict().items()}
        opt_g_tensors, opt_g_meta = ckpt.optimizer_state(self.opt_g, "opt_g")
        opt_d_tensors, opt_d_meta = ckpt.optimizer_state(self.opt_d, "opt_d")
        meta = {
            "format": ckpt.CHECKPOINT_FORMAT,
            "ganaug_version": __version__,
            "step": self.step,
            "model": self.config.model,
            "model_config": self.model_config,
            "train_config": dataclasses.asdict(self.config),
            "classes": self.store.classes,
            "image_shape": list(self.store.image_shape),
            "opt_g": opt_g_meta,
            "opt_d": opt_d_meta,
            "lr_scale": self.lr_scale,
            "rollbacks": self.rollbacks,
            "world_size": self.world_size,
            "rng_cpu": rng["cpu"],
            "rng_cuda": rng["cuda"],
            "rng_ranks": rng_ranks,
            "rng_noise": ckpt.encode_bytes(self.noise.get_state()),
        }
        folder = write_folder_atomically(self.out / "checkpoints" / f"step_{self.step:08d}",
                                              {**tensors, **opt_g_tensors, **opt_d_tensors}, meta)
        ckpt.prune_checkpoints(self.out, self.config.keep_checkpoints)
        self.last_checkpoint = folder
        return folder

    def _sample_and_score(self, trained: TrainedGenerator, final: bool = False) -> dict[str, Any]:
        """Write the grid and compute per-class diversity against the real images."""
        record: dict[str, Any] = {"step": self.step}
        fake, labels = trained.sample(per_class=self.config.diversity_samples, seed=derive_seed(self.config.seed, Stream.DIVERSITY),
                                      return_labels=True)
        ratio = diversity_ratio(per_class_diversity(fake, labels, self.store.num_classes), self.real_diversity)
        finite = [r for r in ratio if r == r]
        record["diversity_ratio"] = [round(r, 4) for r in ratio]
        record["diversity_ratio_mean"] = sum(finite) / len(finite) if finite else float("nan")
        collapsed = [self.store.classes[k] for k, r in enumerate(ratio) if r == r and r < self.config.collapse_warning]
        if collapsed and self.step >= self.config.collapse_warning_after:
            record["collapse_warning"] = collapsed
            warnings.warn(
                f"possible mode collapse at step {self.step}: samples of class(es) {', '.join(map(repr, collapsed))} "
                f"vary less than {self.config.collapse_warning:.0%} as much as the real images "
                f"(diversity ratios {[round(r, 2) for r in ratio]}). Try more data, a larger mode_seeking weight, "
                "or an earlier checkpoint", stacklevel=2)
        if self.out is not None:
            grid = trained.sample(per_class=self.config.grid_per_class, seed=derive_seed(self.config.seed, Stream.GRID))
            name = "grid_final.png" if final else f"grid_{self.step:08d}.png"
            save_class_grid(grid, self.store.num_classes, self.out / "samples" / name)
            if self.writer is not None:
                self.writer.add_images("samples", grid.float() / 255, self.step)
        return record

    def _open_tensorboard(self):
        if self.out is None or not self.config.tensorboard:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            return None
        return SummaryWriter(str(self.out / "tensorboard"))

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> TrainedGenerator:
        self.dist = distributed.setup(self.device)
        if self.dist is not None and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        try:
            return self._run()
        finally:
            distributed.teardown(self.dist)

    def _run(self) -> TrainedGenerator:
        cuda = self.device.type == "cuda"
        rng_devices = [self.device.index or 0] if cuda else []
        with torch.random.fork_rng(devices=rng_devices), _cuda_fast_math(self.fast_cuda):
            torch.manual_seed(derive_seed(self.config.seed, Stream.TORCH_RNG, self.rank))  # rank 0: the single-process stream
            self._prepare_out()
            distributed.barrier(self.dist)
            if self.config.resume:
                self._resume()
            if self.step == 0:
                self._build()
            self._check_disk()
            self._apply_lr_scale()
            self._wrap()
            if self.out is not None and self.is_main:
                (self.out / "config.json").write_text(json.dumps(
                    {"train": dataclasses.asdict(self.config), "model": self.model_config,
                     "classes": self.store.classes, "image_shape": list(self.store.image_shape),
                     "world_size": self.world_size}, indent=2))
            self.writer = self._open_tensorboard() if self.is_main else None
            previous = _install_stop_handlers(self)
            try:
                return self._loop()
            finally:
                _restore_handlers(previous)
                if self.writer is not None:
                    self.writer.close()

    def _loop(self) -> TrainedGenerator:
        cfg, gan, device = self.config, self.gan, self.device
        trained = TrainedGenerator(gan, cfg.model, self.store.classes)
        self.real_diversity = per_class_diversity(self.store.images, self.store.labels, self.store.num_classes)
        images = self.store.images.to(device)
        labels = self.store.labels.to(device)
        d_steps = gan.config.d_steps
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.fast_cuda else contextlib.nullcontext()
        layout = torch.channels_last if cfg.channels_last else torch.contiguous_format
        check_every = 1 if device.type == "cpu" else cfg.log_every
        bad = torch.zeros((), dtype=torch.bool, device=device)
        gan.train()
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not (cfg.progress and self.is_main), unit="step",
                   dynamic_ncols=True)
        global_batch = cfg.batch_size * self.world_size
        noise_slice = slice(self.rank * cfg.batch_size, (self.rank + 1) * cfg.batch_size)
        tick, tick_step = time.perf_counter(), self.step
        self._take_snapshot()
        while self.step < cfg.steps:
            log_now = (self.step + 1) % cfg.log_every == 0 or self.step + 1 == cfg.steps
            for j in range(d_steps):
                index = self.batch_indices(self.step * d_steps + j)
                real, real_labels = to_unit_range(images[index]).contiguous(memory_format=layout), labels[index]
                fake_labels = gan.fake_labels(real_labels)
                z = gan.sample_noise(global_batch, device=device, generator=self.noise)[noise_slice]
                with autocast:
                    if j < d_steps - 1:
                        with torch.no_grad():
                            fake = gan.generator(z, fake_labels)
                    else:
                        fake = gan.generator(z, fake_labels)
                    loss_d = gan.discriminator_loss(real, fake.detach(), real_labels, fake_labels)
                self.opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                grad_d = _grad_norm(gan.discriminator) if log_now else None
                self.opt_d.step()
            with self._discriminator_frozen():
                with autocast:
                    loss_g = gan.generator_loss(fake, z, fake_labels)
                self.opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
            grad_g = _grad_norm(gan.generator) if log_now else None
            self.opt_g.step()
            if hasattr(gan, "ema_generator") and self.is_main:
                update_ema(gan.ema_generator, gan.generator, min(gan.config.ema_decay, (1 + self.step) / (10 + self.step)))
            self.step += 1
            bad |= ~(torch.isfinite(loss_d.detach()) & torch.isfinite(loss_g.detach()))
            checkpoint_now = self.step % cfg.checkpoint_every == 0 and self.step < cfg.steps
            if self.step % check_every == 0 or log_now or checkpoint_now or self.step == cfg.steps:
                weights_bad = (log_now or checkpoint_now or self.step == cfg.steps) and not self._weights_finite()
                loss_bad, weights_bad, stop = distributed.any_true(
                    self.dist, bool(bad), weights_bad, self.stop_signal is not None, device=device)
                if stop and self.stop_signal is None:
                    self.stop_signal = signal.SIGTERM  # another rank was told to stop
                if loss_bad or weights_bad:
                    what = "a weight" if weights_bad and not loss_bad else (
                        f"loss_d={float(loss_d.detach())}, loss_g={float(loss_g.detach())}")
                    self._diverged(what, check_every)
                    bad.zero_()
                    bar.reset(total=cfg.steps)
                    bar.update(self.step)
                    continue
            if log_now:
                now = time.perf_counter()
                rate = (self.step - tick_step) * global_batch * d_steps / max(now - tick, 1e-9)
                tick, tick_step = now, self.step
                record = {"step": self.step, "loss_d": float(loss_d.detach()), "loss_g": float(loss_g.detach()),
                          "grad_norm_d": float(grad_d), "grad_norm_g": float(grad_g), "images_per_s": rate}
                self._log(record)
                bar.set_postfix(loss_d=f"{record['loss_d']:.3f}", loss_g=f"{record['loss_g']:.3f}",
                                img_s=f"{rate:.0f}", refresh=False)
            if self.step % cfg.sample_every == 0 and self.step < cfg.steps and self.is_main:
                with self._unwrapped():
                    self._log(self._sample_and_score(trained))
            if checkpoint_now:
                self.save_checkpoint()
                self._take_snapshot()
            bar.update(1)
            if self.stop_signal is not None and (self.dist is None or self.step % check_every == 0):
                bar.close()
                self._stop()
        bar.close()
        self._unwrap()
        if self.dist is not None:  # EMA and the last batch-norm statistics live on rank 0: share them
            import torch.distributed as dist

            for tensor in self.gan.state_dict().values():
                dist.broadcast(tensor, src=0)
        self.save_checkpoint()
        if self.is_main:
            if self.out is not None:
                trained.save(self.out / "generator")
            self.final_scores = self._sample_and_score(trained, final=True)
            self._log(self.final_scores)
        distributed.barrier(self.dist)
        return trained

    # -- DistributedDataParallel and torch.compile --------------------------------------------

    def _wrap(self) -> None:
        """Wrap G and D for training (after building or resuming): DDP in a multi-process run, then
        ``torch.compile`` when asked. The plain modules are kept for state dicts and sampling."""
        self._plain = (self.gan.generator, self.gan.discriminator)
        if self.dist is not None:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.gan.generator = DDP(self.gan.generator, device_ids=ids)
            self.gan.discriminator = DDP(self.gan.discriminator, device_ids=ids)
        if self.config.compile != "off":
            mode = None if self.config.compile == "default" else self.config.compile
            self.gan.generator = torch.compile(self.gan.generator, mode=mode)
            self.gan.discriminator = torch.compile(self.gan.discriminator, mode=mode)

    def _unwrap(self) -> None:
        if self._plain is not None:
            self.gan.generator, self.gan.discriminator = self._plain

    @contextlib.contextmanager
    def _unwrapped(self):
        """The plain modules, for state dicts and sampling (rank 0 must not enter DDP's collectives alone)."""
        generator, discriminator = self.gan.generator, self.gan.discriminator
        self._unwrap()
        try:
            yield
        finally:
            self.gan.generator, self.gan.discriminator = generator, discriminator

    @contextlib.contextmanager
    def _discriminator_frozen(self):
        """During the G update, skip D's weight gradients (single process) or their all-reduce (DDP)."""
        discriminator = self.gan.discriminator
        if self.dist is not None:  # DDP does not allow toggling requires_grad; its grads are zeroed later
            with discriminator.no_sync():
                yield
            return
        discriminator.requires_grad_(False)
        try:
            yield
        finally:
            discriminator.requires_grad_(True)

    # -- divergence: roll back to the last good state --------------------------------------

    def _weights_finite(self) -> bool:
        """One device-to-host read for all parameters."""
        return bool(torch.stack([torch.isfinite(p).all() for p in self.gan.parameters()]).all())

    def _take_snapshot(self) -> None:
        """Keep the current state in memory (CPU copies): what a rollback returns to."""
        with self._unwrapped():
            state = {k: v.detach().to("cpu", copy=True) for k, v in self.gan.state_dict().items()}
        self._snapshot = {
            "step": self.step,
            "gan": state,
            "noise": self.noise.get_state(),
            "opt_g": copy.deepcopy(self.opt_g.state_dict()),
            "opt_d": copy.deepcopy(self.opt_d.state_dict()),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
        }

    def _apply_lr_scale(self) -> None:
        for optimizer, base in ((self.opt_g, self.gan.config.lr_g), (self.opt_d, self.gan.config.lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = base * self.lr_scale

    def _diverged(self, what: str, window: int) -> None:
        where = f"at step {self.step}" if window == 1 else f"within the {window} steps up to {self.step}"
        if self.rollbacks >= self.config.max_rollbacks:
            last = str(self.last_checkpoint) if self.last_checkpoint else "none (no checkpoint written yet)"
            raise TrainingDivergedError(
                f"training diverged {where} ({what} is NaN or inf) after {self.rollbacks} rollback(s) with lower "
                f"learning rates. Last good checkpoint: {last}. Try lower lr_g/lr_d, another seed or model"
            )
        snapshot = self._snapshot
        with self._unwrapped():
            self.gan.load_state_dict(snapshot["gan"])
        self.noise.set_state(snapshot["noise"])
        self.opt_g.load_state_dict(snapshot["opt_g"])
        self.opt_d.load_state_dict(snapshot["opt_d"])
        torch.set_rng_state(snapshot["rng_cpu"])
        if snapshot["rng_cuda"] is not None:
            torch.cuda.set_rng_state(snapshot["rng_cuda"], self.device)
        diverged_at, self.step = self.step, snapshot["step"]
        self.rollbacks += 1
        self.lr_scale *= self.config.rollback_lr_factor
        self._apply_lr_scale()
        message = (f"training diverged {where} ({what} is NaN or inf); rolled back to step {self.step} and scaled "
                   f"the learning rates by {self.lr_scale:g} (rollback {self.rollbacks} of {self.config.max_rollbacks})")
        warnings.warn(message, stacklevel=3)
        self._log({"step": self.step, "event": "rollback", "diverged_at": diverged_at, "lr_scale": self.lr_scale})

    # -- stopping on SIGINT / SIGTERM -------------------------------------------------------

    def _stop(self) -> None:
        name = signal.Signals(self.stop_signal).name if self.stop_signal else "a signal"
        folder = self.save_checkpoint()
        where = f"checkpoint written to {folder}; continue with resume=True (--resume)" if folder else (
            "nothing saved (no out= folder)")
        raise TrainingInterrupted(f"stopped by {name} at step {self.step}; {where}", self.stop_signal or 0)


def _install_stop_handlers(trainer: Trainer) -> dict[int, Any] | None:
    """On SIGINT/SIGTERM, finish the current step, write a checkpoint and stop (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):  # noqa: ARG001
        if trainer.stop_signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C stops at once
        trainer.stop_signal = signum

    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, handler)
    return previous


def _restore_handlers(previous: dict[int, Any] | None) -> None:
    for signum, handler in (previous or {}).items():
        signal.signal(signum, handler)


def _grad_norm(module: torch.nn.Module) -> torch.Tensor:
    grads = [p.grad.detach() for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))


@contextlib.contextmanager
def _cuda_fast_math(enabled: bool):
    """TF32 matmuls and convolutions on CUDA for the duration of training; restored afterwards."""
    if not enabled:
        yield
        return
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.benchmark) = saved
