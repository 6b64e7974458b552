"""Experiment: does recomputing the EMA generator's batch-norm statistics (standing statistics, Brock et al. 2019)
change the per-class fidelity / oracle recognition of a trained cdcgan's samples? Post hoc, no retraining.

Run: ``python bench/standing_stats.py ../shared/data/mnist.npz GENERATORS SETTING SEED``, GENERATORS holding the
``seed<N>`` generators of ``bench/rare_classes.py --train-only`` (``none``: only train the oracle). Prints the
per-class fidelity (the run's judge) and oracle recognition of 1000 samples per class, as trained and with
the batch-norm statistics recomputed over 50 batches of 64 samples."""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import ganaug
from ganaug.gain.config import GainConfig
from ganaug.gain.protocol import seed_subset
from ganaug.metrics.fidelity import FidelityJudge

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_mnist import predict, recognised_per_class, train_judge  # noqa: E402
from rare_classes import SETTINGS  # noqa: E402

ORACLE_PATH = Path("bench/out/oracle_cnn.pt")
"""The oracle CNN, trained once (2 epochs on the 60k training images) and reused by later runs."""


def load_oracle(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor) -> nn.Module:
    """The cached oracle, or a new one trained on the full training set (its test accuracy printed)."""
    if ORACLE_PATH.exists():
        return torch.load(ORACLE_PATH, weights_only=False)
    started = time.time()
    oracle = train_judge(x_train, y_train, 2, seed=0)
    ORACLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    torch.save(oracle, ORACLE_PATH)
    accuracy = float((predict(oracle, x_test) == y_test).double().mean())
    print(f"oracle trained in {time.time() - started:.0f} s, test accuracy {accuracy:.4f}", flush=True)
    return oracle


def with_standing_statistics(generator: ganaug.TrainedGenerator, batches: int = 50,
                             batch_size: int = 64) -> ganaug.TrainedGenerator:
    """A copy of ``generator`` whose batch-norm statistics are averaged over ``batches`` of its own samples."""
    generator = copy.deepcopy(generator)
    net = generator.network
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a plain average over the batches, not a running one
    net.train()
    rng = torch.Generator().manual_seed(999)
    with torch.no_grad():
        for _ in range(batches):
            labels = torch.randint(0, generator.num_classes, (batch_size,), generator=rng)
            net(generator.gan.sample_noise(batch_size, device="cpu", generator=rng), labels)
    net.eval()
    return generator


def score(tag: str, generator: ganaug.TrainedGenerator, judge: FidelityJudge, oracle: nn.Module) -> None:
    """Print the judge's fidelity and the oracle's recognition of 1000 samples per class, one JSON line."""
    fake, labels = generator.sample(per_class=1000, seed=123, return_labels=True)
    fidelity = judge.judge(fake, labels).fidelity
    recognised = recognised_per_class(oracle, fake, labels, generator.num_classes)
    print(json.dumps({"tag": tag, "fidelity": np.round(fidelity, 3).tolist(), "oracle": np.round(recognised, 3).tolist(),
                      "fid_mean": round(float(np.nanmean(fidelity)), 4),
                      "oracle_mean": round(float(np.mean(recognised)), 4)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path, help="mnist.npz with x_train, y_train, x_test, y_test")
    parser.add_argument("generators", type=Path, help="folder of seed<N> generators, or 'none' (train the oracle only)")
    parser.add_argument("setting", choices=sorted(SETTINGS), help="the rare-classes setting they were trained on")
    parser.add_argument("seed", type=int)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with np.load(args.mnist) as archive:
        x_train, y_train = torch.from_numpy(archive["x_train"][:, None]), torch.from_numpy(archive["y_train"]).long()
        x_test, y_test = torch.from_numpy(archive["x_test"][:, None]), torch.from_numpy(archive["y_test"]).long()
    oracle = load_oracle(x_train, y_train, x_test, y_test)
    if args.generators.name == "none":
        return
    train = ganaug.load_data((x_train.squeeze(1).numpy(), y_train.numpy()))
    config = GainConfig(seed=args.seed, **SETTINGS[args.setting])
    store = train.subset(seed_subset(train, config, args.seed))
    print("counts", store.class_counts())
    judge = FidelityJudge(store.images, store.labels, store.classes, seed=args.seed)
    generator = ganaug.load(args.generators / f"seed{args.seed}")
    score("as_trained", generator, judge, oracle)
    score("standing_50x64", with_standing_statistics(generator), judge, oracle)


if __name__ == "__main__":
    main()
