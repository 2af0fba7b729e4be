"""RAUC, the A/B updater of the appliance (appliance/rauc/system.conf), as the `Updater` the staff console
uses: `rauc info` reads a bundle and checks its signature against the system's keyring (run by the kiosk's
own user: nothing is mounted, nothing written), and RAUC's service installs it over D-Bus
(`de.pengutronix.rauc.Installer`; the appliance's D-Bus policy lets the kiosk's user call InstallBundle
and read the Installer's progress, and nothing else: appliance/system/rauc-policy.conf). The restart is
logind's Reboot, which the appliance's polkit rule allows the kiosk's user (appliance/system/)."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
from contextlib import closing
from pathlib import Path

from kiosk.updates.offer import Inspection, UpdaterUnavailable

RAUC = "de.pengutronix.rauc"
LOGIND = "org.freedesktop.login1"
# a verity bundle's signature is read from its end: seconds, even from a slow stick
INSPECT_TIMEOUT = 120
DBUS_TIMEOUT = 30.0
SIGNER = re.compile(r"Verified (?:inline|detached) signature by '([^']*)'")


class Rauc:
    def __init__(self, system_conf: Path):
        """Reads `system_conf` (RAUC's system.conf): the compatible and the keyring the bundles must match.
        Raises UpdaterUnavailable when it cannot be read."""
        parser = configparser.ConfigParser(interpolation=None)
        try:
            with system_conf.open(encoding="utf-8") as conf:
                parser.read_file(conf)
            self.compatible = parser["system"]["compatible"]
            self.keyring = system_conf.parent / parser["keyring"]["path"]
        except (OSError, KeyError, configparser.Error) as exc:
            raise UpdaterUnavailable(f"RAUC's system configuration {system_conf}: {exc!r}") from exc

    def inspect(self, path: Path) -> Inspection:
        try:
            ran = subprocess.run(["rauc", "info", f"--keyring={self.keyring}", "--output-format=json", str(path)],
                                 capture_output=True, text=True, timeout=INSPECT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Inspection(readable=False, signature_ok=False, detail=f"rauc info: {exc}")
        said = [line for line in ran.stderr.splitlines() if line.strip()]
        if ran.returncode != 0:
            last = said[-1] if said else f"rauc info exited {ran.returncode}"
            # RAUC read the bundle as far as its signature, which did not verify against the keyring
            refused = "signature" in last.lower() and "verif" in last.lower()
            return Inspection(readable=refused, signature_ok=False, detail=last[:300])
        try:
            info = json.loads(ran.stdout)
        except ValueError:
            return Inspection(readable=False, signature_ok=False, detail="rauc info: not JSON")
        signer = next((found[1] for line in said if (found := SIGNER.search(line))), "")
        return Inspection(readable=True, signature_ok=True, compatible=str(info.get("compatible") or ""),
                          version=str(info.get("version") or ""), signer=signer)

    def rejected_versions(self) -> set[str]:
        """The bundle versions of slots marked bad (a health gate refused them): `rauc status` as root."""
        try:
            ran = subprocess.run(["rauc", "status", "--detailed", "--output-format=json"], capture_output=True,
                                 text=True, timeout=INSPECT_TIMEOUT, check=True)
            slots = [slot for entry in json.loads(ran.stdout)["slots"] for slot in entry.values()]
        except (OSError, subprocess.SubprocessError, ValueError, KeyError, AttributeError) as exc:
            raise UpdaterUnavailable(f"rauc status: {exc}") from exc
        return {((slot.get("slot_status") or {}).get("bundle") or {}).get("version") or ""
                for slot in slots if slot.get("boot_status") == "bad"} - {""}

    def install(self, path: Path) -> None:
        from jeepney import new_method_call

        self._call(new_method_call(self._installer(), "InstallBundle", "sa{sv}", (str(path), {})))

    def operation(self) -> tuple[str, int, str, str]:
        from jeepney import Properties

        (values,) = self._call(Properties(self._installer()).get_all())
        percent, message, _depth = values.get("Progress", ("(isi)", (0, "", 0)))[1]
        return (values.get("Operation", ("s", ""))[1], int(percent), message,
                values.get("LastError", ("s", ""))[1])

    def reboot(self) -> None:
        from jeepney import DBusAddress, new_method_call

        manager = DBusAddress("/org/freedesktop/login1", bus_name=LOGIND, interface=f"{LOGIND}.Manager")
        self._call(new_method_call(manager, "Reboot", "b", (False,)))

    @staticmethod
    def _installer():
        from jeepney import DBusAddress

        return DBusAddress("/", bus_name=RAUC, interface=f"{RAUC}.Installer")

    @staticmethod
    def _call(message) -> tuple:
        from jeepney import DBusErrorResponse
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import unwrap_msg

        try:
            with closing(open_dbus_connection(bus="SYSTEM")) as connection:
                return unwrap_msg(connection.send_and_get_reply(message, timeout=DBUS_TIMEOUT))
        except DBusErrorResponse as error:
            text = error.data[0] if error.data and isinstance(error.data[0], str) else ""
            raise UpdaterUnavailable(f"{error.name}: {text}") from error
        except (OSError, TimeoutError) as error:
            raise UpdaterUnavailable(f"the system bus: {error}") from error
