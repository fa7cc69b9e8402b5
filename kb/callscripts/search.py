"""Call scripts as search sees them: the script provider registered with kb.search.providers."""

from __future__ import annotations

from collections.abc import Iterator

from flask import url_for
from sqlalchemy.orm import joinedload

from kb.content.render import markdown_to_text
from kb.extensions import db
from kb.models import CallScript, CallScriptVersion
from kb.search import providers
from kb.search.documents import Document


class ScriptProvider:
    """Lists, builds and links call-script documents, and places them below their articles."""

    # Scripts share the index with articles and may share a slug with one (the crisis
    # protocol is both), so their index key carries a prefix.
    label = "Call scripts"
    key_prefix = "script:"

    def fingerprints(self) -> dict[str, str]:
        """slug -> fingerprint for every script with a current version."""
        rows = db.session.execute(
            db.select(CallScript, CallScriptVersion.sha256).join(
                CallScriptVersion, CallScript.current_version_id == CallScriptVersion.id
            ).where(CallScript.archived_at.is_(None))
        )
        return {script.slug: _fingerprint(script, sha) for script, sha in rows}

    def watermark(self) -> tuple:
        """Count, newest update, newest version and version-id sum of the published scripts."""
        return tuple(db.session.execute(
            db.select(db.func.count(CallScript.id), db.func.max(CallScript.updated_at),
                      db.func.max(CallScript.current_version_id),
                      # Any current version changing moves the sum, whatever order
                      # concurrent publishes on several hosts commit in.
                      db.func.sum(CallScript.current_version_id))
            .where(CallScript.current_version_id.is_not(None), CallScript.archived_at.is_(None))
        ).one())

    def document(self, slug: str) -> Document | None:
        """The search document of one script's current version."""
        script = db.session.scalar(
            db.select(CallScript)
            .options(joinedload(CallScript.current_version))
            .filter_by(slug=slug)
        )
        if script is None or script.current_version is None or script.archived_at:
            return None
        return document_for_script(script)

    def documents(self) -> Iterator[Document]:
        """Every published script, oldest first."""
        scripts = db.session.scalars(
            db.select(CallScript)
            .options(joinedload(CallScript.current_version))
            .where(CallScript.current_version_id.is_not(None), CallScript.archived_at.is_(None))
            .order_by(CallScript.id)
        ).all()
        return (document_for_script(s) for s in scripts)

    def count(self) -> int:
        """How many scripts have a current version."""
        return db.session.scalar(
            db.select(db.func.count(CallScript.id))
            .where(CallScript.current_version_id.is_not(None), CallScript.archived_at.is_(None))
        ) or 0

    def url(self, slug: str) -> str:
        """The script player."""
        return url_for("callscripts.start", slug=slug)

    def follows(self, slugs: list[str]) -> dict[str, set[tuple[str, str]]]:
        """Each script sits just below the first article it cites that also matched.

        The article is the procedure and the script is built on it, so the article is
        read first and the script is one line further down.
        """
        return {
            slug: {("article", cited) for cited in cited_slugs or []}
            for slug, cited_slugs in db.session.execute(
                db.select(CallScript.slug, CallScriptVersion.cited_slugs)
                .join(CallScriptVersion, CallScript.current_version_id == CallScriptVersion.id)
                .where(CallScript.slug.in_(slugs))
            )
        }


def _fingerprint(script: CallScript, version_sha: str) -> str:
    """The fingerprint of a script at one version."""
    return providers.fingerprint(version_sha, script.title, script.summary,
                                 script.category, script.tags)


def document_for_script(script: CallScript) -> Document:
    """The search document for a call script's current version."""
    from kb.callscripts.services import definition

    version = script.current_version
    parsed = definition(version)
    parts = [parsed.intro]
    for step in parsed.steps.values():
        parts += [step.title, step.say, step.alerts, step.guidance]
        parts += [choice.label for choice in step.choices]
    body = markdown_to_text("\n\n".join(p for p in parts if p))
    return Document(
        slug=script.slug,
        kind="script",
        title=script.title,
        summary=script.summary,
        tags=list(script.tags),
        category=script.category,
        body=body,
        sha256=_fingerprint(script, version.sha256),
        updated_at=script.updated_at,
    )


def register() -> None:
    """Make call scripts searchable (called at app creation)."""
    providers.register("script", ScriptProvider())
