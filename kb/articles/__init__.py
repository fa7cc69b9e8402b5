"""Articles: the knowledge base's pages, their versions and the content import."""

from flask import Blueprint

bp = Blueprint("articles", __name__)

from kb.articles import views  # noqa: E402,F401  (registers the routes on bp)
