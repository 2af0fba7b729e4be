"""The baseline for bench.startup: a bare Flask app behind the same waitress server, telling the same
NOTIFY_SOCKET READY=1 the moment it listens, as `kiosk serve` does (kiosk/server.py)."""

from __future__ import annotations

import sys

from flask import Flask
from waitress import create_server

from kiosk.server import sd_notify


def main() -> None:
    app = Flask("bare")

    @app.get("/")
    def hello():
        return "<!doctype html><title>bare</title><p>bare</p>"

    server = create_server(app, host="127.0.0.1", port=int(sys.argv[1]), threads=16, ident="bench")
    sd_notify("READY=1")
    server.run()


if __name__ == "__main__":
    main()
