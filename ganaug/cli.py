"""The ``ganaug`` command line: train, sample, restore, plan, gain, demo, plugins.

Flags are a thin edge over :func:`ganaug.fit`; anything else goes in a TOML file passed with
``--config`` (top-level keys are training options, a ``[model]`` table holds the family's
options). Errors ganaug raises on purpose are printed as one message, without a traceback.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import click
import numpy as np

from ganaug._version import __version__
from ganaug.boundary import debug_requested, describe
from ganaug.cli_options import config_flags, given
from ganaug.errors import ConfigError, TrainingInterrupted
from ganaug.outputs import check_destination, check_outside_inputs
from ganaug.gain.config import GainConfig
from ganaug.planning.config import PlanConfig
from ganaug.train.config import TrainConfig
from ganaug.train.signals import stops_at_once

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class PluginCommandsGroup(click.Group):
    """The ``ganaug`` group: the error boundary around every command (plugins' too, see
    :mod:`ganaug.boundary`); plugins' ``register_commands`` run the first time commands are listed or looked up."""

    _plugins_added = False

    def invoke(self, ctx: click.Context) -> Any:
        shown = warnings.formatwarning
        warnings.formatwarning = _format_warning
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - the boundary: nothing passes it as a traceback
            if ctx.meta.get("ganaug.debug") or debug_requested():
                raise
            failure = describe(exc)
            from ganaug.progress import end_bars

            end_bars()  # a progress bar's line ends before the message
            prefix = "" if isinstance(exc, TrainingInterrupted) else "Error: "
            click.echo(prefix + failure.message, err=True)
            ctx.exit(failure.exit_code)
        finally:
            warnings.formatwarning = shown

    def _add_plugin_commands(self) -> None:
        if not self._plugins_added:
            self._plugins_added = True
            from ganaug.plugins.registry import default_registry

            default_registry().add_commands(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._add_plugin_commands()
            command = super().get_command(ctx, cmd_name)
        return command


@click.group(cls=PluginCommandsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ganaug")
@click.option("--debug", is_flag=True, help="Show the full traceback of an unexpected error (also GANAUG_DEBUG=1).")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Train conditional GANs on your labelled images and sample them per class."""
    ctx.meta["ganaug.debug"] = debug


def _format_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ARG001
    """Warnings as one line for a CLI user, without the source line that raised them."""
    return f"Warning: {message}\n"


def read_config_file(path: Path) -> dict[str, Any]:
    """Options from a TOML file: top-level keys for training, a [model] table for the family."""
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc}); fix the file (see --help for the option names)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start}); save it as UTF-8 "
                          "TOML") from None
    options = {k: v for k, v in raw.items() if k != "model" or not isinstance(v, dict)}
    model_table = raw.get("model")
    if isinstance(model_table, dict):
        options.update(model_table)
    return options


@main.command()
@click.argument("data")
@config_flags(TrainConfig, shown_defaults={"out": "runs/<model>"})
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="TOML file of options (top level: training; [model]: the family's); flags win.")
@click.option("--nproc", type=click.IntRange(min=1), default=None,
              help="Train with N processes on this machine (launches torchrun; DDP, gloo on CPU, NCCL on GPUs).")
def train(data: str, config_file: Path | None, nproc: int | None, **flags: Any) -> None:
    """Train a conditional GAN on DATA.

    DATA is a folder in ImageFolder layout (DATA/<class>/<image>), an .npz file (keys x, y or
    x_train, y_train), 'digits' (scikit-learn's bundled 8x8 digits), or module:function returning
    a torch Dataset of (image, label).
    """
    from ganaug.train.trainer import fit

    if nproc is not None and nproc > 1 and "WORLD_SIZE" not in os.environ:
        from ganaug.train.distributed import launch_torchrun

        argv = sys.argv[sys.argv.index("train"):] if "train" in sys.argv else ["train", data]
        argv = [a for i, a in enumerate(argv) if a != "--nproc" and (i == 0 or argv[i - 1] != "--nproc")
                and not a.startswith("--nproc=")]
        sys.exit(launch_torchrun(nproc, argv))
    options = read_config_file(config_file) if config_file else {}
    options.update(given(TrainConfig, flags))
    options.setdefault("model", TrainConfig.model)
    options.setdefault("out", str(Path("runs") / str(options["model"])))
    if "data" in options:
        raise ConfigError(f"{config_file}: data = {options['data']!r} is not an option; the data is the DATA "
                          f"argument ({data!r}). Remove the key from the file")
    if "registry" in options:
        raise ConfigError(f"{config_file}: registry is not an option (generator families come from installed "
                          "plugins, see `ganaug plugins`). Remove the key from the file")
    started = time.perf_counter()
    generator = fit(data, **options)
    if int(os.environ.get("RANK", "0")) != 0:
        return  # rank 0 reports for the whole job
    out = Path(options["out"])
    click.echo(f"trained {generator!r} in {time.perf_counter() - started:.0f} s")
    click.echo(f"run folder:  {out}  (log.jsonl, samples/, checkpoints/)")
    click.echo(f"generator:   {out / 'generator'}  (load with ganaug.load)")
    click.echo(f"final grid:  {out / 'samples' / 'grid_final.png'}")


@main.command()
@click.argument("run", type=click.Path(exists=True, file_okay=True, path_type=Path))
@click.option("--per-class", type=int, default=16, show_default=True, help="Images to generate per class.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="A folder (written in ImageFolder layout, PNG) or a file ending in .npz.")
@click.option("--seed", type=int, default=0, show_default=True, help="Noise seed.")
@click.option("--device", default="cpu", show_default=True, help="Device to sample on.")
@click.option("--sources", default=None, help="Image-to-image generators: the real images (with classes) to draw "
              "variations of, e.g. the training data.")
@click.option("--overwrite", is_flag=True, help="Write into an --out folder that already holds files, or replace "
              "an existing --out .npz (refused otherwise).")
def sample(run: Path, per_class: int, out_path: Path, seed: int, device: str, sources: str | None,
           overwrite: bool) -> None:
    """Sample a trained generator: RUN is a run folder, a checkpoint or a saved generator."""
    check_destination(out_path, overwrite=overwrite, inputs=[run, *([sources] if sources else [])])
    with stops_at_once("sample", f"what was written to {out_path} is incomplete"):
        _sample(run, per_class, out_path, seed, device, sources)


def _sample(run: Path, per_class: int, out_path: Path, seed: int, device: str, sources: str | None) -> None:
    from ganaug.generator import load

    generator = load(run, device=device)
    if generator.conditioning == "image":
        if sources is None:
            raise ConfigError(f"{generator.model!r} makes variations of real images: pass --sources DATA (e.g. the "
                              "training data), or use `ganaug restore`")
        from ganaug.restoration import sources_for

        generator.sources = sources_for(generator, sources)
    elif sources is not None:
        raise ConfigError(f"--sources {sources}: {generator.model!r} draws images from noise and has no use for "
                          "source images; drop --sources (it is for image-to-image families such as img2img)")
    images, labels = generator.sample(per_class=per_class, seed=seed, return_labels=True)
    written = write_samples(images, labels, generator.classes, out_path)
    click.echo(f"wrote {len(images)} images ({per_class} per class, {generator.num_classes} classes) to {written}")


@main.command("restore")
@click.argument("run", type=click.Path(exists=True, file_okay=True, path_type=Path))
@click.argument("input_data", metavar="INPUT")
@click.option("--task", type=click.Choice(["inpaint", "denoise", "enhance"]), default="inpaint", show_default=True,
              help="inpaint fills the masks; denoise and enhance redraw whole images.")
@click.option("--masks", default=None, help="For inpaint: 'random' (a random box per image), a mask image for all "
              "images, a folder with a mask image per input image under the same name (<class>/<name>.png or "
              "<name>.png), or an .npy/.npz with one mask per image in INPUT's order; white / 1 where a pixel is "
              "missing.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="A folder (written in ImageFolder layout, PNG; a folder INPUT's file names are kept) or a file "
              "ending in .npz.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the latent (and the random masks).")
@click.option("--device", default="cpu", show_default=True, help="Device to run the generator on.")
@click.option("--resize", is_flag=True, help="Bring INPUT (and mask images) to the generator's size and channels "
              "first; without it, images of another size or colour are refused.")
@click.option("--overwrite", is_flag=True, help="Write into an --out folder that already holds files, or replace "
              "an existing --out .npz (an --out inside INPUT is refused always).")
def restore_command(run: Path, input_data: str, task: str, masks: str | None, out_path: Path, seed: int,
                    device: str, resize: bool, overwrite: bool) -> None:
    """Restore damaged images with an image-to-image generator (e.g. one trained with --model img2img).

    RUN is a run folder, a checkpoint or a saved generator; INPUT holds the damaged images with their
    classes (a folder in ImageFolder layout or an .npz with x and y), named like the training data's.
    """
    from ganaug.generator import load
    from ganaug.restoration import input_files, restore

    mask_paths = [masks] if masks not in (None, "random") else []
    check_destination(out_path, overwrite=overwrite, inputs=[run, *_local_paths([input_data, *mask_paths])])
    with stops_at_once("restore", f"what was written to {out_path} is incomplete"):
        generator = load(run, device=device)
        images, labels = restore(generator, input_data, task=task, masks=masks, seed=seed, resize=resize)
        written = write_samples(images, labels, generator.classes, out_path, names=input_files(input_data))
    click.echo(f"restored {len(images)} images ({task}) to {written}")


def _local_paths(sources: list[str]) -> list[str]:
    """The sources that are paths on this machine (not 'digits' or module:function)."""
    return [source for source in sources if Path(source).exists()]


def write_samples(images, labels, classes: list[str], out_path: Path, names: list[Path] | None = None) -> Path:
    """Write uint8 images as an .npz (x as uint8 (N, C, H, W) like ``sample()``, y, classes) or as PNG files in
    ImageFolder layout (``<class>/00000.png``..., or ``names``: each image's relative path, written as .png)."""
    try:
        return _write_samples(images, labels, classes, out_path, names)
    except OSError as exc:
        raise ConfigError(f"--out {out_path}: cannot write there ({describe(exc).message})") from exc


def _write_samples(images, labels, classes: list[str], out_path: Path, names: list[Path] | None) -> Path:
    if out_path.suffix.lower() == ".npz":  # x as sample() returns it: uint8 (N, C, H, W)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out_path, x=images.numpy(), y=labels.numpy(), classes=np.array(classes))
        return out_path
    array = images.permute(0, 2, 3, 1).numpy()
    if array.shape[-1] == 1:
        array = array[..., 0]
    from PIL import Image

    if names is not None:
        pngs = [name.with_suffix(".png") for name in names]
        if len(set(pngs)) < len(pngs):  # a.jpg and a.png side by side: keep both suffixes
            pngs = [name.with_name(name.name + ".png") for name in names]
    counters: dict[int, int] = {}
    for position, (image, label) in enumerate(zip(array, labels.tolist())):
        if names is not None:
            target = out_path / pngs[position]
        else:
            index = counters.get(label, 0)
            counters[label] = index + 1
            target = out_path / _safe_folder_name(classes[label]) / f"{index:05d}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(target)
    return out_path


def _safe_folder_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_. " else "_" for c in name).strip(" .")
    return cleaned or "class"


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("ganaug-demo"),
              show_default=True, help="Where to write the run.")
@click.option("--steps", type=int, default=1500, show_default=True, help="Training steps.")
@click.option("--device", default="auto", show_default=True)
@click.option("--gain-seeds", type=int, default=3, show_default=True, help="Seeds of the closing gain table (0: skip).")
@click.option("--gain-steps", type=int, default=300, show_default=True, help="Classifier steps per arm in the gain table.")
@click.option("--restore-steps", type=int, default=600, show_default=True,
              help="img2img training steps for the restoration and variations figures (0: skip).")
def demo(out: Path, steps: int, device: str, gain_seeds: int, gain_steps: int, restore_steps: int) -> None:
    """Train cdcgan on the bundled 8x8 digits, report its quality, and measure its gain (a few minutes on a CPU)."""
    from ganaug.demo import run_demo

    run_demo(out, steps=steps, device=device, gain_seeds=gain_seeds, gain_steps=gain_steps,
             restore_steps=restore_steps, echo=click.echo)


@main.command()
@click.argument("train_data", metavar="TRAIN")
@click.option("--test", "test_data", default=None, help="Test data (default: a stratified split of TRAIN).")
@click.option("--generator", "generator_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="A trained generator (run folder or saved generator).")
@config_flags(GainConfig)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("gain"), show_default=True,
              help="Folder for gain.json, gain.md and the plots (one that already holds files is refused).")
@click.option("--overwrite", is_flag=True, help="Write into an --out folder that already holds files (a previous "
              "report's files are replaced).")
def gain(train_data: str, test_data: str | None, generator_path: Path | None, out: Path, overwrite: bool,
         **flags: Any) -> None:
    """Measure a classifier's gain from synthetic data against real data and classic augmentation."""
    from ganaug.gain import evaluate_gain
    from ganaug.generator import load

    inputs = [*_local_paths([train_data, *([test_data] if test_data else [])]), *([generator_path] if generator_path else [])]
    check_destination(out, overwrite=overwrite, inputs=inputs, allow_array=False)
    with stops_at_once("gain", f"no report was written to {out} (it is written at the end)"):
        generator = load(generator_path) if generator_path is not None else None
        report = evaluate_gain(train_data, test_data, generator=generator, out=out, overwrite=overwrite,
                               **given(GainConfig, flags))
    click.echo(report.to_markdown())
    for line in report.verdict():
        click.echo(line)
    click.echo(f"\nwrote {out / 'gain.json'}, {out / 'gain.md'}, {out / 'gain_vs_ratio.png'}, "
               f"{out / 'per_class_recall.png'} ({report.seconds:.0f} s)")


@main.command("plan")
@click.argument("data")
@click.option("--generator", "generator_path", type=click.Path(exists=True, path_type=Path), required=True,
              help="The generator trained on DATA (run folder or saved generator).")
@config_flags(PlanConfig)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("recipe.json"),
              show_default=True, help="Where to write the recipe (an existing file is never replaced).")
def plan_command(data: str, generator_path: Path, out: Path, **flags: Any) -> None:
    """Choose a synthetic mix for DATA by cross-validation on it, and write it as a recipe.

    Use the recipe with SyntheticMix.from_recipe(train_set, generator, "recipe.json").
    """
    from ganaug.planning.planner import plan

    if out.exists():
        raise ConfigError(f"{out} exists; ganaug does not overwrite files: pass another --out, or move it away")
    check_outside_inputs(out, [*_local_paths([data]), generator_path])
    with stops_at_once("plan", f"no recipe was written to {out}"):
        recipe = plan(data, generator_path, echo=click.echo, **given(PlanConfig, flags))
    click.echo(recipe.summary())
    recipe.save(out)
    click.echo(f"wrote {out}")


@main.command("new-plugin")
@click.argument("name")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Folder to write the package ganaug-NAME/ in.")
def new_plugin(name: str, out: Path) -> None:
    """Write a plugin package for a new generator family NAME: it installs and passes the contract as it is."""
    from ganaug.plugins.starter import write_starter

    root = write_starter(name, out)
    click.echo(f"wrote {root}: pip install -e {root}, then pytest -q {root / 'tests'}; "
               "see docs/writing-a-plugin.md to make it yours")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def plugins(as_json: bool) -> None:
    """List plugins: distribution, version, hooks, what each registered (generators with their description and
    aliases), and any that failed or were disabled."""
    import dataclasses
    import json

    from ganaug.plugins.registry import default_registry

    registry = default_registry()
    main._add_plugin_commands()  # so the listing shows the commands plugins add
    loaded = [dataclasses.asdict(info) for info in registry.plugins.values()]
    generators = {name: {"owner": entry.owner, "description": entry.description, "aliases": list(entry.aliases)}
                  for name, entry in sorted(registry.generators.items())}
    failed = [dataclasses.asdict(failure) for failure in registry.failures]
    disabled = [dataclasses.asdict(info) for info in registry.disabled]
    if as_json:
        click.echo(json.dumps({"plugins": loaded, "generators": generators, "failed": failed, "disabled": disabled},
                              indent=2))
        return
    for info in loaded:
        registered = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in sorted(info["registered"].items())
                               if kind != "generators")
        click.echo(f"{info['name']}  ({info['distribution']} {info['version']})")
        click.echo(f"    hooks: {', '.join(info['hooks']) or '-'}")
        for name in info["registered"].get("generators", []):
            entry = generators[name]
            aliases = f" (aliases: {', '.join(entry['aliases'])})" if entry["aliases"] else ""
            click.echo(f"    generator {name}{aliases}: {entry['description'] or '-'}")
        if registered:
            click.echo(f"    registered: {registered}")
    for failure in failed:
        click.echo(f"FAILED {failure['name']}  ({failure['distribution']} {failure['version']}): {failure['error']}")
    for info in disabled:
        click.echo(f"DISABLED {info['name']}  ({info['distribution']} {info['version']}): {info['error']}")


if __name__ == "__main__":  # pragma: no cover
    main()
