"""Restoration with an image-to-image generator: `ganaug restore`, `ganaug.restore`, and its bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganaug
from ganaug.cli import main
from ganaug.restoration import restore
from ganaug.testing import make_tiny_data


@pytest.fixture(scope="module")
def data():
    return make_tiny_data((1, 8, 8), num_classes=3, per_class=10)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("img2img-run")
    ganaug.fit(data, "test_img2img", steps=3, batch_size=8, out=out, progress=False)
    return out


@pytest.fixture
def damaged(data, tmp_path):
    path = tmp_path / "damaged.npz"
    np.savez(path, x=data.images[:6, 0].numpy(), y=data.labels[:6].numpy())
    return path


def test_cli_inpaints_only_the_masked_pixels(run, data, damaged, tmp_path):
    masks = np.zeros((6, 8, 8), dtype=np.uint8)
    masks[:, 2:6, 3:7] = 1
    np.save(tmp_path / "masks.npy", masks)
    result = CliRunner().invoke(main, ["restore", str(run), str(damaged), "--masks", str(tmp_path / "masks.npy"),
                                       "--out", str(tmp_path / "restored.npz")])
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "restored.npz") as restored:
        x, y = restored["x"][:, 0], restored["y"]
    assert x.shape == (6, 8, 8) and y.tolist() == data.labels[:6].tolist()
    outside = masks == 0
    assert np.array_equal(x[outside], data.images[:6, 0].numpy()[outside])
    assert not np.array_equal(x[~outside], data.images[:6, 0].numpy()[~outside])  # the masked pixels were drawn


def test_python_restore_of_a_folder_with_some_classes_and_one_mask_image(run, data, tmp_path):
    folder = tmp_path / "input" / data.classes[2]
    folder.mkdir(parents=True)
    for i, image in enumerate(data.images[data.labels == 2][:3]):
        Image.fromarray(image[0].numpy()).save(folder / f"{i}.png")
    mask = np.zeros((8, 8), dtype=np.uint8)
    mask[:4] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    images, labels = restore(run, tmp_path / "input", masks=tmp_path / "mask.png")
    assert images.shape == (3, 1, 8, 8) and labels.tolist() == [2, 2, 2]  # matched by class name
    assert torch.equal(images[:, :, 4:], data.images[data.labels == 2][:3][:, :, 4:])


@pytest.mark.parametrize("task", ["denoise", "enhance"])
def test_denoise_and_enhance_redraw_the_image(run, damaged, data, task):
    images, _ = restore(run, damaged, task=task)
    assert images.shape == (6, 1, 8, 8) and images.dtype == torch.uint8
    assert (images != data.images[:6]).double().mean() > 0.5  # most pixels redrawn, not handed back
    assert torch.equal(restore(run, damaged, task=task)[0], images)  # the same seed, the same images


def test_bad_inputs_are_named(run, damaged, tmp_path, data):
    runner = CliRunner()
    cases = [
        (["--masks", str(tmp_path / "missing.png")], "missing.png does not exist"),
        ([], "needs masks="),
        (["--task", "denoise", "--masks", "random"], "masks are for task='inpaint'"),
    ]
    np.save(tmp_path / "wrong.npy", np.zeros((6, 4, 4), dtype=np.uint8))
    cases.append((["--masks", str(tmp_path / "wrong.npy")], r"masks of shape \(6, 4, 4\) do not match 6 images of 8x8"))
    for extra, message in cases:
        result = runner.invoke(main, ["restore", str(run), str(damaged), "--out", str(tmp_path / "o.npz"), *extra], catch_exceptions=False)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert __import__("re").search(message, result.output), (extra, result.output)
    other = tmp_path / "other" / "zebra"
    other.mkdir(parents=True)
    Image.fromarray(data.images[0, 0].numpy()).save(other / "0.png")
    with pytest.raises(ganaug.DataError, match="'zebra' of the input are not among the generator's classes"):
        restore(run, tmp_path / "other", masks="random")


def test_a_noise_family_asked_to_restore_says_which_family_can(data, damaged, tmp_path):
    ganaug.fit(data, "test_cdcgan", steps=1, batch_size=8, out=tmp_path / "noise", progress=False)
    result = CliRunner().invoke(main, ["restore", str(tmp_path / "noise"), str(damaged), "--masks", "random",
                                       "--out", str(tmp_path / "o.npz")], catch_exceptions=False)
    assert result.exit_code == 1 and "image-to-image family" in result.output and "img2img" in result.output


def test_sample_of_an_image_family_needs_sources(run, tmp_path, data):
    result = CliRunner().invoke(main, ["sample", str(run), "--out", str(tmp_path / "s.npz")], catch_exceptions=False)
    assert result.exit_code == 1 and "--sources" in result.output
    np.savez(tmp_path / "src.npz", x=data.images[:, 0].numpy(), y=data.labels.numpy())
    result = CliRunner().invoke(main, ["sample", str(run), "--out", str(tmp_path / "s.npz"), "--per-class", "2",
                                       "--sources", str(tmp_path / "src.npz")])
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "s.npz") as sampled:
        assert sampled["y"].tolist() == [0, 0, 1, 1, 2, 2]


def _input_folder(data, root):
    """Two classes of the tiny data as PNG files, 16x16 (twice the generator's size: restored with resize)."""
    for label in (0, 2):
        folder = root / data.classes[label]
        folder.mkdir(parents=True)
        for i, image in enumerate(data.images[data.labels == label][:2]):
            Image.fromarray(image[0].numpy()).resize((16, 16), Image.Resampling.NEAREST).save(folder / f"scan{i}.png")
    return root


def test_a_mask_folder_pairs_masks_with_images_by_name_and_the_output_keeps_the_names(run, data, tmp_path):
    source = _input_folder(data, tmp_path / "input")
    masks = tmp_path / "masks"
    for relative, rows in ((f"{data.classes[0]}/scan0", 0), (f"{data.classes[0]}/scan1", 8),
                           (f"{data.classes[2]}/scan0", 0), ("scan1", 8)):  # scan1 of class 2: the flat fallback
        mask = np.zeros((16, 16), dtype=np.uint8)
        mask[rows:rows + 8] = 255  # the top or the bottom half, at the input's size
        (masks / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(mask).save(masks / f"{relative}.png")
    result = CliRunner().invoke(main, ["restore", str(run), str(source), "--masks", str(masks),
                                       "--out", str(tmp_path / "out"), "--resize"])
    assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.png"))
    assert written == sorted(str(p.relative_to(source)) for p in source.rglob("*.png"))
    read = ganaug.load_data(source, image_size=8).images[:, 0].numpy()  # as restore reads them, in file order
    for index, relative, kept in ((0, f"{data.classes[0]}/scan0.png", slice(4, 8)),
                                  (1, f"{data.classes[0]}/scan1.png", slice(0, 4)),
                                  (3, f"{data.classes[2]}/scan1.png", slice(0, 4))):
        restored = np.asarray(Image.open(tmp_path / "out" / relative))
        assert np.array_equal(restored[kept], read[index][kept]), relative  # the unmasked half is untouched


def test_a_mask_folder_with_a_missing_mask_or_for_an_npz_is_refused_by_name(run, data, damaged, tmp_path):
    source = _input_folder(data, tmp_path / "input")
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(np.zeros((16, 16), dtype=np.uint8)).save(masks / "scan0.png")
    with pytest.raises(ganaug.DataError, match=r"no mask for 2 of the 4 input images, first: .*scan1\.png"):
        restore(run, source, masks=masks, resize=True)
    with pytest.raises(ganaug.DataError, match="INPUT must be a folder too"):
        restore(run, damaged, masks=masks, resize=True)


class PrivateImg2ImgPlugin:
    @ganaug.hookimpl
    def register_generators(self, register):
        from ganaug.plugins.builtin.img2img import Img2Img

        register("private_img2img", Img2Img, defaults={"z_dim": 2, "g_channels": 8, "d_channels": 8})


def test_restore_looks_a_saved_family_up_in_the_registry_it_is_given(data, damaged, tmp_path):
    from ganaug.errors import CheckpointError
    from ganaug.plugins.registry import build_registry

    registry = build_registry(entry_points=False, extra_plugins=(("private", PrivateImg2ImgPlugin()),))
    ganaug.fit(data, "private_img2img", steps=2, batch_size=8, out=tmp_path / "run", progress=False, registry=registry)
    images, labels = restore(tmp_path / "run", damaged, task="denoise", registry=registry)
    assert images.shape == (6, 1, 8, 8) and labels.tolist() == data.labels[:6].tolist()
    with pytest.raises(CheckpointError, match="family 'private_img2img', which is not installed"):
        restore(tmp_path / "run", damaged, task="denoise")
