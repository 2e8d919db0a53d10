"""Reference epsilons for dwcp-privacy's RDP accountant, from Google's
published accountant (PyPI `dp-accounting`, pure Python).

    python3 -m venv /tmp/dpvenv && /tmp/dpvenv/bin/pip install dp-accounting==0.6.0
    /tmp/dpvenv/bin/python rdp_reference.py > rdp_vectors.csv

For each (sigma, q, steps, delta) it reports epsilon from
`RdpAccountant` (Poisson-subsampled Gaussian, add/remove-one neighbours)
with two order sets: the integer orders the Rust accountant uses
(2..=63, 128, 256, 512, 1024) and the package's DEFAULT_RDP_ORDERS
(which also has fractional orders in (1, 11)).
"""

import importlib.metadata

import dp_accounting
from dp_accounting.rdp import rdp_privacy_accountant as rdp

INTEGER_ORDERS = list(range(2, 64)) + [128, 256, 512, 1024]

# (sigma, q, steps, delta): DP-SGD on MNIST in the style of Abadi et al.
# (q = 256/60000, 60 epochs), DP-FedAvg-like client sampling, and the
# non-subsampled Gaussian mechanism (q = 1).
POINTS = [
    (1.1, 256 / 60000, 14063, 1e-5),
    (4.0, 256 / 60000, 14063, 1e-5),
    (0.7, 256 / 60000, 2344, 1e-5),
    (1.0, 0.01, 1000, 1e-5),
    (0.8, 0.02, 500, 1e-5),
    (2.0, 0.05, 300, 1e-5),
    (1.0, 0.1, 300, 1e-5),
    (1.5, 0.1, 100, 1e-6),
    (0.5, 0.001, 10000, 1e-5),
    (5.0, 0.5, 200, 1e-5),
    (4.0, 1.0, 1, 1e-5),
    (1.0, 1.0, 10, 1e-6),
    (10.0, 1.0, 300, 1e-5),
]


def epsilon(sigma, q, steps, delta, orders):
    acc = rdp.RdpAccountant(orders=orders)
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps
    )
    acc.compose(event)
    return acc.get_epsilon(delta)


def main():
    version = importlib.metadata.version("dp-accounting")
    print(f"# dp-accounting {version}; RdpAccountant, PoissonSampled(Gaussian), add/remove-one")
    print("sigma,q,steps,delta,eps_integer_orders,eps_default_orders")
    for sigma, q, steps, delta in POINTS:
        e_int = float(epsilon(sigma, q, steps, delta, INTEGER_ORDERS))
        e_def = float(epsilon(sigma, q, steps, delta, rdp.DEFAULT_RDP_ORDERS))
        print(f"{sigma!r},{q!r},{steps},{delta!r},{e_int!r},{e_def!r}")


if __name__ == "__main__":
    main()
