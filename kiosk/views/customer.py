"""The customer's screens. Thin: parse the form, ask the journey, render the step."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from kiosk.web import LANGUAGES

bp = Blueprint("customer", __name__)


@bp.get("/")
def attract():
    return render_template("customer/attract.html")


@bp.post("/language")
def language():
    lang = request.form.get("lang", "ko")
    session["lang"] = lang if lang in LANGUAGES else "ko"
    return redirect(request.form.get("next") or url_for("customer.attract"), code=303)
