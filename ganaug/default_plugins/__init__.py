"""Built-in plugins, registered through the same hooks as third-party ones."""

DEFAULT_PLUGINS = (
    "ganaug.default_plugins.dcgan",
    "ganaug.default_plugins.cdcgan",
    "ganaug.default_plugins.datasets",
    "ganaug.default_plugins.classifiers",
)
