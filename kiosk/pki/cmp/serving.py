"""CMP over HTTP (RFC 6712) for the embedded CA's responder: POST `application/pkixcmp`, one message in,
one out, on a loopback address only (the kiosk is the one client; docs/security.md)."""

from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kiosk import logs
from kiosk.pki.cmp.client import CONTENT_TYPE
from kiosk.pki.cmp.server import CmpResponder

MAX_MESSAGE = 256 * 1024  # a CMP request with one certificate request is a few kilobytes


class _Handler(BaseHTTPRequestHandler):
    server_version = "cert-kiosk-ca"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 30
    responder: CmpResponder

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_MESSAGE:
            self._plain(411 if not length.isdigit() else 413, "a CMP message with a Content-Length")
            return
        body = self.rfile.read(int(length))
        if self.headers.get_content_type() != CONTENT_TYPE:
            self._plain(415, f"Content-Type must be {CONTENT_TYPE}")
            return
        answer = self.responder.handle(body)
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self) -> None:  # noqa: N802
        self._plain(405, "POST a CMP message (RFC 6712)")

    def _plain(self, status: int, text: str) -> None:
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass  # the responder logs its own events; a line per request would only repeat them


class CmpHttpServer:
    """The responder behind a threading HTTP server on (host, port); port 0 picks a free one."""

    def __init__(self, responder: CmpResponder, host: str = "127.0.0.1", port: int = 0):
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the CA answers on a loopback address only, not {host}")
        self.responder = responder
        handler = type("Handler", (_Handler,), {"responder": responder})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def serve_forever(self) -> None:
        logs.event("ca.listening", url=self.url)
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> "CmpHttpServer":
        self._thread = threading.Thread(target=self.serve_forever, name="cmp-responder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
