"""Placeholder page, replaced as the feature is built."""

from __future__ import annotations

from flask import render_template_string

from kb.callscripts import bp


@bp.route("/")
def index():
    """Placeholder."""
    return render_template_string("{% extends 'base.html' %}{% block content %}<h1>Call scripts</h1>{% endblock %}")
