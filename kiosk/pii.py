"""The one masking helper for personal data: every log line, page and error report goes through it.

Resident numbers keep the birth date and the gender digit (`900101-1******`), accounts the first and last
four digits (`1234-****-5678`), e-mail the first letter and the domain (`h***@example.com`).
"""

from __future__ import annotations

import hashlib
import hmac
import re

_DIGITS = re.compile(r"\D")


def mask_rrn(rrn: str) -> str:
    digits = _DIGITS.sub("", rrn or "")
    if len(digits) < 7:
        return "******-*******"
    return f"{digits[:6]}-{digits[6]}******"


def mask_account(account: str) -> str:
    digits = _DIGITS.sub("", account or "")
    if len(digits) < 8:
        return "****"
    return f"{digits[:4]}-****-{digits[-4:]}"


def mask_email(email: str) -> str:
    local, at, domain = (email or "").partition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_name(name: str) -> str:
    """홍길동 → 홍*동; shown to staff only when they must recognise a customer at the counter."""
    name = name or ""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def customer_key(hash_key: str, rrn: str) -> str:
    """A keyed hash that names a customer in the registry and the audit log, never the resident number."""
    digits = _DIGITS.sub("", rrn)
    return hmac.new(hash_key.encode(), digits.encode(), hashlib.sha256).hexdigest()[:32]


# Field names that must never reach a log line in clear; `kiosk.logs.event` masks or drops them.
MASKERS = {"rrn": mask_rrn, "account": mask_account, "email": mask_email, "name": mask_name}
SECRET_FIELDS = frozenset({"password", "pin", "code", "key", "private_key", "passphrase", "secret"})
