#!/usr/bin/env python3
"""numpy's argpartition top-k on the same vectors as the Rust criterion bench
(benches/compressors.rs), reported in GB/s (input bytes 4*d per call, decimal).

    pip install numpy   # if missing
    python3 crates/dwcp-quantization/bench/numpy_topk.py

The vector is splitmix64(seed + (i+1)*gamma) mapped to [-1, 1) with 24 bits,
exactly as `shared_vector` in the Rust bench; both print sum(x) and the sum of
the top-k indices so you can check they ran on identical data.
"""
import sys
import timeit

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)


def shared_vector(d, seed=42):
    i = np.arange(1, d + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + i * GAMMA
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float32) / np.float32(1 << 23) - np.float32(1.0)).astype(np.float32)


def topk(x, k):
    """The k largest magnitudes (unordered), as in fl_prototype.py."""
    return np.argpartition(np.abs(x), -k)[-k:]


def topk_sorted(x, k):
    """Same, with the indices sorted ascending (what the Rust top_k_indices returns)."""
    return np.sort(np.argpartition(np.abs(x), -k)[-k:])


def measure(f, x, k, repeat=21):
    """Best and median time per call over `repeat` batches (criterion reports
    a mean over samples, closest to the median here)."""
    number = max(1, int(2e6 // len(x)))
    times = sorted(t / number for t in timeit.repeat(lambda: f(x, k), number=number, repeat=repeat))
    return times[0], times[len(times) // 2]


def main():
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}")
    print("| d | k | variant | median time | GB/s (median) | GB/s (best) |")
    print("|---|---|---|---|---|---|")
    for d in (100_000, 1_000_000):
        x = shared_vector(d)
        k = d // 100
        idx = topk_sorted(x, k)
        print(f"# d={d} k={k}: sum(x)={float(x.astype(np.float64).sum()):.6f} "
              f"sum(top-k indices)={int(idx.astype(np.uint64).sum())}", file=sys.stderr)
        for name, f in (("argpartition(|x|)", topk), ("argpartition(|x|) + sort", topk_sorted)):
            best, med = measure(f, x, k)
            gbs = lambda t: 4 * d / t / 1e9
            print(f"| {d} | {k} | {name} | {med * 1e6:.0f} µs | {gbs(med):.2f} | {gbs(best):.2f} |")


if __name__ == "__main__":
    main()
