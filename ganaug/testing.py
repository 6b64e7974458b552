"""Test kit for plugin authors, loaded by pytest as a plugin (entry point ``pytest11``).

Fixtures:
    ganaug_registry: a fresh registry (installed plugins and built-ins, strict: a broken plugin fails
        the test instead of being skipped).
    ganaug_tiny_data: 24 tiny structured images of 3 classes, as an ``ImageStore``.

Contract: subclass :class:`GeneratorContract`, set ``generator_name`` (and, if needed,
``overrides``, ``image_shape``), and pytest runs the checks every generator must pass: first the
generator's output (shape, dtype, range), then building, that D learns and that the class conditions
G, one training step, sampling, seeds, saving and loading, restoration::

    from ganaug.testing import GeneratorContract

    class TestMyGAN(GeneratorContract):
        generator_name = "my-gan"
        overrides = {"width": 8}
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import torch

from ganaug.data import ImageStore
from ganaug.plugins.registry import Registry, build_registry


def make_tiny_data(image_shape: tuple[int, int, int] = (1, 8, 8), num_classes: int = 3, per_class: int = 8,
                   seed: int = 0) -> ImageStore:
    """Small images with a class-specific bright stripe plus noise; fast to train on."""
    channels, height, width = image_shape
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_classes).repeat_interleave(per_class)
    images = (torch.rand(len(labels), channels, height, width, generator=generator) * 80).to(torch.uint8)
    for i, label in enumerate(labels.tolist()):
        row = (label * height) // num_classes
        images[i, :, row:row + max(1, height // num_classes)] += 150
    return ImageStore(images, labels, [f"class{k}" for k in range(num_classes)])


@pytest.fixture
def ganaug_registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A fresh plugin manager and registry. Other installed plugins that are broken are skipped (an
    unrelated plugin must not fail your tests); the contract fails on its own when your family is missing,
    listing the plugins that failed to load."""
    import warnings

    monkeypatch.setenv("GANAUG_STRICT_PLUGINS", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_registry()


@pytest.fixture
def ganaug_tiny_data() -> ImageStore:
    return make_tiny_data()


class GeneratorContract:
    """Checks every generator family must pass: build, train a step on CPU, sample, seed, save/load."""

    generator_name: ClassVar[str] = ""
    """The registered name under test."""
    overrides: ClassVar[dict[str, Any]] = {}
    """Config overrides that make the family tiny enough to train in seconds."""
    image_shape: ClassVar[tuple[int, int, int]] = (1, 8, 8)
    num_classes: ClassVar[int] = 3

    @pytest.fixture
    def data(self) -> ImageStore:
        return make_tiny_data(self.image_shape, self.num_classes)

    @pytest.fixture
    def trained(self, data: ImageStore, ganaug_registry: Registry, tmp_path_factory: pytest.TempPathFactory):
        import ganaug

        self._check_output(ganaug_registry)  # a shape or dtype fault fails here with its message, not later
        out = tmp_path_factory.mktemp("contract-run")
        try:
            generator = ganaug.fit(data, self.generator_name, steps=2, batch_size=8, device="cpu", out=out,
                                   progress=False, checkpoint_every=1, registry=ganaug_registry, **self.overrides)
        except ganaug.GanaugError as exc:
            pytest.fail(f"training {self.generator_name!r} for 2 steps failed: {exc}")
        return generator, out

    def _build(self, registry: Registry):
        """The family built from the registry, or a clear failure naming what is missing."""
        from ganaug import GAN, GanaugError, create_generator

        if not self.generator_name:
            pytest.fail("set generator_name on your GeneratorContract subclass")
        if self.generator_name not in registry.generators and self.generator_name not in registry.aliases:
            failed = "; ".join(f"{f.name} ({f.distribution}): {f.error}" for f in registry.failures) or "none"
            pytest.fail(f"{self.generator_name!r} is not registered (is your plugin installed, `pip install -e .`?); "
                        f"registered: {sorted(registry.generators)}; plugins that failed to load: {failed}")
        try:
            gan = create_generator(self.generator_name, num_classes=self.num_classes, image_shape=self.image_shape,
                                   registry=registry, **self.overrides)
        except GanaugError as exc:
            pytest.fail(f"building {self.generator_name!r} failed: {exc}")
        if not isinstance(gan, GAN):
            pytest.fail(f"{self.generator_name!r} built a {type(gan).__name__}, not a ganaug.GAN")
        return gan

    def _check_output(self, registry: Registry) -> None:
        gan = self._build(registry)
        z = gan.sample_noise(4, device="cpu")
        labels = torch.arange(4) % self.num_classes
        real = torch.rand(4, *self.image_shape) * 2 - 1
        with torch.no_grad():
            out = gan.generator(gan.generator_inputs(real, z), labels)  # generator_inputs is z for noise families
        if not isinstance(out, torch.Tensor):
            pytest.fail(f"the generator returned a {type(out).__name__}; it must return a tensor (B, C, H, W)")
        if tuple(out.shape) != (4, *self.image_shape):
            pytest.fail(f"the generator returned shape {tuple(out.shape)} for 4 images of {self.image_shape}; it "
                        f"must return (B, C, H, W) = {(4, *self.image_shape)}")
        if not out.dtype.is_floating_point:
            pytest.fail(f"the generator returned {out.dtype}; it must return floats in [-1, 1]")
        if not (out.min() >= -1.0 - 1e-4 and out.max() <= 1.0 + 1e-4):
            pytest.fail(f"generator output spans {float(out.min()):.3g}..{float(out.max()):.3g}; it must lie in "
                        "[-1, 1] (end with tanh)")

    def test_a_output_shape_dtype_and_range(self, ganaug_registry: Registry) -> None:
        """Checked first (pytest runs the tests in this order): everything else depends on it."""
        self._check_output(ganaug_registry)

    def test_builds_from_the_registry(self, ganaug_registry: Registry) -> None:
        from ganaug import GAN

        assert isinstance(self._build(ganaug_registry), GAN)

    def test_the_discriminator_learns(self, data: ImageStore, ganaug_registry: Registry) -> None:
        """A few discriminator updates on one fixed batch lower its loss: D can tell real from fake."""
        from ganaug.gan import to_unit_range

        torch.manual_seed(0)
        gan = self._build(ganaug_registry)
        _, opt_d = gan.configure_optimizers()
        real, labels = to_unit_range(data.images[:8]), data.labels[:8]
        z = gan.sample_noise(8, device="cpu")
        inputs = gan.generator_inputs(real, z)
        with torch.no_grad():
            fake = gan.generator(inputs, labels)
        extra = {"inputs": inputs} if gan.conditioning == "image" else {}

        def loss() -> torch.Tensor:
            return gan.discriminator_loss(real, fake, labels, labels, **extra)

        gan.train()
        first = float(loss().detach())
        for _ in range(20):
            opt_d.zero_grad(set_to_none=True)
            value = loss()
            value.backward()
            opt_d.step()
        last = float(loss().detach())
        assert last < first, f"20 discriminator updates on one batch did not lower its loss ({first:.4g} -> {last:.4g})"

    def test_the_class_conditions_the_output(self, ganaug_registry: Registry) -> None:
        """The same noise (and image) with another class gives another image."""
        gan = self._build(ganaug_registry)
        gan.eval()
        z = gan.sample_noise(1, device="cpu")
        z = z.expand(self.num_classes, *z.shape[1:]).clone()
        real = (torch.rand(1, *self.image_shape) * 2 - 1).repeat(self.num_classes, 1, 1, 1)
        with torch.no_grad():
            out = gan.generator(gan.generator_inputs(real, z), torch.arange(self.num_classes))
        assert not torch.allclose(out[0], out[1]), "classes 0 and 1 give the same image: the class is ignored"

    def test_one_training_step_changes_the_weights(self, data: ImageStore, ganaug_registry: Registry) -> None:
        import ganaug

        def weights_after(steps: int) -> dict[str, torch.Tensor]:
            trained = ganaug.fit(data, self.generator_name, steps=steps, batch_size=8, device="cpu",
                                 registry=ganaug_registry, progress=False, seed=0, **self.overrides)
            return trained.gan.generator.state_dict()

        # the same seeded run one step longer: only that step can make the difference (fit refuses steps=0)
        before, after = weights_after(1), weights_after(2)
        assert any(not torch.equal(v, after[k]) for k, v in before.items()
                   if v.is_floating_point()), "one training step left the generator unchanged"
        for name, value in after.items():
            if value.is_floating_point():
                assert torch.isfinite(value).all(), f"non-finite weight {name} after one step"

    def test_sample_shape_dtype_and_range(self, trained) -> None:
        generator, _ = trained
        images, labels = generator.sample(per_class=3, return_labels=True)
        assert images.shape == (3 * self.num_classes, *self.image_shape)
        assert images.dtype == torch.uint8
        assert labels.tolist() == sorted(labels.tolist())
        assert generator.classes == [f"class{k}" for k in range(self.num_classes)]

    def test_same_seed_same_samples(self, trained) -> None:
        generator, _ = trained
        assert torch.equal(generator.sample(per_class=2, seed=5), generator.sample(per_class=2, seed=5, batch_size=1))
        assert not torch.equal(generator.sample(per_class=4, seed=5), generator.sample(per_class=4, seed=6))

    def test_save_load_round_trip(self, trained, ganaug_registry: Registry, tmp_path) -> None:
        import ganaug

        generator, run = trained
        expected = generator.sample(per_class=2, seed=1)
        generator.save(tmp_path / "saved")
        for source in (tmp_path / "saved", run):
            loaded = ganaug.load(source, registry=ganaug_registry)
            assert loaded.model == generator.model
            loaded.sources = generator.sources  # image families vary real images, which are not saved
            assert torch.equal(loaded.sample(per_class=2, seed=1), expected), f"round trip through {source}"


    def test_restoration_matches_the_conditioning(self, trained, data: ImageStore) -> None:
        """Image families restore and vary real images (known pixels kept, bad inputs named); noise
        families refuse both with a message that points to an image-to-image family."""
        from ganaug import ConfigError, DataError

        generator, _ = trained
        images, labels = data.images[:4], data.labels[:4]
        if generator.conditioning != "image":
            with pytest.raises(ConfigError, match="image-to-image family"):
                generator.restore(images, labels, masks="random")
            return
        height, width = self.image_shape[1:]
        box = torch.zeros(height, width, dtype=torch.bool)
        box[: height // 2, : width // 2] = True
        kept = generator.restore(images, labels, masks=box)
        assert torch.equal(kept[..., ~box], images[..., ~box]), "unmasked pixels must be kept"
        with pytest.raises(DataError, match="no mask marks a pixel missing"):
            generator.restore(images, labels, masks=torch.zeros(height, width, dtype=torch.bool))
        filled = generator.restore(images, labels, masks="random", seed=3)
        assert filled.shape == images.shape and filled.dtype == torch.uint8
        assert torch.equal(filled, generator.restore(images, labels, masks="random", seed=3, batch_size=1))
        varied = generator.variations(images, labels, seed=1)
        assert torch.equal(varied, generator.variations(images, labels, seed=1, batch_size=1))
        with pytest.raises(DataError, match="masks of shape"):
            generator.restore(images, labels, masks=torch.ones(3, 3))
        with pytest.raises(DataError, match="4 images but 2 labels"):
            generator.restore(images, labels[:2], masks=box)
        with pytest.raises(DataError, match="resize them"):
            generator.variations(images[:, :, :-1], labels)
