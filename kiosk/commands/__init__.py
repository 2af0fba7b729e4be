"""Each area's commands live in a module here and are found at start-up.

A module may define:
- `register(group)`: add click commands to the `kiosk` group;
- `initialise(settings, store, demo, echo)`: a step of `kiosk init` (idempotent), run in module-name order.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from kiosk.settings import ConfigurationError, Settings


def load_settings() -> Settings:
    """The settings from the environment, or the command's error message naming what is wrong."""
    try:
        return Settings.from_env()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc


def area_modules():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        yield importlib.import_module(f"{__name__}.{info.name}")
