"""Experiment: does recomputing the EMA generator's batch-norm statistics (standing statistics, Brock et al. 2019)
change the per-class fidelity / oracle recognition of a trained cdcgan's samples? Post hoc, no retraining.

Run: ``python bench/standing_stats.py ../shared/data/mnist.npz GENERATORS SETTING SEED``, GENERATORS holding the
``seed<N>`` generators of ``bench/rare_classes.py --train-only`` (``none``: only train the oracle). Prints the
per-class fidelity (the run's judge) and oracle recognition of 1000 samples per class, as trained and with
the batch-norm statistics recomputed over 50 batches of 64 samples."""
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
sys.path.insert(0, str(Path(__file__).resolve().parent))
import ganaug
from ganaug.gain.config import GainConfig
from ganaug.gain.protocol import seed_subset
from ganaug.metrics.fidelity import FidelityJudge
from quality_mnist import predict, train_judge
from rare_classes import SETTINGS

torch.set_num_threads(1)
mnist, gen_dir, setting, seed = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with np.load(mnist) as a:
    xtr, ytr = torch.from_numpy(a["x_train"][:, None]), torch.from_numpy(a["y_train"]).long()
    xte, yte = torch.from_numpy(a["x_test"][:, None]), torch.from_numpy(a["y_test"]).long()
oracle_path = Path("bench/out/oracle_cnn.pt")  # trained once (2 epochs on the 60k images), then reused
oracle_path.parent.mkdir(parents=True, exist_ok=True)
if oracle_path.exists():
    oracle = torch.load(oracle_path, weights_only=False)
else:
    started = time.time()
    oracle = train_judge(xtr, ytr, 2, seed=0)
    torch.save(oracle, oracle_path)
    print(f"oracle trained {time.time() - started:.0f}s acc {float((predict(oracle, xte) == yte).double().mean()):.4f}", flush=True)
if gen_dir.name == "none":
    sys.exit()
train = ganaug.load_data((xtr.squeeze(1).numpy(), ytr.numpy()))
config = GainConfig(seed=seed, **SETTINGS[setting])
store = train.subset(seed_subset(train, config, seed))
print("counts", store.class_counts())
judge = FidelityJudge(store.images, store.labels, store.classes, seed=seed)
gen = ganaug.load(gen_dir / f"seed{seed}")
K = gen.num_classes

def score(tag, g):
    fake, labels = g.sample(per_class=1000, seed=123, return_labels=True)
    rep = judge.judge(fake, labels)
    hits = predict(oracle, fake) == labels
    orc = [float(hits[labels == k].double().mean()) for k in range(K)]
    print(json.dumps({"tag": tag, "fidelity": np.round(rep.fidelity, 3).tolist(), "oracle": np.round(orc, 3).tolist(),
                      "fid_mean": round(float(np.nanmean(rep.fidelity)), 4), "oracle_mean": round(float(np.mean(orc)), 4)}), flush=True)



def with_standing_statistics(generator, batches=50, batch_size=64):
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
            labels = torch.randint(0, K, (batch_size,), generator=rng)
            net(generator.gan.sample_noise(batch_size, device="cpu", generator=rng), labels)
    net.eval()
    return generator


score("as_trained", gen)
score("standing_50x64", with_standing_statistics(gen))
