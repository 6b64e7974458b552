"""Labelled images in, one uint8 :class:`ImageStore` out.

* :mod:`ganaug.data.store`: the :class:`ImageStore` and its invariants;
* :mod:`ganaug.data.sources`: :func:`load_data`, one adapter per kind of source;
* :mod:`ganaug.data.pixels`: conversions of one image or a batch to uint8 (C, H, W);
* :mod:`ganaug.data.resize`: the resize rules of ``image_size=`` (crop, squash, pad);
* :mod:`ganaug.data.folders`, :mod:`ganaug.data.decode`, :mod:`ganaug.data.folder_cache`: image folders
  walked safely, decoded on several threads, kept in a checked decoded cache;
* :mod:`ganaug.data.memory`: will it fit? (checked before loading);
* :mod:`ganaug.data.labels`: reading a dataset's labels, and a class-balanced sampler over them.
"""

from ganaug.data.labels import class_balanced_sampler
from ganaug.data.sources import DataSource, load_data, load_digits
from ganaug.data.store import ImageStore, validate_store

__all__ = ["DataSource", "ImageStore", "class_balanced_sampler", "load_data", "load_digits", "validate_store"]
