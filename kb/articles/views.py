"""Home, category and article pages."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from kb.articles import bp
from kb.articles.services import (
    ArticleNotFound,
    all_articles,
    articles_in_category,
    categories,
    get_article,
    recently_updated,
    render_version,
    review_due,
)
from kb.core.signals import document_viewed


@bp.route("/")
def home():
    """The search box, the categories and what changed lately."""
    return render_template(
        "articles/home.html", categories=categories(), recent=recently_updated()
    )


@bp.route("/articles/")
def index():
    """Every article, A to Z."""
    return render_template("articles/index.html", articles=all_articles())


@bp.route("/categories/<slug>")
def category(slug: str):
    """The articles in one category."""
    found = articles_in_category(slug)
    if found is None:
        abort(404)
    name, articles = found
    return render_template("articles/category.html", name=name, articles=articles)


@bp.route("/articles/<slug>")
def article(slug: str):
    """One article: quick answer, body, contents, owner and review dates."""
    try:
        item = get_article(slug)
    except ArticleNotFound:
        abort(404)
    rendered = render_version(item.current_version)
    page = render_template(
        "articles/article.html",
        article=item,
        version=item.current_version,
        rendered=rendered,
        review_due=review_due(item),
    )
    document_viewed.send(item, user=current_user, args=request.args)  # a usage log
    return page
