"""Every built-in generator passes the same contract that plugin authors use (ganaug.testing)."""

from ganaug.testing import GeneratorContract


class TestTinyCDCGAN(GeneratorContract):
    generator_name = "test_cdcgan"


class TestCDCGANRGB(GeneratorContract):
    generator_name = "cdcgan"
    overrides = {"g_channels": 8, "d_channels": 8, "z_dim": 8}
    image_shape = (3, 16, 16)


class TestDCGAN(GeneratorContract):
    generator_name = "dcgan"


class TestTinyImg2Img(GeneratorContract):
    generator_name = "test_img2img"


class TestImg2ImgRGB(GeneratorContract):
    generator_name = "img2img"
    overrides = {"g_channels": 8, "d_channels": 8, "z_dim": 2}
    image_shape = (3, 12, 12)


class TestTinyBigGAN(GeneratorContract):
    generator_name = "test_biggan"
    image_shape = (3, 16, 16)


class TestBigGANGreyAttention(GeneratorContract):
    generator_name = "biggan"
    overrides = {"g_channels": 4, "d_channels": 4, "z_dim": 4, "shared_dim": 4, "attention": 8}
    image_shape = (1, 16, 20)
