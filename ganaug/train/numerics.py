"""Numeric helpers of the training step: gradient norms for the log, and CUDA's fast-math switches."""

from __future__ import annotations

import contextlib

import torch


def grad_norm(module: torch.nn.Module) -> torch.Tensor:
    grads = [p.grad.detach() for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads]))


@contextlib.contextmanager
def cuda_fast_math(enabled: bool):
    """TF32 matmuls and convolutions on CUDA for the duration of training; restored afterwards."""
    if not enabled:
        yield
        return
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.benchmark) = saved
