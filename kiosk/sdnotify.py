"""sd_notify(3) without a library: one datagram to $NOTIFY_SOCKET. A leaf, so that both of the kiosk's
processes (the app, kiosk/server.py, and the embedded CA's responder, `kiosk ca serve`) tell systemd when
they really answer (`Type=notify`) rather than when they were merely started."""

from __future__ import annotations

import os
import socket

# what a process started by `kiosk serve` must not inherit: systemd's socket is meant for the main process
NOTIFY_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


def sd_notify(message: str) -> bool:
    """Send one sd_notify(3) datagram; a no-op (False) when not started by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(address)
        sock.sendall(message.encode())
    return True
