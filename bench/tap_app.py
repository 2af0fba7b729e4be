"""The server side of bench.tap: the kiosk and, behind the same waitress server, the floor — a bare
endpoint that answers every request under /floor/<name>/ with one fixed file, read once and kept in
memory, so that the floor pays the same server, network and browser costs and nothing else.

    python -m bench.tap_app DATA_DIR PORT

The bench writes the floor's files into DATA_DIR/floor/<name>/ (page.html, fragment.html) before its
first request: a step's page captured from the kiosk, and the next step's #screen alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from werkzeug.middleware.dispatcher import DispatcherMiddleware


class Floor:
    """GET …/page answers the captured page; any other request answers the fixed fragment."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.cache: dict[str, bytes] = {}

    def body(self, name: str, kind: str) -> bytes:
        key = f"{name}/{kind}"
        if key not in self.cache:
            self.cache[key] = (self.directory / name / f"{kind}.html").read_bytes()
        return self.cache[key]

    def __call__(self, environ, start_response):
        name, _, rest = environ.get("PATH_INFO", "").strip("/").partition("/")
        kind = "page" if rest == "page" and environ["REQUEST_METHOD"] == "GET" else "fragment"
        try:
            body = self.body(name, kind)
        except OSError:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such floor"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                                  ("Cache-Control", "no-store")])
        return [body]


def main() -> None:
    from waitress import serve

    from kiosk.identity.demo import seed_demo_customers
    from kiosk.web import create_app, prepare_to_serve

    data_dir = Path(sys.argv[1])
    kiosk = create_app({"data_dir": data_dir, "log_level": "warning"})
    services = kiosk.extensions["kiosk"]
    seed_demo_customers(services.store, services.settings.customer_hash_key)
    prepare_to_serve(kiosk)
    app = DispatcherMiddleware(kiosk, {"/floor": Floor(data_dir / "floor")})
    serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=int(os.environ.get("KIOSK_THREADS", "16")),
          ident="bench", _quiet=True)


if __name__ == "__main__":
    main()
