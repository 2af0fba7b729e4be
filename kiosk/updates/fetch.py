"""Network updates of the A/B appliance (issue 29, item 3).

The fleet's HTTP server holds, under one base URL per rollout wave, the released bundles and a file
`latest` naming the one to run (`cert-kiosk-lab_0.2.0.raucb`: RAUC's compatible, then the version).
Each appliance's timer (cert-kiosk-update-fetch.timer: nightly, spread over two hours, after the health
gate has proven the running slot) runs `kiosk update fetch`, which
1. reads `latest`, and stops there when it names the running version or an older one, another device's
   bundle, or a version this kiosk already booted and rejected (its gate marked it bad: fetching it again
   each night would put the kiosk through the same failure each night);
2. downloads it to the data partition (a cut download resumes; at most KIOSK_UPDATE_RATE_KIB, so the
   branch's own traffic goes on), judges it as the staff console does (signature, compatible, newer), and
   has RAUC install it, then deletes it;
3. restarts the kiosk once no customer is at the screen (`kiosk_customers_at_screen` on the kiosk's
   metrics listener), or leaves the new slot for the next restart after `idle_wait_s`.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from kiosk import logs
from kiosk.updates.offer import (
    RESERVE_BYTES,
    Inspection,
    InstallState,
    Updater,
    Verdict,
    hand_over,
    install_outcome,
    judge,
)

LATEST = "latest"
BUNDLE_NAME = re.compile(r"^(?P<compatible>[A-Za-z0-9][A-Za-z0-9.+-]*)_(?P<version>[A-Za-z0-9][A-Za-z0-9.+-]*)\.raucb$")
CHUNK = 1024 * 1024
HTTP_TIMEOUT = 60


class Fetched(StrEnum):
    CURRENT = "current"                  # `latest` names the running version or an older one
    OTHER_DEVICE = "other_device"
    REJECTED_BEFORE = "rejected_before"
    REFUSED = "refused"                  # downloaded, and not installable (the signature, mostly)
    INSTALL_FAILED = "install_failed"
    RESTARTING = "restarting"
    RESTART_DEFERRED = "restart_deferred"


class FetchFailed(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class NetworkUpdate:
    updater: Updater
    running_version: str
    base_url: str
    downloads: Path
    rate_bytes: int                                  # per second; 0: no limit
    customers_at_screen: Callable[[], int]
    rejected_versions: Callable[[], set[str]]
    idle_wait_s: float = 6 * 3600
    poll_s: float = 5.0
    sleep: Callable[[float], None] = time.sleep

    def run(self) -> Fetched:
        """One check of the server; raises FetchFailed (the network, the server, the disk)."""
        name = self._latest()
        named = BUNDLE_NAME.match(name)
        if named is None:
            raise FetchFailed("bad_latest", name[:80])
        version = named["version"]
        claimed = judge(Inspection(readable=True, signature_ok=True, compatible=named["compatible"],
                                   version=version), self.updater.compatible, self.running_version)
        if claimed is Verdict.OTHER_DEVICE:
            logs.warning("update.fetch_other_device", bundle=name)
            return Fetched.OTHER_DEVICE
        if claimed is not Verdict.INSTALLABLE:
            logs.event("update.fetch_current", version=self.running_version, latest=version)
            return Fetched.CURRENT
        if version in self.rejected_versions():
            logs.warning("update.fetch_rejected_before", version=version)
            return Fetched.REJECTED_BEFORE
        path = self._download(name)
        try:
            return self._install(path, version)
        finally:
            path.unlink(missing_ok=True)

    def _url(self, name: str) -> str:
        return urllib.parse.urljoin(self.base_url.rstrip("/") + "/", urllib.parse.quote(name, safe="+"))

    def _latest(self) -> str:
        try:
            with urllib.request.urlopen(self._url(LATEST), timeout=HTTP_TIMEOUT) as answer:
                return answer.read(256).decode("utf-8", "replace").strip()
        except (OSError, urllib.error.URLError) as exc:
            raise FetchFailed("server_unreachable", str(exc)) from exc

    def _download(self, name: str) -> Path:
        """The bundle on the data partition, resumed from what a cut download left; one bundle at a time."""
        self.downloads.mkdir(mode=0o700, parents=True, exist_ok=True)
        final, partial = self.downloads / name, self.downloads / (name + ".part")
        for stale in self.downloads.iterdir():
            if stale not in (final, partial):
                stale.unlink()
        if final.exists():
            return final
        have = partial.stat().st_size if partial.exists() else 0
        started = time.monotonic()
        request = urllib.request.Request(self._url(name), headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
                if answer.status != 206:  # the server sends it whole: start again
                    have = 0
                expected = have + int(answer.headers.get("Content-Length") or 0)
                if expected - have > shutil.disk_usage(self.downloads).free - RESERVE_BYTES:
                    raise FetchFailed("no_space", f"{expected - have} bytes to fetch")
                self._copy(answer, partial, append=have > 0)
        except (OSError, urllib.error.URLError) as exc:
            raise FetchFailed("download_failed", str(exc)) from exc
        if expected and partial.stat().st_size != expected:
            raise FetchFailed("download_short", f"{partial.stat().st_size} of {expected} bytes")
        partial.rename(final)
        logs.event("update.fetch_downloaded", bundle=name, bytes=final.stat().st_size,
                   seconds=round(time.monotonic() - started, 1))
        return final

    def _copy(self, answer, target: Path, append: bool) -> None:
        started, sent = time.monotonic(), 0
        with target.open("ab" if append else "wb") as out:
            while chunk := answer.read(CHUNK):
                out.write(chunk)
                sent += len(chunk)
                if self.rate_bytes:
                    ahead = sent / self.rate_bytes - (time.monotonic() - started)
                    if ahead > 0:
                        self.sleep(ahead)
            out.flush()
            os.fsync(out.fileno())

    def _install(self, path: Path, version: str) -> Fetched:
        verdict = judge(self.updater.inspect(path), self.updater.compatible, self.running_version)
        if verdict is not Verdict.INSTALLABLE:
            logs.error("update.fetch_refused", bundle=path.name, verdict=verdict)
            return Fetched.REFUSED
        hand_over(self.updater, path, sleep=self.sleep)
        logs.warning("update.install_started", version=version, bundle=path.name, source="network")
        while True:
            operation, _percent, message, last_error = self.updater.operation()
            state = install_outcome(operation, message)
            if state is not InstallState.INSTALLING:
                break
            self.sleep(self.poll_s)
        if state is InstallState.FAILED:
            logs.error("update.install_failed", version=version, detail=last_error or message)
            return Fetched.INSTALL_FAILED
        logs.warning("update.install_finished", version=version)
        return self._restart_when_idle(version)

    def _restart_when_idle(self, version: str) -> Fetched:
        deadline = time.monotonic() + self.idle_wait_s
        while self.customers_at_screen() > 0:
            if time.monotonic() >= deadline:
                logs.warning("update.restart_deferred", version=version)
                return Fetched.RESTART_DEFERRED
            self.sleep(60)
        logs.warning("update.restart_requested", version=version, source="network")
        self.updater.reboot()
        return Fetched.RESTARTING


def customers_at_screen(metrics_url: str) -> Callable[[], int]:
    """Read from the kiosk's own metrics listener; a kiosk whose app does not answer serves no one."""

    def count() -> int:
        try:
            with urllib.request.urlopen(metrics_url, timeout=10) as answer:
                text = answer.read().decode("utf-8", "replace")
        except (OSError, urllib.error.URLError):
            return 0
        found = re.search(r"^kiosk_customers_at_screen (\d+(?:\.\d+)?)$", text, re.M)
        return int(float(found[1])) if found else 0

    return count

