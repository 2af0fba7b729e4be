"""The server side of bench.latency: the kiosk, and beside it a bare Flask endpoint, behind the same
waitress server, so that the baseline pays exactly the same server and network costs."""

from __future__ import annotations

import os
import sys

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware


def bare_app() -> Flask:
    bare = Flask("bare")

    @bare.get("/")
    def hello():
        return "<!doctype html><title>bare</title><p>bare</p>"

    return bare


def main() -> None:
    from waitress import serve

    from kiosk.identity.demo import seed_demo_customers
    from kiosk.web import create_app, prepare_to_serve

    kiosk = create_app({"data_dir": sys.argv[1], "log_level": "warning"})
    services = kiosk.extensions["kiosk"]
    seed_demo_customers(services.store, services.settings.customer_hash_key)
    prepare_to_serve(kiosk)
    app = DispatcherMiddleware(kiosk, {"/bare": bare_app()})
    serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=int(os.environ.get("KIOSK_THREADS", "16")),
          ident="bench", _quiet=True)


if __name__ == "__main__":
    main()
