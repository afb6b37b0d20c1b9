"""Time and peak memory of the pairwise ranking losses on one list of N items.

Each measurement runs in a fresh Python process: it builds the inputs, reads its peak
resident memory (``ru_maxrss``), runs forward + backward, and reads it again; the
difference is the memory the loss needed at its peak. losslib and the reference formula of
``specs.py`` are measured the same way, side by side; time is the median of a few calls in
that process. The dense pairwise losses hold O(N²) pair terms (the chunked versions come
with the scale issue).

    .venv/bin/python benchmarks/pairwise_memory.py            # N = 2000
    .venv/bin/python benchmarks/pairwise_memory.py --n 4000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOSSES = ("pairwise_logistic_loss", "pairwise_hinge_loss", "soft_pairwise_loss", "lambda_rank_loss")

CHILD = r"""
import json, resource, statistics, sys, time
sys.path.insert(0, {here!r})
import torch
torch.set_num_threads(1)
import losslib
from specs import SPECS

name, which, n = {name!r}, {which!r}, {n}
spec = SPECS[name]
gen = torch.Generator().manual_seed(0)
(scores, target), kwargs = spec.make(n, gen, items=n)
scores, target = scores[:1].clone(), target[:1].clone()  # one list of n items
fn = getattr(losslib, name) if which == "losslib" else spec.reference
scores.requires_grad_(True)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times = []
for _ in range(3):
    start = time.perf_counter()
    fn(scores, target, **kwargs).backward()
    times.append(time.perf_counter() - start)
    scores.grad = None
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": statistics.median(times), "peak_mib": (after - before) / 1024}}))
"""


def measure(name: str, which: str, n: int) -> dict:
    code = CHILD.format(here=str(HERE), name=name, which=which, n=n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="items in the one list")
    args = parser.parse_args()
    pair_mib = args.n * args.n * 4 / 2**20
    print(
        f"one list of N = {args.n} items, forward + backward, 1 thread; one float32 N x N matrix = {pair_mib:.0f} MiB"
    )
    print(f"{'loss':26s} {'losslib s':>10s} {'ref s':>8s} {'ratio':>6s} {'losslib MiB':>12s} {'ref MiB':>8s}")
    for name in LOSSES:
        ours, ref = measure(name, "losslib", args.n), measure(name, "reference", args.n)
        print(
            f"{name:26s} {ours['seconds']:10.3f} {ref['seconds']:8.3f} {ours['seconds'] / ref['seconds']:6.2f} "
            f"{ours['peak_mib']:12.0f} {ref['peak_mib']:8.0f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
