"""Using a generator: synthetic samples mixed into a classifier's real training data.

* :mod:`ganaug.mix.dataset`: :class:`SyntheticMix`, the Dataset users wrap their training set in;
* :mod:`ganaug.mix.policies`: how many synthetic images of each class;
* :mod:`ganaug.mix.bank`: :class:`SyntheticBank`, the synthetic images held in shared memory and refreshed per epoch;
* :mod:`ganaug.mix.transforms`: random transforms seeded per item;
* :mod:`ganaug.mix.formats`: synthetic items in the real items' form (PIL, array, tensor);
* :mod:`ganaug.mix.sampler`: :class:`MixedBatchSampler`, an exact synthetic share per batch;
* :mod:`ganaug.mix.filters`: sample filters such as :class:`ConfidenceFilter`.
"""

from ganaug.mix.dataset import SyntheticMix
from ganaug.mix.filters import ConfidenceFilter
from ganaug.mix.sampler import MixedBatchSampler

__all__ = ["ConfidenceFilter", "MixedBatchSampler", "SyntheticMix"]
