"""Placeholder page, replaced as the feature is built."""

from __future__ import annotations

from flask import render_template_string

from kb.crisis import bp


@bp.route("/")
def protocol():
    """Placeholder."""
    return render_template_string("{% extends 'base.html' %}{% block content %}<h1>Crisis</h1>{% endblock %}")
