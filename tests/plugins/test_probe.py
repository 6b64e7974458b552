"""The build-time probe: families too large for the memory are refused before anything is allocated, and the
probe's shortcut for spectral norm on the meta device leaves real weights alone."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils import parametrizations

import ganaug.plugins.probe as probe
from ganaug.errors import ConfigError
from ganaug.plugins.registry import default_registry


def test_options_too_large_for_the_memory_are_refused_by_name(monkeypatch):
    monkeypatch.setattr(probe, "available_memory", lambda: 1000)
    entry = default_registry().generator("test_cdcgan")
    with pytest.raises(ConfigError, match=r"generator 'test_cdcgan' with .*3 classes of \(1, 8, 8\) images holds .* of "
                                          r"weights .* only 1000.0 B is available; use smaller options"):
        entry.build(num_classes=3, image_shape=(1, 8, 8))


def test_the_probe_skips_power_iterations_on_meta_only_and_puts_them_back():
    original = parametrizations._SpectralNorm._power_method
    torch.manual_seed(0)
    with torch.device("meta"), probe._no_power_iterations_on_meta():
        on_meta = parametrizations.spectral_norm(torch.nn.Linear(20, 20))
    with probe._no_power_iterations_on_meta():  # a real module built meanwhile still gets its start-up iterations
        real = parametrizations.spectral_norm(torch.nn.Linear(20, 20)).eval()  # eval: no further iteration
    assert on_meta.weight.is_meta
    assert torch.linalg.matrix_norm(real.weight.detach(), ord=2) == pytest.approx(1.0, abs=1e-3)
    assert parametrizations._SpectralNorm._power_method is original
