"""Learner views."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("learner", __name__)


@bp.get("/")
def home():
    return render_template("learner/home.html")
