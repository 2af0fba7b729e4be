"""What the fleet's Prometheus scrapes from one kiosk: counters moved at the seams (the customer flow,
the CA port, the session end, the watchdog) and gauges read at scrape time (out of service, CA and CRL
expiry, free disk). No Flask here; `kiosk.wiring` builds one `KioskMetrics` per kiosk, on a registry of
its own (never prometheus_client's global one: tests build hundreds of kiosks in one process), and
`kiosk.server` serves it on a listener apart from the customer's origin (docs/fleet.md).

Labels are typed codes only (a service, a step, a reason code, a probe name): never a name, a resident
number, an e-mail address, an account, a serial or a customer hash. Counters start at zero with each
process; Prometheus' `increase()` and `rate()` read across restarts. The staff console's "today" counts
come from the audit log, which outlives a restart; each of them moves together with one counter here
(`CONSOLE_COUNTS`), in the same call, so both agree (tests/fleet/test_console_counts.py).
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hardware.errors import DriveError
from kiosk.build import booted_slot, revision, version
from kiosk.pki.errors import PkiError


def error_codes(base: type[Exception]) -> tuple[str, ...]:
    """Every `code` that `base` and its subclasses declare, each once, in the order they are defined: the
    label values an error can take, read from the classes so that a new error cannot be left out."""
    codes: dict[str, None] = {}
    waiting = [base]
    while waiting:
        error = waiting.pop(0)
        codes.setdefault(error.code)
        waiting.extend(error.__subclasses__())
    return tuple(codes)


SESSION_END_REASONS = ("customer_reset", "idle", "hard_limit", "staff_reset", "out_of_service")
CA_OPERATIONS = ("issue", "reissue", "renew", "revoke")
# the typed codes an issuing run can fail with: PkiError.code, hardware.DriveError.code, and the three the
# flow adds itself ("database" is reported as issuance_failed to the customer, but the fleet wants it apart)
CA_ERROR_CODES = error_codes(PkiError)
DRIVE_ERROR_CODES = error_codes(DriveError)
FAILURE_REASONS = (*CA_ERROR_CODES, *DRIVE_ERROR_CODES, "certificate_changed", "database", "crashed")


@dataclass(frozen=True)
class JourneyLabels:
    """The journey's label values, given by `kiosk.wiring` (the metrics sit below the journey and import
    none of it). The defaults export no series ahead of use and count every service on the console."""

    issuing_services: tuple[str, ...] = ()   # the services whose journey has an issuing step
    steps: tuple[str, ...] = ()
    signing_services: frozenset[str] | None = None   # the services the console's 발급 counts; None: all
# Seconds: an embedded CA signs in milliseconds, a CMP round trip to a bank's CA takes seconds, and a
# waiting CA is polled for up to KIOSK_CMP_TOTAL_TIMEOUT_SECONDS.
CA_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class KioskMetrics:
    """The collectors of one kiosk and the verbs the seams call to move them."""

    def __init__(self, labels: JourneyLabels = JourneyLabels()) -> None:
        self.labels = labels
        # No `_created` series beside each counter: they double what 3,500 kiosks send, and Prometheus'
        # increase() needs none. A switch of the library (idempotent), not state of ours.
        disable_created_metrics()
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.issuances_started = Counter("kiosk_issuances_started_total",
                                         "Issuing runs started (a retry on another drive is a new run)",
                                         ["service"], registry=r)
        self.issuances_completed = Counter("kiosk_issuances_completed_total",
                                           "Certificates written and verified on a stick (issued, renewed, copied or re-protected), by service",
                                           ["service"], registry=r)
        self.issuances_failed = Counter("kiosk_issuances_failed_total",
                                        "Issuing runs that failed, by typed reason code",
                                        ["service", "reason"], registry=r)
        self.steps_reached = Counter("kiosk_journey_steps_reached_total",
                                     "Customers who reached a step of the journey", ["step"], registry=r)
        self.journeys_abandoned = Counter("kiosk_journeys_abandoned_total",
                                          "Journeys whose session ended before the done step, by the step",
                                          ["step"], registry=r)
        self.drive_events = Counter("kiosk_drive_events_total",
                                    "USB sticks added to and removed from the list, and ejected after a delivery",
                                    ["event"], registry=r)
        self.drive_errors = Counter("kiosk_drive_errors_total",
                                    "Drive writes, verifies, ejects and reads (내 인증서 확인) that failed, by typed code",
                                    ["operation", "code"], registry=r)
        self.ca_seconds = Histogram("kiosk_ca_request_seconds", "Round trips to the CA, by operation",
                                    ["operation"], buckets=CA_BUCKETS, registry=r)
        self.ca_errors = Counter("kiosk_ca_errors_total", "CA requests that failed, by typed code",
                                 ["operation", "reason"], registry=r)
        self.email_codes_sent = Counter("kiosk_email_codes_sent_total", "E-mail codes handed to the mail server",
                                        registry=r)
        self.email_code_failures = Counter("kiosk_email_code_failures_total",
                                           "E-mail codes the mail server refused or could not take", registry=r)
        self.session_resets = Counter("kiosk_session_resets_total", "Customer sessions ended, by reason",
                                      ["reason"], registry=r)
        self.lockouts = Counter("kiosk_lockouts_total", "Customers locked after 5 wrong account PINs",
                                registry=r)
        self.undelivered_revoked = Counter("kiosk_undelivered_revoked_total",
                                           "Certificates revoked because they never reached a drive",
                                           ["when"], registry=r)
        self.probe_healthy = Gauge("kiosk_watchdog_probe_healthy",
                                   "1 while the watchdog's probe passes, 0 while it fails (under systemd only)",
                                   ["probe"], registry=r)
        Info("kiosk_build", "The kiosk's version, git revision and booted root slot", registry=r).info(
            {"version": version(), "slot": booted_slot(), "revision": revision()})
        self._zero_known_series()

    def _zero_known_series(self) -> None:
        """Every known label set exported at 0 from the start, so ratios and `increase()` have a
        baseline and a dashboard shows 0 rather than 'no data'."""
        for service in self.labels.issuing_services:
            self.issuances_started.labels(service)
            self.issuances_completed.labels(service)
            for reason in FAILURE_REASONS:
                self.issuances_failed.labels(service, reason)
        for step in self.labels.steps:
            self.steps_reached.labels(step)
            self.journeys_abandoned.labels(step)
        for event in ("added", "removed", "ejected"):
            self.drive_events.labels(event)
        for code in DRIVE_ERROR_CODES:
            for operation in ("write", "eject", "read"):
                self.drive_errors.labels(operation, code)
        for operation in CA_OPERATIONS:
            self.ca_seconds.labels(operation)
            for reason in CA_ERROR_CODES:
                self.ca_errors.labels(operation, reason)
        for reason in SESSION_END_REASONS:
            self.session_resets.labels(reason)
        for when in ("session_end", "start_up"):
            self.undelivered_revoked.labels(when)

    def add(self, collector: Collector) -> None:
        self.registry.register(collector)

    # --- the counts the staff console shows ----------------------------------------------------------

    def audited(self, action: str, **labels: str) -> None:
        """Move the counter that pairs with audit `action` (CONSOLE_COUNTS); other actions move none."""
        attribute = CONSOLE_COUNTS.get(action)
        if attribute is not None:
            counter = getattr(self, attribute)
            (counter.labels(**labels) if labels else counter).inc()

    def audited_total(self, action: str) -> float:
        """Since this process started: the sum over labels of the counter paired with `action`."""
        counter = getattr(self, CONSOLE_COUNTS[action])
        signing = self.labels.signing_services
        # copies and password changes complete too (each service by its own label, issue 26, item 11),
        # but are no 발급: the console's line counts only the services the CA signs for
        only = {"service": signing} if action == "certificate.delivered" and signing is not None else {}
        return sum(sample.value for family in counter.collect() for sample in family.samples
                   if sample.name.endswith("_total")
                   and all(sample.labels.get(name) in values for name, values in only.items()))


# The staff console's "today" counts (audit actions, read from the audit log, which outlives a restart)
# and the counter each one moves together with, in the same call: one increment per audit row.
CONSOLE_COUNTS = {
    "certificate.delivered": "issuances_completed",
    "certificate.revoked": "undelivered_revoked",
    "customer.locked": "lockouts",
    "session.reset": "session_resets",
}


class DriveEvents:
    """A DriveManager subscriber that counts sticks arriving and leaving. It is called after each change
    of the list, on the watcher thread or on an issuing worker (a refresh after an eject), so it compares
    ids under a lock of its own and never blocks."""

    def __init__(self, metrics: KioskMetrics, listed: list):
        self._metrics = metrics
        self._ids = {drive.id for drive in listed}
        self._lock = threading.Lock()

    def __call__(self, listed: list) -> None:
        ids = {drive.id for drive in listed}
        with self._lock:
            added, removed, self._ids = ids - self._ids, self._ids - ids, ids
        self._metrics.drive_events.labels("added").inc(len(added))
        self._metrics.drive_events.labels("removed").inc(len(removed))


class MeasuredCA:
    """The CertificateAuthority port with each round trip timed (for CMP: the whole exchange, polling a
    'waiting' CA included) and each failure counted by its code. Reading the CA's own files passes
    through untimed."""

    def __init__(self, ca, metrics: KioskMetrics):
        self.measured = ca  # the adapter itself, for the doctor's probe of the CA the kiosk talks to
        self._metrics = metrics

    def _timed(self, operation: str, call, *args):
        started = time.monotonic()
        try:
            return call(*args)
        except PkiError as exc:
            self._metrics.ca_errors.labels(operation, exc.code).inc()
            raise
        finally:
            self._metrics.ca_seconds.labels(operation).observe(time.monotonic() - started)

    def issue(self, request, key):
        return self._timed("issue", self.measured.issue, request, key)

    def reissue(self, request, key, replaces):
        return self._timed("reissue", self.measured.reissue, request, key, replaces)

    def renew(self, request, key, renews, predecessor=None):
        return self._timed("renew", self.measured.renew, request, key, renews, predecessor)

    def revoke(self, serial, reason):
        return self._timed("revoke", self.measured.revoke, serial, reason)

    def unrevoked_serials(self):
        return self.measured.unrevoked_serials()

    def crl_der(self):
        return self.measured.crl_der()

    def chain_pem(self):
        return self.measured.chain_pem()

    def issuer_name(self):
        return self.measured.issuer_name()


class CustomersCollector(Collector):
    """kiosk_customers_at_screen: customers whose visit is open now. What a restart waits for (the
    appliance's network update restarts only at 0, appliance/rauc/update-fetch), and the fleet's view of
    how busy a kiosk is."""

    def __init__(self, count: Callable[[], int]):
        self.count = count

    def describe(self) -> list:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("kiosk_customers_at_screen", "Customers whose visit is open now")
        family.add_metric([], self.count())
        yield family


class KioskStateCollector(Collector):
    """Gauges read when Prometheus scrapes, so they are right even just after a restart: out of service
    (persisted in the store), seconds until the CA certificates and the CRL expire, free bytes of the
    data directory, drives on the list. A reading that fails is left out of the scrape, never guessed."""

    def __init__(self, out_of_service: Callable[[], bool], ca_chain_pem: Callable[[], bytes],
                 crl_path: Path | None, data_dir: Path, drives: Callable[[], list]):
        self.out_of_service = out_of_service
        self.ca_chain_pem = ca_chain_pem
        self.crl_path = crl_path
        self.data_dir = data_dir
        self.drives = drives

    def describe(self) -> list:
        return []  # read at scrape time only: registering must not read the CA or the disk

    def collect(self) -> Iterator[GaugeMetricFamily]:
        out = GaugeMetricFamily("kiosk_out_of_service", "1 while staff hold the kiosk out of service")
        try:
            out.add_metric([], 1 if self.out_of_service() else 0)
        except sqlite3.Error:
            pass  # the database is locked or gone: the store's own errors say so, the scrape goes on
        yield out
        yield from self._ca_expiry()
        yield from self._crl_expiry()
        free = GaugeMetricFamily("kiosk_data_dir_free_bytes", "Free bytes on the data directory's disk")
        try:
            free.add_metric([], shutil.disk_usage(self.data_dir).free)
        except OSError:
            pass
        yield free
        listed = GaugeMetricFamily("kiosk_drives_listed", "USB drives on the customer's list",
                                   labels=["eligible"])
        drives = self.drives()
        for eligible in (True, False):
            listed.add_metric([str(eligible).lower()], sum(1 for d in drives if d.eligible is eligible))
        yield listed

    def _ca_expiry(self) -> Iterator[GaugeMetricFamily]:
        from cryptography import x509

        family = GaugeMetricFamily("kiosk_ca_certificate_expiry_seconds",
                                   "Seconds until a CA certificate expires (negative: expired)",
                                   labels=["certificate"])
        try:
            chain = x509.load_pem_x509_certificates(self.ca_chain_pem())
        except (PkiError, OSError, ValueError):
            chain = []
        for role, certificate in zip(("issuing", "root"), chain, strict=False):
            family.add_metric([role], _seconds_until(certificate.not_valid_after_utc))
        yield family

    def _crl_expiry(self) -> Iterator[GaugeMetricFamily]:
        """The embedded CA's CRL (nextUpdate); a CMP CA publishes its own, watched at the CA."""
        from cryptography import x509

        family = GaugeMetricFamily("kiosk_crl_next_update_seconds",
                                   "Seconds until the published CRL's nextUpdate (negative: stale)")
        try:
            crl = x509.load_der_x509_crl(self.crl_path.read_bytes()) if self.crl_path else None
        except (OSError, ValueError):
            crl = None
        if crl is not None and crl.next_update_utc is not None:
            family.add_metric([], _seconds_until(crl.next_update_utc))
        yield family


def _seconds_until(moment: datetime) -> float:
    return (moment - datetime.now(timezone.utc)).total_seconds()
