"""/pki/crl: the issuing CA's current CRL, the URL written into every certificate's CRL distribution point."""

from __future__ import annotations

from flask import Blueprint, Response

from kiosk.pki.errors import CaError
from kiosk.web.base import current_kiosk

bp = Blueprint("pki", __name__, url_prefix="/pki")


@bp.get("/crl")
def crl():
    try:
        data = current_kiosk().issuance.crl_der()
    except CaError as exc:
        return Response(f"CRL unavailable: {exc}\n", status=503, mimetype="text/plain")
    return Response(data, mimetype="application/pkix-crl", headers={"Cache-Control": "max-age=300"})
