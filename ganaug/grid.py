"""Sample grids: one row per class, written as PNG."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image


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
    array = tile(cells, per_row, padding=2, pad_value=128).permute(1, 2, 0).numpy()
    if images.shape[1] == 1:
        array = array[..., 0]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def tile(cells: torch.Tensor, per_row: int, *, padding: int, pad_value: int) -> torch.Tensor:
    """Lay equal-sized images out ``per_row`` to a row, ``padding`` pixels of ``pad_value`` around each.

    The layout of ``torchvision.utils.make_grid``, written here because importing torchvision takes
    seconds (it pulls in ``torch._dynamo``), which every training run and CLI call would pay.

    Shape:
        cells: (N, C, H, W); returns (C, rows * (H + padding) + padding, per_row * (W + padding) + padding).
    """
    count, channels, height, width = cells.shape
    rows = -(-count // per_row)
    grid = torch.full((channels, rows * (height + padding) + padding, per_row * (width + padding) + padding),
                      pad_value, dtype=cells.dtype)
    for index, cell in enumerate(cells):
        row, column = divmod(index, per_row)
        top, left = row * (height + padding) + padding, column * (width + padding) + padding
        grid[:, top:top + height, left:left + width] = cell
    return grid
