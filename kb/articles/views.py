"""Home, category and article pages."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from kb.articles import bp, desk
from kb.articles.forms import PinForm
from kb.articles.services import (
    ArticleNotFound,
    all_articles,
    articles_in_category,
    categories,
    content_date,
    get_article,
    recently_updated,
    render_version,
)
from kb.core.errors import Invalid
from kb.core.permissions import role_required
from kb.core.redirects import current_slug
from kb.core.signals import document_viewed
from kb.extensions import db
from kb.models import Article

NOT_SAVED = "Nothing was changed: the database could not be written just now. Please try again."


@bp.route("/")
def home():
    """The search box, the person's pinned and recently viewed articles, the categories and
    what changed lately."""
    return render_template(
        "articles/home.html", categories=categories(), recent=recently_updated(),
        pins=desk.pinned(current_user), viewed=desk.recently_viewed(current_user),
        pin_form=PinForm(formdata=None, back="home"), max_pins=desk.MAX_PINS,
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
        changed=content_date(item.current_version),
        rendered=rendered,
        pinned=desk.is_pinned(current_user, item),
        pin_form=PinForm(formdata=None),
    )
    document_viewed.send(item, user=current_user, args=request.args)  # a usage log
    return page


# --- Pins: a person's own articles at the top of their home page -----------------------


def _wants_json() -> bool:
    """True for the in-place submit of pins.js (the forms work without it)."""
    return request.headers.get("X-Requested-With") == "fetch"


def _pin_answer(item: Article, form: PinForm, ok: bool, message: str, status: int = 200):
    """The outcome: JSON for pins.js, else a message and back to the page it came from."""
    if _wants_json():
        return jsonify(ok=ok, pinned=desk.is_pinned(current_user, item),
                       message=message), status
    flash(message, "success" if ok else "error")
    if form.back.data == "home":
        return redirect(url_for("articles.home") + "#pinned-heading")
    return redirect(url_for("articles.article", slug=item.slug))


def _pin_change(slug: str, change):
    """Check the form, find the article, make the change, commit and answer."""
    form = PinForm()
    if not form.validate_on_submit():  # only the CSRF token can fail here
        abort(400)
    try:
        item = get_article(slug)
    except ArticleNotFound:
        abort(404)
    if item.archived_at is not None:
        abort(404)
    try:
        message = change(item)
        db.session.commit()
    except Invalid as error:
        db.session.rollback()
        return _pin_answer(item, form, False, error.message, 400)
    except IntegrityError:  # the same pin sent twice at once: it is pinned
        db.session.rollback()
        return _pin_answer(item, form, True, f"“{item.title}” is on your home page.")
    except SQLAlchemyError:
        db.session.rollback()
        return _pin_answer(item, form, False, NOT_SAVED, 503)
    return _pin_answer(item, form, True, message)


@bp.post("/articles/<slug>/pin")
@role_required("agent")
def pin(slug: str):
    """Pin an article to the signed-in person's home page."""
    def change(item: Article) -> str:
        desk.pin(current_user, item)
        return f"Pinned “{item.title}” to your home page."
    return _pin_change(slug, change)


@bp.post("/articles/<slug>/unpin")
@role_required("agent")
def unpin(slug: str):
    """Take an article off the signed-in person's home page."""
    def change(item: Article) -> str:
        desk.unpin(current_user, item)
        return f"Unpinned “{item.title}” from your home page."
    return _pin_change(slug, change)


@bp.post("/articles/<slug>/pin/<direction>")
@role_required("agent")
def move_pin(slug: str, direction: str):
    """Move a pinned article one place up or down the home page's list."""
    if direction not in {"up", "down"}:
        abort(404)

    def change(item: Article) -> str:
        moved = desk.move_pin(current_user, item, direction)
        if not moved:
            return f"“{item.title}” is already {'first' if direction == 'up' else 'last'}."
        return f"Moved “{item.title}” {direction}."
    return _pin_change(slug, change)
