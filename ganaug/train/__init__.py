"""Making a generator: :func:`~ganaug.train.trainer.fit` and everything a training run needs.

* :mod:`ganaug.train.config`: :class:`TrainConfig`;
* :mod:`ganaug.train.trainer`: :func:`fit` and the loop that reads like the algorithm;
* :mod:`ganaug.train.batches`: which real images go into each batch;
* :mod:`ganaug.train.resume`: what a checkpoint decides on resume, and restoring the state;
* :mod:`ganaug.train.state`: what training changes, and the snapshot a divergence rolls back to;
* :mod:`ganaug.train.monitor`: log records, grids, diversity and the collapse warning;
* :mod:`ganaug.train.wrapping`: DDP and ``torch.compile`` around G and D;
* :mod:`ganaug.train.signals`: SIGINT/SIGTERM, a checkpoint and a clean stop;
* :mod:`ganaug.train.distributed`: torchrun / DDP plumbing.

The run folder's layout and the checkpoint schema live in :mod:`ganaug.runs`, which ``ganaug.load`` reads too.
"""
