"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for training GANs on little data.

The same random transforms are applied to real and fake images before the discriminator sees
them, and gradients flow through them to the generator, so D cannot memorise the few real images
while G is not pushed to generate augmented ones. Policies: ``translation``, ``cutout``, ``color``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ganaug.errors import ConfigError

POLICIES = ("color", "translation", "cutout")


POLICY_CHOICES = f"choose a comma list of {', '.join(POLICIES)} (or 'auto', 'none')"
"""The fix named when a family's ``diffaugment`` option is not a policy."""


def check_policy(text: str) -> str | None:
    """What is wrong with a family's ``diffaugment`` option, or None when it is a policy.

    The families' configs call it through their ``limits`` table, so a misspelled policy is refused with the
    other bad options, before any data is read, rather than at the first training step.
    """
    if text in ("auto", "none", ""):
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in parts if p not in POLICIES]
    if not unknown:
        return None
    if parts == [text.strip()]:
        return f"not a DiffAugment policy; {POLICY_CHOICES}"
    return f"{', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not a DiffAugment policy; " \
           f"{POLICY_CHOICES}"


def parse_policy(text: str, channels: int) -> tuple[str, ...]:
    """A family's ``diffaugment`` option as policies: a comma list, ``'auto'`` (translation and cutout, plus
    colour for RGB) or ``'none'``."""
    if text == "auto":
        return ("color", "translation", "cutout") if channels == 3 else ("translation", "cutout")
    if text in ("", "none"):
        return ()
    return tuple(p.strip() for p in text.split(",") if p.strip())


def diff_augment(x: torch.Tensor, policy: Sequence[str], *, translation_ratio: float = 0.125,
                 cutout_ratio: float = 0.5) -> torch.Tensor:
    """Apply the policies in order, each with independent randomness per image.

    Shape:
        x: (B, C, H, W) in [-1, 1]; returns the same shape.
    """
    for name in policy:
        if name == "color":
            x = _color(x)
        elif name == "translation":
            x = _translation(x, translation_ratio)
        elif name == "cutout":
            x = _cutout(x, cutout_ratio)
        else:
            raise ConfigError(f"diffaugment: {name!r} is not a DiffAugment policy; {POLICY_CHOICES}")
    return x


def _color(x: torch.Tensor) -> torch.Tensor:
    b = x.shape[0]
    brightness = torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5
    x = x + brightness
    if x.shape[1] > 1:
        mean = x.mean(dim=1, keepdim=True)
        saturation = torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) * 2
        x = (x - mean) * saturation + mean
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    contrast = torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5
    return (x - mean) * contrast + mean


def _translation(x: torch.Tensor, ratio: float) -> torch.Tensor:
    b, _, h, w = x.shape
    sh, sw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    dy = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    src_y = (rows + dy + 1).clamp(0, h + 1).expand(b, h, w)
    src_x = (cols + dx + 1).clamp(0, w + 1).expand(b, h, w)
    padded = F.pad(x, [1, 1, 1, 1], value=-1.0)  # pad with "black" in [-1, 1]
    flat = padded.flatten(2)  # (B, C, (H+2)(W+2))
    index = (src_y * (w + 2) + src_x).view(b, 1, h * w).expand(-1, x.shape[1], -1)
    return flat.gather(2, index).view_as(x)


def _cutout(x: torch.Tensor, ratio: float) -> torch.Tensor:
    b, _, h, w = x.shape
    ch, cw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    cy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((rows - cy + ch // 2).clamp(min=0) < ch) & ((rows - cy + ch // 2) >= 0)
    inside = inside & ((cols - cx + cw // 2) >= 0) & ((cols - cx + cw // 2) < cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)
