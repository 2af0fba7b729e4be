"""The staff console over real HTTP, as branch staff use it: signing in, and reading what its
시스템 업데이트 section offers (kiosk/updates). Shared by the host's tests and the booted appliance's."""

from __future__ import annotations

import re

from tests.http_customer import Customer


def signed_in_staff(base_url: str, name: str, pin: str) -> Customer:
    """A browser signed in to /staff (cookies and CSRF tokens as a real one keeps them)."""
    staff = Customer(base_url)
    staff.get("/staff/sign-in")
    staff.post("/staff/sign-in", {"name": name, "pin": pin})
    assert staff.url.rstrip("/").endswith("/staff"), f"staff sign-in failed: {staff.status} {staff.url}"
    return staff


def offered_bundles(page: str) -> dict[str, str]:
    """Each bundle file the console lists, with the kiosk's verdict on it."""
    return {name: verdict for verdict, name in
            re.findall(r'<li data-verdict="([a-z_]+)">[^·]*· ([^ <]+\.raucb)', page)}


def install_form(page: str, bundle: str) -> dict[str, str]:
    """The fields of a bundle's 설치 form (only an installable bundle has one)."""
    found = re.search(r'name="drive" value="([^"]+)"><input type="hidden" name="bundle" value="'
                      + re.escape(bundle) + '"', page)
    assert found, f"{bundle} has no 설치 button:\n{page[-3000:]}"
    return {"drive": found[1], "bundle": bundle}
