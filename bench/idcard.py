"""ID card reading (issue 25): field accuracy over generated cards, and capture → CardReading latency
beside bare Tesseract calls on the same crops, in the same run.

Cards: the product's specimen drawer (kiosk.idcard.specimen) with random people (tests/idcard/cards.py:
random_face, both kinds, both eras of resident number), photographed with the tests' mild distortions
(rotation, offset, tilt, blur, glare, JPEG noise, backgrounds). Generation is not timed.

Latency: `CardReader.read(jpeg_bytes)` (decode, find, straighten, title, fields) per card; the floor is
the same Tesseract calls the read made (the crops it handed Tesseract, recorded during the read), made
again on the same engines right after it: what reading those fields costs at best, with this Tesseract
on this machine. The ratio is the read's overhead (decoding, finding the card, straightening, turning).

`--throttle 4` runs the same in a child process limited to a quarter of one core (cgroup v1 cpu quota:
cfs_quota_us 25000 per 100000), the server-side counterpart of the tap bench's 4x CPU throttle (which
Chromium applies to its renderer, not to the server); needs root and the cgroup cpu controller.

    .venv/bin/python -m bench idcard            (200 cards at 1x, 40 at 4x)
    .venv/bin/python -m bench.idcard [--cards 200] [--throttled-cards 40] [--seed 1]

Aims: every field exact on >= 95 % of cards, the resident number on >= 99 %; p50 ratio <= 1.5 and the
read under 1 s at 1x.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.common import print_table, summary, write_results

FIELDS = ("kind", "name", "rrn", "issue_date", "licence_number", "licence_serial")
CGROUP = Path("/sys/fs/cgroup/cpu")


def measure(cards: int, seed: int, show: bool = False) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from kiosk.idcard import CardNotRead, CardReader
    from kiosk.idcard import reader as card_reader
    from tests.idcard.cards import capture, mild, random_face

    calls: list[tuple] = []

    class Recording(card_reader._Engines):
        def text(self, gray, field: str = "", lang: str = "kor") -> str:
            calls.append((gray.copy(), field, lang))
            return super().text(gray, field, lang)

    card_reader._Engines = Recording
    reader = CardReader(pool_size=1)
    reader.warm()
    engines = reader._take()
    reader._idle.put(engines)
    rng = random.Random(seed)
    reads, floors, right, wrong_fields, not_read = [], [], {f: 0 for f in FIELDS}, {}, {}
    every_field = 0
    for n in range(cards):
        face = random_face(rng)
        image = capture(face, mild(seed * 100000 + n))
        calls.clear()
        start = time.perf_counter()
        try:
            reading = reader.read(image)
        except CardNotRead as exc:
            not_read[exc.reason] = not_read.get(exc.reason, 0) + 1
            continue
        finally:
            reads.append(time.perf_counter() - start)
        made = list(calls)
        start = time.perf_counter()
        for gray, field, lang in made:
            card_reader._Engines.text(engines, gray, field, lang)
        floors.append(time.perf_counter() - start)
        want = {"kind": face.kind, "name": face.name, "rrn": face.rrn, "issue_date": face.issue_date,
                "licence_number": face.licence_number, "licence_serial": face.licence_serial}
        got = {f: getattr(reading, f) for f in FIELDS}
        ok = True
        for f in FIELDS:
            if got[f] == want[f]:
                right[f] += 1
            else:
                ok = False
                wrong_fields[f] = wrong_fields.get(f, 0) + 1
                if show:
                    print(f"card {n}: {f} read {got[f]!r}, printed {want[f]!r}")
        every_field += ok
    reader.close()
    ratios = sorted(r / f for r, f in zip(reads, floors, strict=False) if f)
    return {"cards": cards, "every_field_exact": every_field / cards,
            "field_exact": {f: right[f] / cards for f in FIELDS}, "wrong": wrong_fields,
            "not_read": not_read, "read": summary(reads), "floor": summary(floors),
            "ratio_p50": ratios[len(ratios) // 2] if ratios else float("nan")}


def throttled(cards: int, seed: int, quota: int) -> dict | str:
    """`measure` in a child process held to `quota`/100000 of one core; or why it could not be."""
    group = CGROUP / f"cert-kiosk-bench-{os.getpid()}"
    try:
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text(str(quota))
    except OSError as exc:
        return f"not measured: no cgroup cpu quota here ({exc})"
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", "import sys, time; sys.stdin.readline(); from bench.idcard import _child; "
             f"_child({cards}, {seed})"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
        (group / "cgroup.procs").write_text(str(child.pid))
        output, _ = child.communicate("go\n", timeout=3600)
        return json.loads(output.strip().splitlines()[-1])
    finally:
        try:
            group.rmdir()
        except OSError:
            pass


def _child(cards: int, seed: int) -> None:
    print(json.dumps(measure(cards, seed), default=str))


def rows_of(label: str, result: dict) -> list[list]:
    return [[label, result["cards"], f"{100 * result['every_field_exact']:.1f} %",
             f"{100 * result['field_exact']['rrn']:.1f} %", result["read"]["p50_ms"], result["read"]["p95_ms"],
             result["floor"]["p50_ms"], result["ratio_p50"]]]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.idcard")
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--throttled-cards", type=int, default=40, help="cards at 4x (0: skip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", action="store_true", help="print every field read wrong")
    args = parser.parse_args(argv)
    results = {"1x": measure(args.cards, args.seed, args.show)}
    if args.throttled_cards:
        results["4x"] = throttled(args.throttled_cards, args.seed + 1, 25000)
    rows = rows_of("1x", results["1x"])
    if isinstance(results.get("4x"), dict):
        rows += rows_of("4x", results["4x"])
    elif "4x" in results:
        print(f"4x: {results['4x']}")
    print_table("capture → CardReading", ["CPU", "cards", "every field exact", "resident number exact",
                                          "read p50 ms", "read p95 ms", "Tesseract floor p50 ms",
                                          "p50 ratio"], rows)
    for label, result in results.items():
        if isinstance(result, dict):
            fields = ", ".join(f"{f} {100 * v:.1f} %" for f, v in result["field_exact"].items())
            print(f"\n{label}: per field {fields}; wrong {result['wrong']}; not read {result['not_read']}")
    write_results("idcard", results)
    return results


if __name__ == "__main__":
    main()
