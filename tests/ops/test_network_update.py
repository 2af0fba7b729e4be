"""`kiosk update fetch`'s logic (kiosk/updates/fetch.py) against a real HTTP server on loopback that
serves real bundles (resuming with Range as a fleet's server does), judged by the real `rauc info`. RAUC's
install service and logind's restart exist only on the booted appliance (tests/system/test_update.py
updates it over the network for real): here a stand-in records what would be asked of them, and each test
that relies on it says so in its name."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from kiosk.build import version
from kiosk.updates.fetch import Fetched, FetchFailed, NetworkUpdate
from tests.rauc_bundles import StandInForRaucsService, lab_signing, signed_by_a_stranger, small_bundle
from tests.tools import require_command

COMPATIBLE = "cert-kiosk-lab"
NEWER = version() + "+next"


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, with `Range: bytes=N-` answered 206 as nginx answers it; every path asked is kept."""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.asked.append((self.path, self.headers.get("Range")))
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "fleet"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: RangeHandler(*a, directory=str(root)))
    httpd.asked = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    httpd.root = root
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/wave-1/"
    (root / "wave-1").mkdir()
    yield httpd
    httpd.shutdown()


def release(server, bundle: Path) -> str:
    """What the release pipeline does: the bundle, then `latest` naming it."""
    name = f"{COMPATIBLE}_{NEWER}.raucb"
    (server.root / "wave-1" / name).write_bytes(bundle.read_bytes())
    (server.root / "wave-1" / "latest").write_text(name + "\n")
    return name


@pytest.fixture
def rauc(tmp_path):
    require_command("rauc", "rauc")
    conf = tmp_path / "system.conf"
    conf.write_text(f"[system]\ncompatible={COMPATIBLE}\nbootloader=noop\n\n[keyring]\npath={lab_signing() / 'cert.pem'}\n")
    return StandInForRaucsService(conf)


def update(rauc, server, downloads, customers=(0,), rejected=(), rate=0, sleeps=None) -> NetworkUpdate:
    queue = list(customers)
    return NetworkUpdate(updater=rauc, running_version=version(), base_url=server.url, downloads=downloads,
                         rate_bytes=rate, customers_at_screen=lambda: queue.pop(0) if len(queue) > 1 else queue[0],
                         rejected_versions=lambda: set(rejected), idle_wait_s=3600, poll_s=0,
                         sleep=(sleeps.append if sleeps is not None else lambda seconds: None))


def test_the_running_version_named_in_latest_downloads_nothing(rauc, server, tmp_path):
    (server.root / "wave-1" / "latest").write_text(f"{COMPATIBLE}_{version()}.raucb\n")

    assert update(rauc, server, tmp_path / "dl").run() is Fetched.CURRENT
    assert [path for path, _range in server.asked] == ["/wave-1/latest"]


def test_a_newer_signed_bundle_is_resumed_installed_deleted_and_restarted_with_a_stand_in_for_raucs_service(
        rauc, server, tmp_path):
    bundle = small_bundle(tmp_path / "b.raucb", COMPATIBLE, NEWER)
    name = release(server, bundle)
    downloads = tmp_path / "dl"
    downloads.mkdir()
    (downloads / (name + ".part")).write_bytes(bundle.read_bytes()[:100_000])  # last night's, cut
    (downloads / "cert-kiosk-lab_0.0.1.raucb").write_bytes(b"an older download")

    assert update(rauc, server, downloads).run() is Fetched.RESTARTING
    assert (f"/wave-1/{name}", "bytes=100000-") in server.asked
    assert [path.name for path in rauc.installed] == [name]
    assert rauc.rebooted
    assert list(downloads.iterdir()) == [], "nothing is left on the data partition"


def test_a_bundle_not_signed_by_the_fleet_is_downloaded_refused_and_deleted(rauc, server, tmp_path):
    genuine = small_bundle(tmp_path / "b.raucb", COMPATIBLE, NEWER)
    release(server, signed_by_a_stranger(genuine, tmp_path / "stranger.raucb"))

    assert update(rauc, server, tmp_path / "dl").run() is Fetched.REFUSED
    assert rauc.installed == [] and not rauc.rebooted
    assert list((tmp_path / "dl").iterdir()) == []


def test_a_version_this_kiosk_rejected_is_not_fetched_again(rauc, server, tmp_path):
    release(server, small_bundle(tmp_path / "b.raucb", COMPATIBLE, NEWER))

    assert update(rauc, server, tmp_path / "dl", rejected=[NEWER]).run() is Fetched.REJECTED_BEFORE
    assert [path for path, _range in server.asked] == ["/wave-1/latest"]


def test_the_restart_waits_for_the_customers_to_leave_with_a_stand_in_for_raucs_service(rauc, server, tmp_path):
    release(server, small_bundle(tmp_path / "b.raucb", COMPATIBLE, NEWER))
    waits: list[float] = []

    assert update(rauc, server, tmp_path / "dl", customers=(2, 1, 0), sleeps=waits).run() is Fetched.RESTARTING
    assert waits.count(60) == 2 and rauc.rebooted


def test_the_download_keeps_to_its_rate(rauc, server, tmp_path):
    bundle = release(server, small_bundle(tmp_path / "b.raucb", COMPATIBLE, NEWER))
    size = (server.root / "wave-1" / bundle).stat().st_size
    waits: list[float] = []

    update(rauc, server, tmp_path / "dl", rate=100 * 1024, sleeps=waits).run()

    assert sum(waits) >= 0.8 * size / (100 * 1024), "it paused for the time the bytes take at that rate"


def test_an_unreachable_server_and_a_wrong_latest_are_failures_with_a_reason(rauc, server, tmp_path):
    (server.root / "wave-1" / "latest").write_text("../../etc/shadow\n")
    with pytest.raises(FetchFailed) as bad:
        update(rauc, server, tmp_path / "dl").run()
    assert bad.value.reason == "bad_latest"

    server.url = "http://127.0.0.1:9/"
    with pytest.raises(FetchFailed) as unreachable:
        update(rauc, server, tmp_path / "dl").run()
    assert unreachable.value.reason == "server_unreachable"
