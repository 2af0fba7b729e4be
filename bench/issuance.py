"""Issuance pipeline vs bare RSA-2048 key generation, in the same run.

The pipeline is what `IssuanceService.prepare` does for a customer: key + R, certificate signed by the
embedded CA (ledger row included), key encrypted with PBES2/SEED, bundle built, registry row written.
Key generation dominates and varies a lot from key to key, so the two are interleaved and compared by
median. Prints the ratio with absolute times beside it and writes JSON under bench/results/.

    .venv/bin/python -m bench.issuance [--rounds 40]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import cryptography
from cryptography.hazmat.primitives.asymmetric import rsa

from kiosk.pki.embedded import EmbeddedCA
from kiosk.pki.issuance import Applicant, IssuanceService
from kiosk.settings import Settings
from kiosk.store import Store

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "Bench!2580x"
APPLICANT = Applicant(name="홍길동", english_name="HONG GILDONG", rrn="9001011234568", customer_key="b" * 32)


def bare_keygen() -> None:
    rsa.generate_private_key(public_exponent=65537, key_size=2048)


def measure(rounds: int, service: IssuanceService) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"keygen": [], "pipeline": []}
    for _ in range(rounds):
        for name, run in (
            ("keygen", bare_keygen),
            ("pipeline", lambda: service.prepare(APPLICANT, PASSWORD)),
        ):
            start = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - start)
    return samples


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
        "p90_ms": ordered[int(0.9 * (len(ordered) - 1))] * 1000,
        "min_ms": ordered[0] * 1000,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.issuance")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-issuance-") as tmp:
        settings = Settings(data_dir=Path(tmp))
        store = Store(settings.database_path)
        store.migrate()
        EmbeddedCA.create(settings.data_dir / "ca", settings.ca_passphrase, demo=True)
        service = IssuanceService.from_settings(settings.pki, store)
        service.prepare(APPLICANT, PASSWORD)  # warm-up: loads the CA key
        samples = measure(args.rounds, service)
        store.close()
    keygen, pipeline = summary(samples["keygen"]), summary(samples["pipeline"])
    ratio = pipeline["median_ms"] / keygen["median_ms"]
    print(
        f"issuance pipeline / bare RSA-2048 keygen = {ratio:.2f}x (medians, {args.rounds} rounds interleaved)"
    )
    for name, stats in (("keygen", keygen), ("pipeline", pipeline)):
        median, mean, p90 = stats["median_ms"], stats["mean_ms"], stats["p90_ms"]
        print(f"  {name:9} median {median:7.1f} ms  mean {mean:7.1f}  p90 {p90:7.1f}")
    print(f"  overhead beyond keygen (median): {pipeline['median_ms'] - keygen['median_ms']:.1f} ms")
    result = {
        "benchmark": "issuance",
        "when": datetime.now(UTC).isoformat(),
        "rounds": args.rounds,
        "ratio_median": ratio,
        "keygen": keygen,
        "pipeline": pipeline,
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "machine": platform.machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"issuance-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"  written {path.relative_to(RESULTS.parent.parent)}")
    return result


if __name__ == "__main__":
    main()
