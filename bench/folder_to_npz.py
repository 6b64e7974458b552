"""An image folder with train/<class>/ and test/<class>/ as one .npz (x_train y_train x_test y_test classes).

A plain PIL loop (open, convert to RGB, bicubic resize to SIZE): the benchmarks' colour tables were run
on the blood cells converted this way at 32 px, so their many processes read one file in a second.

    python bench/folder_to_npz.py ../shared/data/blood-cells 32 bench/out/blood-cells32.npz
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("size", type=int)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.out.exists():
        parser.error(f"{args.out} exists; remove it or choose another name")
    classes = sorted(p.name for p in (args.root / "train").iterdir() if p.is_dir() and not p.name.startswith("."))
    arrays = {}
    for split in ("train", "test"):
        images, labels = [], []
        for label, name in enumerate(classes):
            for path in sorted((args.root / split / name).iterdir()):
                if path.name.startswith("."):
                    continue
                with Image.open(path) as image:
                    rgb = image.convert("RGB").resize((args.size, args.size), Image.BICUBIC)
                images.append(np.asarray(rgb).transpose(2, 0, 1))
                labels.append(label)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = np.stack(images), np.array(labels, dtype=np.int64)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, classes=np.array(classes), **arrays)
    print({key: value.shape for key, value in arrays.items()})


if __name__ == "__main__":
    main()
