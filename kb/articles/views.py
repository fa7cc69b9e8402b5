"""Home, category and article pages."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
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
)
from kb.core.redirects import current_slug
from kb.core.signals import document_viewed
from kb.models import Article


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
        moved = current_slug("article", Article, slug)
        if moved is None:
            abort(404)
        return redirect(url_for("articles.article", slug=moved), 301)
    if item.archived_at is not None and not current_user.has_role("manager"):
        abort(404)  # archived: out of reach for agents; managers see it to restore it
    rendered = render_version(item.current_version)
    page = render_template(
        "articles/article.html",
        article=item,
        version=item.current_version,
        rendered=rendered,
    )
    document_viewed.send(item, user=current_user, args=request.args)  # a usage log
    return page
