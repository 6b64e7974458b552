"""Making a generator: :func:`~ganaug.train.trainer.fit` and everything a training run needs.

* :mod:`ganaug.train.config`: :class:`TrainConfig`;
* :mod:`ganaug.train.trainer`: :func:`fit` and the one training loop;
* :mod:`ganaug.train.checkpoint`: the checkpoint schema (write, read, resume);
* :mod:`ganaug.train.distributed`: torchrun / DDP plumbing.
"""
