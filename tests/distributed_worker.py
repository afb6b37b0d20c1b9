"""One rank of the gather test (tests/test_distributed.py), started by ``torch.distributed.run``.

Each rank holds its half of a batch and a replica of a small float64 encoder under
DistributedDataParallel (gloo, localhost). For every in-batch loss with ``gather=True``, with
and without ``chunk_size``, the rank computes the DDP parameter gradients (averaged over the
ranks) and, in the same process, the gradients of one plain encoder on the whole batch; it
writes the largest relative difference per case to ``<out>/rank<r>.json``. It does it twice:
with losslib's gather, and with the candidates gathered without gradient (``dist.all_gather``),
the bug the test must be able to detect.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import losslib
from losslib import _blockwise

B, D_IN, D = 6, 5, 4  # local batch, input and embedding widths


def gather_without_grad(x: torch.Tensor, world: int) -> torch.Tensor:
    """The common bug: every rank's rows, but the gathered copy carries no gradient."""
    if world == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(world)]
    dist.all_gather(parts, x.detach().contiguous())
    return torch.cat(parts)


def batches(generator: torch.Generator, world: int) -> dict[str, torch.Tensor]:
    """The whole batch (world · B rows), identical on every rank."""
    n = world * B
    return {
        "x1": torch.randn(n, D_IN, generator=generator, dtype=torch.float64),
        "x2": torch.randn(n, D_IN, generator=generator, dtype=torch.float64),
        "hard": torch.randn(n, D_IN, generator=generator, dtype=torch.float64),
        "labels": torch.randint(0, 3, (n,), generator=generator),
    }


def loss_of(name: str, encoder, data: dict[str, torch.Tensor], **scale) -> torch.Tensor:
    """The loss ``name`` of the encoder's embeddings of ``data`` (a whole or a local batch)."""
    e1, e2, hard = encoder(torch.cat([data["x1"], data["x2"], data["hard"]])).chunk(3)  # one DDP forward
    if name == "info_nce_loss":
        return losslib.info_nce_loss(e1, e2, temperature=0.5, **scale)
    if name == "nt_xent_loss":
        return losslib.nt_xent_loss(e1, e2, temperature=0.5, **scale)
    if name == "multiple_negatives_ranking_loss":
        return losslib.multiple_negatives_ranking_loss(e1, e2, hard_negatives=hard, scale=5.0, **scale)
    if name == "supervised_contrastive_loss":
        return losslib.supervised_contrastive_loss(e1, data["labels"], temperature=0.5, **scale)
    if name == "clip_loss":
        return losslib.clip_loss(e1, e2, temperature=0.5, **scale)
    if name == "siglip_loss":
        return losslib.siglip_loss(e1, e2, scale=3.0, bias=-1.0, **scale)
    raise KeyError(name)


NAMES = (
    "info_nce_loss",
    "nt_xent_loss",
    "multiple_negatives_ranking_loss",
    "supervised_contrastive_loss",
    "clip_loss",
    "siglip_loss",
)


def gradient_differences(base, data, local) -> dict[str, float]:
    """Per loss and chunk size: max |DDP gradient - single-process gradient| / max |single|."""
    results = {}
    for name in NAMES:
        for chunk_size in (None, 4):
            single = copy.deepcopy(base)
            loss_of(name, single, data, chunk_size=chunk_size).backward()
            replica = DistributedDataParallel(copy.deepcopy(base))
            loss_of(name, replica, local, chunk_size=chunk_size, gather=True).backward()
            results[f"{name}/chunk={chunk_size}"] = max(
                float((a.grad - b.grad).abs().max() / b.grad.abs().max())
                for a, b in zip(replica.parameters(), single.parameters(), strict=True)
            )
    return results


def main() -> None:
    out = Path(sys.argv[1])
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    base = torch.nn.Linear(D_IN, D).double()
    data = batches(torch.Generator().manual_seed(1), world)
    local = {key: value[rank * B : (rank + 1) * B] for key, value in data.items()}
    report = {"world": world, "with_grad": gradient_differences(base, data, local)}
    losslib_gather, _blockwise.gather_with_grad = _blockwise.gather_with_grad, gather_without_grad
    try:
        report["without_grad"] = gradient_differences(base, data, local)
    finally:
        _blockwise.gather_with_grad = losslib_gather
    (out / f"rank{rank}.json").write_text(json.dumps(report))
    dist.destroy_process_group()


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
