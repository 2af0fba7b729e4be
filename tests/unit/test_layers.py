"""The layers the README draws: only `kiosk.web` imports Flask. Every other module of `kiosk` and `hardware`,
found by walking the packages (not listed by hand: a list missed `kiosk.watchdog`, which imported Flask),
loads without it, in a fresh interpreter where nothing else imported it. And `hardware` knows nothing of
`kiosk`."""

import importlib
import pkgutil
import subprocess
import sys

WEB = ("flask", "werkzeug", "flask_wtf")

# import the modules one by one; print the first one after which a package of `forbidden` is loaded
PROBE = """
import importlib, sys
for name in {modules!r}:
    importlib.import_module(name)
    if any(loaded.split(".")[0] in {forbidden!r} for loaded in sys.modules):
        print(name, sorted(m for m in sys.modules if m.split(".")[0] in {forbidden!r})[:3])
        break
"""


def modules_of(package: str, leaving_out: str | None = None) -> list[str]:
    """The package and every module under it (never `__main__`, which runs the CLI)."""
    found = [package]
    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if module.name.endswith("__main__") or (leaving_out and module.name.startswith(leaving_out)):
            continue
        found.append(module.name)
    return found


def first_to_load(modules: list[str], forbidden: tuple[str, ...]) -> str:
    probe = PROBE.format(modules=modules, forbidden=forbidden)
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()


def test_no_module_outside_kiosk_web_loads_flask():
    modules = modules_of("kiosk", leaving_out="kiosk.web") + modules_of("hardware")
    assert len(modules) > 60 and "kiosk.watchdog" in modules and "kiosk.journey.flow" in modules
    assert first_to_load(modules, WEB) == ""


def test_hardware_knows_nothing_of_the_kiosk_package():
    assert first_to_load(modules_of("hardware"), ("kiosk",)) == ""


def test_the_probe_names_a_module_that_loads_flask():
    """The check can fail: kiosk.web itself loads Flask, and is named."""
    assert first_to_load(["kiosk.journey.machine", "kiosk.web"], WEB).startswith("kiosk.web ")
