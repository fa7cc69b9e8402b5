"""Configuration: production refuses weak secrets and demo accounts."""

from __future__ import annotations

import pytest

from kb import create_app


@pytest.mark.parametrize("key", [None, "", "dev", "changeme", "short-key"])
def test_production_refuses_a_weak_secret_key(tmp_path, key):
    with pytest.raises(RuntimeError, match="KB_SECRET_KEY"):
        create_app("production", {"SECRET_KEY": key,
                                  "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_production_refuses_demo_accounts(tmp_path):
    from flask_migrate import upgrade

    from tests.conftest import ROOT

    app = create_app("production", {"SECRET_KEY": "x" * 40,
                                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                                    "KB_INDEX_DIR": str(tmp_path / "index")})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        upgrade(directory=str(ROOT / "kb" / "migrations"))
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "refused" in result.output


def test_unknown_environment_name(monkeypatch):
    monkeypatch.setenv("KB_ENV", "staging-typo")
    with pytest.raises(RuntimeError, match="KB_ENV"):
        create_app()


@pytest.mark.sqlite_only
def test_sqlite_uses_wal(app):
    from sqlalchemy import text

    from kb.extensions import db

    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
