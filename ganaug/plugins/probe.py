"""A family checked when it is built, before anything is allocated: built and run on PyTorch's ``meta``
device (shapes only), so options too large for the memory and a generator that does not return
(B, C, H, W) images are refused with a message naming the family and its plugin."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

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
        with torch.device("meta"):
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


def config_summary(config: Any) -> str:
    """The options of ``config`` that differ from their defaults, for messages."""
    changed = [f"{f.name}={getattr(config, f.name)!r}" for f in dataclasses.fields(config)
               if f.default is not dataclasses.MISSING and getattr(config, f.name) != f.default]
    return ", ".join(changed) or "its default options"
