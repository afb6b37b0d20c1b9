"""`make bench-scale`: the losses at scale against the goals of the book's Part VIII.

Every measurement of memory runs in a fresh Python process and reports its peak resident
memory (``resource.getrusage``), for the whole process. Times are ratios taken in one run:
the best of several interleaved rounds of the contenders in one process, so that machine
load moves them together.

1. ``info_nce_loss`` (in-batch) at B = 32,768, D = 256, float32, forward + backward:
   chunked peak memory (goal <= 1 GiB) and dense peak memory (goal: > 8 GiB; run only when the
   machine has the memory); chunked time / the time of the three bare matrix products the loss
   must do (``torch.mm`` on the same shapes; goal <= 1.6).
2. The same loss at B = 4,096: chunked / dense time (goal <= 1.2), and the two designs of the
   backward pass: ``reduction="none"`` recomputes each block (four products), ``"mean"``
   accumulates the gradient during the forward sweep (three).
3. ``pairwise_logistic_loss`` and ``pairwise_hinge_loss`` on one list of N = 20,000 items:
   chunked peak memory (goal <= 1 GiB); chunked / dense time at N = 4,000 (goal <= 1.3).

Usage: ``python benchmarks/scale.py [--quick]`` (``--quick``: smaller sizes, for a smoke run).
A full run writes its figures to ``benchmarks/results/scale.json``, which the chapter
``book/scale/at-scale.md`` quotes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

WORKER = textwrap.dedent(
    """
    import json, resource, sys, time
    import torch
    import losslib

    def step(task):
        kind, n, chunk = task["kind"], task["n"], task.get("chunk")
        g = torch.Generator().manual_seed(0)
        if kind == "mm":  # the bare products of an in-batch loss: S = Q K^T, S K, S^T Q
            q, k = torch.randn(n, task["d"], generator=g), torch.randn(n, task["d"], generator=g)
            start = time.perf_counter()
            s = q @ k.T
            s @ k
            s.T @ q
            return time.perf_counter() - start
        if kind == "info_nce":
            q = torch.randn(n, task["d"], generator=g, requires_grad=True)
            k = torch.randn(n, task["d"], generator=g, requires_grad=True)
            start = time.perf_counter()
            loss = losslib.info_nce_loss(q, k, chunk_size=chunk, reduction=task.get("reduction", "mean"))
            loss.sum().backward()
            return time.perf_counter() - start
        s = torch.randn(n, generator=g, requires_grad=True)
        r = torch.randint(0, 5, (n,), generator=g)
        start = time.perf_counter()
        getattr(losslib, kind)(s, r, chunk_size=chunk).backward()
        return time.perf_counter() - start

    job = json.loads(sys.argv[1])
    if "tasks" in job:  # interleaved rounds in one process: the best time of each contender
        best = {name: float("inf") for name in job["tasks"]}
        for _ in range(job["rounds"]):
            for name, task in job["tasks"].items():
                best[name] = min(best[name], step(task))
        print(json.dumps(best))
    else:  # one run in this fresh process: its peak resident memory
        elapsed = step(job)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
        print(json.dumps({"time": elapsed, "peak_gib": peak}))
    """
)


def run(**task) -> dict:
    done = subprocess.run([sys.executable, "-c", WORKER, json.dumps(task)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.splitlines()[-1])


def available_gib() -> float:
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 0.0


def best_interleaved(tasks: dict[str, dict], rounds: int) -> dict[str, float]:
    """Best time of each task over ``rounds`` interleaved rounds in one process."""
    return run(tasks=tasks, rounds=rounds)


RESULTS: dict[str, float | int | str] = {}


def report(label: str, value: float, goal: str, key: str) -> None:
    """Print one figure against its goal and keep it for ``benchmarks/results/scale.json``."""
    RESULTS[key] = round(value, 3)
    print(f"  {label:<60} {value:8.2f}   goal {goal}")


def main(quick: bool = False) -> None:
    big, mid, n_big, n_mid = (8192, 2048, 6000, 2000) if quick else (32768, 4096, 20000, 4000)
    d, chunk = 256, 1024
    RESULTS.update(batch=big, mid_batch=mid, items=n_big, mid_items=n_mid, width=d, chunk_size=chunk)
    print(f"in-batch InfoNCE, B = {big}, D = {d}, float32, forward + backward (chunk_size = {chunk})")
    chunked = run(kind="info_nce", n=big, d=d, chunk=chunk)
    report("peak resident memory, chunked (GiB)", chunked["peak_gib"], "<= 1", "info_nce_chunked_peak_gib")
    if available_gib() > 3.2 * big**2 * 4 / 1024**3 + 1:  # the dense loss peaks near three matrices
        dense = run(kind="info_nce", n=big, d=d)
        report("peak resident memory, dense (GiB)", dense["peak_gib"], "> 8 at B = 32768", "info_nce_dense_peak_gib")
    else:
        print(f"  dense at B = {big} not run: {available_gib():.1f} GiB available")
    times = best_interleaved(
        {"chunked": dict(kind="info_nce", n=big, d=d, chunk=chunk), "mm": dict(kind="mm", n=big, d=d)}, rounds=3
    )
    ratio = times["chunked"] / times["mm"]
    report("time chunked / the three bare products (torch.mm)", ratio, "<= 1.6", "info_nce_over_mm")
    print(f"    (best of 3: chunked {times['chunked']:.2f} s, products {times['mm']:.2f} s)")

    print(f"in-batch InfoNCE, B = {mid}, D = {d}: chunked vs dense, and the two backward designs")
    times = best_interleaved(
        {
            "dense": dict(kind="info_nce", n=mid, d=d),
            "chunked": dict(kind="info_nce", n=mid, d=d, chunk=chunk),
            "recompute": dict(kind="info_nce", n=mid, d=d, chunk=chunk, reduction="none"),
            "mm": dict(kind="mm", n=mid, d=d),
        },
        rounds=5,
    )
    report("time chunked / dense", times["chunked"] / times["dense"], "<= 1.2", "info_nce_over_dense")
    ratio = times["recompute"] / times["chunked"]
    report("time recomputing backward ('none') / accumulating ('mean')", ratio, "~4/3", "recompute_over_accumulate")
    report("time chunked / the three bare products", times["chunked"] / times["mm"], "-", "info_nce_mid_over_mm")

    for name in ("pairwise_logistic_loss", "pairwise_hinge_loss"):
        print(f"{name}, one list")
        peak = run(kind=name, n=n_big, chunk=512)["peak_gib"]
        report(f"peak resident memory, N = {n_big}, chunked (GiB)", peak, "<= 1", f"{name}_chunked_peak_gib")
        times = best_interleaved(
            {
                "dense": dict(kind=name, n=n_mid),
                "chunked": dict(kind=name, n=n_mid, chunk=512),
            },
            rounds=5,
        )
        report(f"time chunked / dense, N = {n_mid}", times["chunked"] / times["dense"], "<= 1.3", f"{name}_over_dense")


def save(path: Path) -> None:
    RESULTS.update(date=time.strftime("%Y-%m-%d"), cpus=os.cpu_count(), torch=torch_version())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(RESULTS, indent=2) + "\n")
    print(f"written to {path}")


def torch_version() -> str:
    command = [sys.executable, "-c", "import torch; print(torch.__version__)"]
    return subprocess.run(command, capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    main(quick=quick)
    if not quick:  # the figures the book's chapter on losses at scale quotes
        save(Path(__file__).parent / "results" / "scale.json")
