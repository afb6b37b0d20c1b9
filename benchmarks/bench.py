"""Time forward + backward of every catalogue loss against its reference implementation.

For each loss and each size (about 1e3, 1e4, 1e5 and 1e6 input elements) the two
implementations are timed in interleaved repeats within one run (A B B A A B ...), so both
see the same machine noise; the script prints the median ratio losslib / reference, with the
value checks on (the default) and off (``losslib.value_checks(False)``).
Ratios, not absolute times: machines are noisy.

    make bench                               # everything
    .venv/bin/python benchmarks/bench.py focal_loss cross_entropy --repeats 5
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from specs import SPECS, Spec  # noqa: E402

import losslib  # noqa: E402

SIZES = (10**3, 10**4, 10**5, 10**6)


def _with_grad(args: tuple, grad_args: tuple[int, ...]) -> list:
    return [a.detach().clone().requires_grad_(True) if i in grad_args else a for i, a in enumerate(args)]


def _step(fn, args, kwargs, grad_args) -> None:
    loss = fn(*args, **kwargs)
    if loss.requires_grad:  # targets (returns, advantages) carry no gradient: forward only
        loss.backward()
    for i in grad_args:
        args[i].grad = None


def _time(fn, args, kwargs, grad_args, min_seconds: float = 0.005) -> float:
    """Seconds per forward + backward call, looping until min_seconds have passed."""
    calls, start = 0, time.perf_counter()
    while True:
        _step(fn, args, kwargs, grad_args)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and calls >= 3:
            return elapsed / calls


def ratio(name: str, spec: Spec, n: int, repeats: int, checks: bool) -> float:
    gen = torch.Generator().manual_seed(n)
    args, kwargs = spec.make(n, gen)
    ours = getattr(losslib, name)
    a = _with_grad(args, spec.grad_args)
    b = _with_grad(args, spec.grad_args)
    ratios = []
    with losslib.value_checks(checks):
        for fn, xs in ((ours, a), (spec.reference, b)):  # warm-up
            _step(fn, xs, kwargs, spec.grad_args)
        for r in range(repeats):
            order = [(ours, a), (spec.reference, b)]
            if r % 2:
                order.reverse()
            times = {id(fn): _time(fn, xs, kwargs, spec.grad_args) for fn, xs in order}
            ratios.append(times[id(ours)] / times[id(spec.reference)])
    return statistics.median(ratios)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="losses to time (default: the whole catalogue)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: least noisy)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")

    entries = [e for e in losslib.catalogue() if not args.names or e.name in args.names]
    missing = [e.name for e in entries if e.name not in SPECS]
    header = f"{'loss':34s} {'reference':24s} " + " ".join(f"{f'1e{round(math.log10(n))}':>6s}" for n in SIZES)
    print(f"torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats} interleaved repeats")
    print("ratio = time(losslib) / time(reference), forward + backward; checks on | checks off\n")
    print(header + f" {'median':>7s} {'no-chk':>7s}")
    summary: dict[str, list[float]] = {}
    for e in entries:
        if e.name not in SPECS:
            continue
        spec = SPECS[e.name]
        on = [ratio(e.name, spec, n, args.repeats, checks=True) for n in SIZES]
        off = [ratio(e.name, spec, n, args.repeats, checks=False) for n in SIZES]
        med_on, med_off = statistics.median(on), statistics.median(off)
        summary.setdefault(spec.kind.split(" ")[0], []).append(med_on)
        cells = " ".join(f"{r:6.2f}" for r in on)
        print(f"{e.name:34s} {spec.kind:24s} {cells} {med_on:7.2f} {med_off:7.2f}", flush=True)
    print()
    for kind, values in summary.items():
        print(
            f"{kind:10s}: median ratio {statistics.median(values):.2f}, "
            f"worst {max(values):.2f} over {len(values)} losses"
        )
    if missing:
        print(f"\nno benchmark spec for: {', '.join(missing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
