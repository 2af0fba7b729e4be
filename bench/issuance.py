"""Issuance pipeline vs bare RSA-2048 key generation, in the same run, by both roads to the CA.

The pipeline is what `IssuanceService.prepare` does for a customer: key + R, certificate signed by the
embedded CA (ledger row included), key encrypted with PBES2/SEED, bundle built, registry row written.
`pipeline` calls the embedded CA in this process (the road before issue 30); `pipeline_cmp` is what the
kiosk does now: the same CA in its own process (`kiosk ca serve`, started here on a free loopback port),
asked over CMP (ir → ip → certConf → pkiConf, MAC with the registration agent's code, EncryptedVID).
Key generation dominates and varies a lot from key to key, so the three are interleaved and compared by
median. Prints the ratios with absolute times beside them and writes JSON under bench/results/.

    .venv/bin/python -m bench.issuance [--rounds 40]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import cryptography
from cryptography.hazmat.primitives.asymmetric import rsa

from kiosk.pki.embedded import EmbeddedCA, Profile
from kiosk.pki.issuance import Applicant, IssuanceService
from kiosk.pki.registry import Registry
from kiosk.settings import Settings
from kiosk.store import Store

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "Bench!2580x"
APPLICANT = Applicant(name="홍길동", english_name="HONG GILDONG", rrn="9001011234568", customer_key="b" * 32)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ca_process(settings: Settings) -> subprocess.Popen:
    """`kiosk ca serve` on the benchmark's CA, once it accepts connections."""
    env = {**os.environ, "KIOSK_MODE": "demo", "KIOSK_DATA_DIR": str(settings.data_dir),
           "KIOSK_CA_LISTEN": settings.ca_listen, "KIOSK_LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "ca", "serve"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host, _, port = settings.ca_listen.rpartition(":")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("kiosk ca serve did not start")


def bare_keygen() -> None:
    rsa.generate_private_key(public_exponent=65537, key_size=2048)


def measure(rounds: int, service: IssuanceService, cmp_service: IssuanceService) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"keygen": [], "pipeline": [], "pipeline_cmp": []}
    for _ in range(rounds):
        for name, run in (
            ("keygen", bare_keygen),
            ("pipeline", lambda: service.prepare(APPLICANT, PASSWORD)),
            ("pipeline_cmp", lambda: cmp_service.prepare(APPLICANT, PASSWORD)),
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
        settings = Settings(data_dir=Path(tmp), ca_listen=f"127.0.0.1:{free_port()}")
        store = Store(settings.database_path)
        store.migrate()
        EmbeddedCA.create(settings.pki.ca_dir, settings.ca_passphrase, demo=True)
        pki = settings.pki
        in_process = EmbeddedCA(pki.ca_dir, pki.ca_passphrase, store,
                                Profile(pki.pki_base_url, pki.bank_code, pki.institution_code))
        service = IssuanceService(in_process, Registry(store), pki.ca_folder, pki.renewal_window)
        responder = ca_process(settings)
        try:
            cmp_service = IssuanceService.from_settings(pki, store)  # KIOSK_CA=embedded: over CMP
            service.prepare(APPLICANT, PASSWORD)  # warm-up: loads the CA key
            cmp_service.prepare(APPLICANT, PASSWORD)
            samples = measure(args.rounds, service, cmp_service)
        finally:
            responder.terminate()
            responder.wait(timeout=10)
        store.close()
    keygen, pipeline, cmp = summary(samples["keygen"]), summary(samples["pipeline"]), summary(samples["pipeline_cmp"])
    ratio = pipeline["median_ms"] / keygen["median_ms"]
    print(
        f"issuance pipeline / bare RSA-2048 keygen = {ratio:.2f}x (medians, {args.rounds} rounds interleaved)"
    )
    for name, stats in (("keygen", keygen), ("pipeline", pipeline), ("cmp", cmp)):
        median, mean, p90 = stats["median_ms"], stats["mean_ms"], stats["p90_ms"]
        print(f"  {name:9} median {median:7.1f} ms  mean {mean:7.1f}  p90 {p90:7.1f}")
    print(f"  overhead beyond keygen (median): {pipeline['median_ms'] - keygen['median_ms']:.1f} ms in process, "
          f"{cmp['median_ms'] - keygen['median_ms']:.1f} ms over CMP")
    print(f"  the CMP round trip (median difference): {cmp['median_ms'] - pipeline['median_ms']:.1f} ms")
    result = {
        "benchmark": "issuance",
        "when": datetime.now(UTC).isoformat(),
        "rounds": args.rounds,
        "ratio_median": ratio,
        "keygen": keygen,
        "pipeline": pipeline,
        "pipeline_cmp": cmp,
        "cmp_round_trip_median_ms": cmp["median_ms"] - pipeline["median_ms"],
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
