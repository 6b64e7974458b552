"""Built-in named data sources: ``digits``, scikit-learn's bundled 8x8 digits (nothing downloaded)."""

from __future__ import annotations

from ganaug.plugins.hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    from ganaug.data import load_digits

    register("digits", load_digits, description="scikit-learn's bundled 8x8 handwritten digits, 1797 images, 10 classes")
