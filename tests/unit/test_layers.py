"""The layers the README draws: only `kiosk.web` imports Flask. Every other module of `kiosk` and `hardware`,
found by walking the packages (not listed by hand: a list missed the watchdog, which imported Flask),
loads without it, in a fresh interpreter where nothing else imported it; and none imports it anywhere in
its source, not even inside a function, where loading the module would not show it. The one module that
reaches for `kiosk.web` is `kiosk.cli`, whose `kiosk serve` builds the app. And `hardware` knows nothing of
`kiosk`."""

import ast
import importlib
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

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


def outside_the_web() -> list[str]:
    return modules_of("kiosk", leaving_out="kiosk.web") + modules_of("hardware")


def first_to_load(modules: list[str], forbidden: tuple[str, ...]) -> str:
    probe = PROBE.format(modules=modules, forbidden=forbidden)
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()


def imported_by(module: str) -> set[str]:
    """Every module the source of `module` names in an import statement, wherever the statement is."""
    source = Path(importlib.util.find_spec(module).origin).read_text(encoding="utf-8")
    named = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            named.add(node.module)
    return named


def test_no_module_outside_kiosk_web_loads_flask():
    modules = outside_the_web()
    assert len(modules) > 60 and "kiosk.health.watchdog" in modules and "kiosk.journey.flow" in modules
    assert first_to_load(modules, WEB) == ""


def test_no_module_outside_kiosk_web_imports_flask_even_inside_a_function():
    importers = {module: sorted(name for name in imported_by(module) if name.split(".")[0] in WEB)
                 for module in outside_the_web()}
    assert {module: names for module, names in importers.items() if names} == {}


def test_only_the_command_line_reaches_for_the_web_to_serve_it():
    reaching = [module for module in outside_the_web()
                if any(name == "kiosk.web" or name.startswith("kiosk.web.") for name in imported_by(module))]
    assert reaching == ["kiosk.cli"]


def test_hardware_knows_nothing_of_the_kiosk_package():
    assert first_to_load(modules_of("hardware"), ("kiosk",)) == ""


def test_the_probes_name_a_module_that_uses_flask():
    """The checks can fail: kiosk.web itself loads Flask, and is named; its source imports it."""
    assert first_to_load(["kiosk.journey.machine", "kiosk.web"], WEB).startswith("kiosk.web ")
    assert "flask" in imported_by("kiosk.web.base")
