"""Sample grids: one row per class, written as PNG."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.utils import make_grid


def save_class_grid(images: torch.Tensor, num_classes: int, path: Path, *, min_cell: int = 32) -> Path:
    """Write uint8 images ordered class by class (same count per class) as a grid, a row per class.

    Small images are enlarged (nearest neighbour) so each cell is at least ``min_cell`` pixels.

    Shape:
        images: (K * n, C, H, W) uint8, the n images of class 0 first.
    """
    per_row = len(images) // num_classes
    scale = max(1, -(-min_cell // min(images.shape[-2:])))
    cells = images.cpu()
    if scale > 1:
        cells = F.interpolate(cells.float(), scale_factor=scale, mode="nearest").to(torch.uint8)
    grid = make_grid(cells, nrow=per_row, padding=2, pad_value=128)
    array = grid.permute(1, 2, 0).numpy()
    if images.shape[1] == 1:
        array = array[..., 0]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path
