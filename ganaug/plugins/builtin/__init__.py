"""Built-in plugins, registered through the same hooks as third-party ones."""

DEFAULT_PLUGINS = (
    "ganaug.plugins.builtin.dcgan",
    "ganaug.plugins.builtin.cdcgan",
    "ganaug.plugins.builtin.biggan",
    "ganaug.plugins.builtin.img2img",
    "ganaug.plugins.builtin.datasets",
    "ganaug.plugins.builtin.classifiers",
)
