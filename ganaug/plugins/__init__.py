"""The plugin host: hook specifications, the registry built from them, and the built-in plugins.

* :mod:`ganaug.plugins.hookspecs`: the hooks, each docstring its reference;
* :mod:`ganaug.plugins.registry`: the plugin manager and the :class:`Registry` of what plugins registered;
* :mod:`ganaug.plugins.builtin`: ganaug's own generator families, classifiers and data sets, registered
  through the same hooks as third-party plugins.
"""
