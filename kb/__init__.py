"""Frontline KB: knowledge base, call scripts and sign-off tracking for contact centres."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from config import CONFIGS, Config

# Secret keys that must never protect a production site.
WEAK_SECRET_KEYS = {"", "dev", "demo", "secret", "changeme", "change-me", "please-change-me"}
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(
    config: str | type[Config] | None = None, overrides: dict[str, Any] | None = None
) -> Flask:
    """Build the Flask app: configuration, extensions, blueprints, CLI, error handlers."""
    app = Flask(__name__, instance_path=os.environ.get("KB_INSTANCE_DIR") or None)
    _load_config(app, config, overrides or {})
    _trust_proxies(app)
    _init_extensions(app)
    _register_converters(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_hooks(app)
    _register_template_helpers(app)
    return app


def _load_config(app: Flask, config: str | type[Config] | None, overrides: dict) -> None:
    if config is None or isinstance(config, str):
        name = config or os.environ.get("KB_ENV", "development")
        if name not in CONFIGS:
            raise RuntimeError(f"KB_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
        config = CONFIGS[name]
    app.config.from_object(config)
    app.config.update(overrides)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    defaults = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'kb.sqlite'}",
        "KB_INDEX_DIR": str(instance / "index"),
        "KB_ARTICLES_DIR": str(PROJECT_ROOT / "articles"),
        "KB_SCRIPTS_DIR": str(PROJECT_ROOT / "scripts"),
        "KB_SYNONYMS_FILE": str(Path(__file__).parent / "search" / "synonyms.txt"),
    }
    for key, value in defaults.items():
        if not app.config.get(key):
            app.config[key] = value

    if app.config["ENV_NAME"] == "production":
        key = app.config.get("SECRET_KEY") or ""
        if key.lower() in WEAK_SECRET_KEYS or len(key) < 32:
            raise RuntimeError(
                "KB_SECRET_KEY must be set to a random value of at least 32 characters in "
                "production (e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
            )
    elif not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)


def _trust_proxies(app: Flask) -> None:
    """Behind KB_PROXY_HOPS reverse proxies, take the client's address, scheme, host and
    path prefix from the headers those proxies set (and only from theirs)."""
    hops = int(app.config.get("KB_PROXY_HOPS") or 0)
    if hops < 0:
        raise RuntimeError(f"KB_PROXY_HOPS must be 0 or more, not {hops}")
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)


def _instance_secret(instance: Path) -> str:
    """A random key kept in the instance folder, so sessions survive restarts locally."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _init_extensions(app: Flask) -> None:
    from kb import database
    from kb.auth.services import init_login
    from kb.extensions import csrf, db, limiter, migrate
    from kb.search.services import init_search

    db.init_app(app)
    database.init_sqlite_pragmas()
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    init_login(app)
    init_search(app)
    _register_search_providers()


def _register_search_providers() -> None:
    from kb.articles.search import register as register_articles
    from kb.callscripts.search import register as register_scripts

    # Order matters: a rebuild indexes articles first, and kind filters list them first.
    register_articles()
    register_scripts()


def _register_converters(app: Flask) -> None:
    from kb import bounds

    bounds.register(app)


def _register_blueprints(app: Flask) -> None:
    from kb.admin import bp as admin_bp
    from kb.analytics import bp as analytics_bp
    from kb.api import bp as api_bp
    from kb.articles import bp as articles_bp
    from kb.auth import bp as auth_bp
    from kb.callscripts import bp as callscripts_bp
    from kb.crisis import bp as crisis_bp
    from kb.feedback import bp as feedback_bp
    from kb.history import bp as history_bp
    from kb.induction import bp as induction_bp
    from kb.publishing import bp as publishing_bp
    from kb.reviews import bp as reviews_bp
    from kb.search import bp as search_bp
    from kb.signoffs import bp as signoffs_bp
    from kb.tools import bp as tools_bp
    from kb.users import bp as users_bp

    for blueprint in (
        auth_bp, articles_bp, search_bp, callscripts_bp, tools_bp, crisis_bp, admin_bp,
        history_bp, reviews_bp, feedback_bp, analytics_bp, publishing_bp, users_bp, signoffs_bp,
        induction_bp,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(api_bp, url_prefix="/api")


def _register_cli(app: Flask) -> None:
    from kb.cli import register

    register(app)


def _register_hooks(app: Flask) -> None:
    from kb import errors, health, security

    errors.register(app)
    security.register(app)
    health.register(app)


def _register_template_helpers(app: Flask) -> None:
    from kb.articles.services import category_slug

    app.add_template_filter(category_slug, "category_slug")

    @app.template_filter("dateformat")
    def dateformat(value) -> str:
        """A date as people write it here: 26 November 2026."""
        return f"{value.day} {value:%B %Y}" if value else ""

    @app.template_filter("datetimeformat")
    def datetimeformat(value) -> str:
        """A time as people say it here: Monday 23 November 2026 at 14:30."""
        return f"{value:%A} {value.day} {value:%B %Y} at {value:%H:%M}" if value else ""

    @app.template_filter("capitalize_first")
    def capitalize_first(value: str) -> str:
        """Capitalise the first letter only (Jinja's capitalize lowers the rest)."""
        return value[:1].upper() + value[1:]

    @app.template_filter("rule_text")
    def rule_text(standard) -> str:
        """A response standard's rule in words."""
        from kb.tools.duedates.services import as_rule

        return as_rule(standard).describe()
