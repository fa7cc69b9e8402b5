"""Articles: the knowledge base's pages, their versions and the content import."""

from flask import Blueprint

bp = Blueprint("articles", __name__)

# models: its tables are in the metadata; views: registers the routes on bp.
from kb.articles import models, views  # noqa: E402,F401
