from ganaug.testing import GeneratorContract


class TestMLPGAN(GeneratorContract):
    generator_name = "mlp-gan"
    overrides = {"hidden": 16, "z_dim": 4}
