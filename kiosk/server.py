"""Serve the app through waitress (one process, a pool of threads, long-lived SSE streams) and tell
systemd when it is ready (`Type=notify`)."""

from __future__ import annotations

import os
import socket

from kiosk import logs


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


def serve(app, host: str, port: int, threads: int) -> None:
    from waitress import create_server

    # create_server binds and listens before returning: from here on connections queue, so READY=1 is true
    server = create_server(app, host=host, port=port, threads=threads, ident="cert-kiosk",
                           channel_timeout=300, connection_limit=200)
    logs.event("server.ready", host=host, port=server.effective_port, threads=threads)
    for hook in app.extensions.get("kiosk_on_ready", []):
        hook()
    sd_notify(f"READY=1\nSTATUS=serving on {host}:{server.effective_port}")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        sd_notify("STOPPING=1")
        logs.event("server.stopped")
        server.close()
