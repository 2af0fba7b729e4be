"""The web face of the kiosk: the app factory, the customer's, staff's and technician's views, the
forms, and the server-side sessions. The only package that imports Flask."""

from __future__ import annotations

from flask import Flask

from kiosk.settings import PROJECT_ROOT, Settings


def create_app(config: Settings | dict | None = None) -> Flask:
    """The app factory. `config` is a `Settings`, or a dict of overrides: lower-case keys are
    `Settings` fields (``{"data_dir": tmp_path}``), upper-case keys go to Flask's config
    (``KIOSK_CLOCK``: a `kiosk.clock.ManualClock` for tests of timeouts)."""
    from kiosk import logs
    from kiosk.web import base, sessions, shared
    from kiosk.web.views import customer, drives, health, receipt, staff
    from kiosk.web.views import pki as pki_views
    from kiosk.web.views import speech as speech_views
    from kiosk.wiring import build

    overrides = dict(config or {}) if not isinstance(config, Settings) else {}
    settings = config if isinstance(config, Settings) else Settings.from_env()
    settings = settings.with_overrides(**{k: v for k, v in overrides.items() if k.islower()})
    settings.validate()
    logs.setup(settings.log_level)

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=64 * 1024,
        MAX_FORM_MEMORY_SIZE=16 * 1024,
        MAX_FORM_PARTS=100,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.config.update({k: v for k, v in overrides.items() if k.isupper()})

    kiosk = build(settings, clock=app.config.get("KIOSK_CLOCK")).start()
    app.extensions["kiosk"] = kiosk
    sessions.init_app(app, settings, kiosk)
    base.init_app(app)
    shared.init_app(app)
    for blueprint in (customer.bp, receipt.bp, health.bp, staff.bp, drives.bp, pki_views.bp, speech_views.bp):
        app.register_blueprint(blueprint)
    return app


def prepare_to_serve(app: Flask) -> None:
    """Before the first customer: the start-up sweep, and the janitor that ends idle sessions."""
    from kiosk.web.sessions import session_store

    app.extensions["kiosk"].prepare_to_serve()
    with app.app_context():
        session_store().start_janitor()
