"""Placeholder page, replaced as the feature is built."""

from __future__ import annotations

from flask import render_template_string

from kb.tools import bp


@bp.route("/hold")
def hold():
    """Placeholder."""
    return render_template_string("{% extends 'base.html' %}{% block content %}<h1>hold</h1>{% endblock %}")
