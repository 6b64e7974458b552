"""A family checked when it is built, before anything is allocated: built and run on PyTorch's ``meta``
device (shapes only), so options too large for the memory and a generator that does not return
(B, C, H, W) images are refused with a message naming the family and its plugin."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

import torch
from torch.nn.utils import parametrizations

from ganaug.data.memory import available_memory, format_bytes
from ganaug.errors import ConfigError, PluginError
from ganaug.gan import GAN, GANConfig


def probe_family(name: str, owner: str, gan_class: type[GAN], config: GANConfig, num_classes: int,
                 image_shape: tuple[int, int, int]) -> None:
    """Before allocating anything: refuse options that make the GAN too large for the memory, and a
    generator whose output is not a (B, C, H, W) batch of ``image_shape`` images.

    The GAN is built and run on PyTorch's ``meta`` device (shapes only, no memory or compute); a
    family that cannot be built or run there is not checked.
    """
    try:
        with torch.device("meta"), _no_power_iterations_on_meta():
            probe = gan_class(config, num_classes, image_shape)
        needed = sum(t.numel() * t.element_size() for t in [*probe.parameters(), *probe.buffers()])
    except Exception:  # noqa: BLE001 - the real build reports the family's own errors
        return
    available = available_memory()
    if available is not None and 4 * needed > 0.8 * available:  # weights, gradients and two Adam moments
        raise ConfigError(
            f"generator {name!r} with {config_summary(config)} and {num_classes} classes of {image_shape} "
            f"images holds {format_bytes(needed)} of weights and needs about {format_bytes(4 * needed)} to train, "
            f"but only {format_bytes(available)} is available; use smaller options (z_dim, width...) or images")
    try:
        with torch.no_grad():
            real = torch.zeros(2, *image_shape, device="meta")
            z = probe.sample_noise(2, device="meta")
            shape = tuple(probe.generator(probe.generator_inputs(real, z),
                                          torch.zeros(2, dtype=torch.long, device="meta")).shape)
    except Exception:  # noqa: BLE001 - an op without a meta kernel: the contract tests check the shape
        return
    if shape != (2, *image_shape):
        raise PluginError(
            f"generator {name!r} (plugin {owner!r}) returns a batch of shape {shape} for 2 images of "
            f"{image_shape}; its generator must return (B, C, H, W) = {(2, *image_shape)}. Fix the family (see "
            f"docs/writing-a-plugin.md), or disable the plugin with GANAUG_DISABLE_PLUGINS={owner}")


@contextlib.contextmanager
def _no_power_iterations_on_meta() -> Iterator[None]:
    """Skip spectral norm's 15 start-up power iterations for weights on the meta device while the probe builds.

    On meta they compute nothing, yet every op runs PyTorch's Python meta kernels: about a second per probe of a
    family with spectral norm, twenty times the cost of building the real (small) GAN. Weights on a real device
    still get them, so a GAN built meanwhile in another thread is unaffected.
    """
    spectral_norm = getattr(parametrizations, "_SpectralNorm", None)
    power_method = getattr(spectral_norm, "_power_method", None)
    if power_method is None:  # another PyTorch: probe at the usual cost
        yield
        return

    def skipped_on_meta(self: Any, weight_mat: torch.Tensor, n_power_iterations: int) -> None:
        if not weight_mat.is_meta:
            power_method(self, weight_mat, n_power_iterations)

    spectral_norm._power_method = skipped_on_meta  # type: ignore[union-attr]
    try:
        yield
    finally:
        spectral_norm._power_method = power_method  # type: ignore[union-attr]


def config_summary(config: Any) -> str:
    """The options of ``config`` that differ from their defaults, for messages."""
    changed = [f"{f.name}={getattr(config, f.name)!r}" for f in dataclasses.fields(config)
               if f.default is not dataclasses.MISSING and getattr(config, f.name) != f.default]
    return ", ".join(changed) or "its default options"
