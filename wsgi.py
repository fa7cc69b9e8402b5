"""Entry point for gunicorn: ``gunicorn wsgi:app``."""

from kb import create_app

app = create_app()
