"""Placeholder page, replaced as the feature is built."""

from __future__ import annotations

from flask import render_template_string

from kb.tools import bp


@bp.route("/phonetic")
def phonetic():
    """Placeholder."""
    return render_template_string("{% extends 'base.html' %}{% block content %}<h1>phonetic</h1>{% endblock %}")
