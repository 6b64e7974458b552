"""The installed version of ganaug."""

__version__ = "0.1.0"
