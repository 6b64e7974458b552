"""Sample grids: the layout is torchvision's make_grid, without importing torchvision."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.utils import make_grid

from ganaug.grid import save_class_grid, tile


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("count, per_row", [(12, 4), (10, 4), (2, 1)])
def test_tile_lays_out_cells_as_make_grid_does(channels, count, per_row):
    cells = torch.randint(0, 256, (count, channels, 5, 7), dtype=torch.uint8)
    expected = make_grid(cells, nrow=per_row, padding=2, pad_value=128)[:channels]  # it makes 1 channel 3
    assert torch.equal(tile(cells, per_row, padding=2, pad_value=128), expected)


def test_a_class_grid_has_a_row_per_class_and_enlarged_cells(tmp_path):
    images = torch.stack([torch.full((1, 8, 8), 40 * k, dtype=torch.uint8) for k in range(3) for _ in range(2)])
    array = np.asarray(Image.open(save_class_grid(images, 3, tmp_path / "grid.png")))
    assert array.shape == (3 * 34 + 2, 2 * 34 + 2)  # 8x8 cells enlarged 4x to 32, 2 pixels of padding
    assert array[2 + 34 * 2 + 5, 2 + 34 + 5] == 80 and array[0, 0] == 128


def test_importing_ganaug_does_not_import_torchvision():
    # torchvision pulls in torch._dynamo: seconds on every CLI call and training run
    code = "import sys, ganaug, ganaug.cli; print('torchvision' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
