"""What a training run leaves on disk, shared by the trainer (which writes it) and ``ganaug.load`` (which reads it).

* :mod:`ganaug.runs.folder`: :class:`RunFolder`, every path of a run folder;
* :mod:`ganaug.runs.checkpoint`: the checkpoint schema (write, read, resume).
"""
