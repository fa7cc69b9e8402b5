"""Forms for the editor, approval and settings (every one CSRF-protected)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice


class ChangeFields:
    """What every editor form carries: the text, the version it is based on, the change."""

    markdown = TextAreaField("Text (Markdown)")
    base_version = HiddenField()
    change_summary = StringField("Change summary (required to publish)")
    material = BooleanField("Material change: agents must re-acknowledge")
    requires_approval = BooleanField(
        "Requires approval: a second manager approves each change before it is published")


class ArticleForm(ChangeFields, FlaskForm):
    """An article's front matter and body."""

    title = StringField("Title")
    slug = StringField("Slug (the address: lower-case letters, digits and hyphens)")
    category = StringField("Category")
    tags = StringField("Tags (separated by commas)")
    summary = TextAreaField("Quick answer")
    owner = StringField("Owner")
    review_cycle_months = StringField("Review cycle (months)", default="12")
    requires_signoff = BooleanField(
        "Requires sign-off: agents sign to confirm they have read each version")
    # Who signs and how long they have (kb/signoffs). The team list is filled in by the
    # view; a team gone since the page loaded is refused with a message, not a 400.
    signoff_role = SelectField("Who signs", choices=[
        SelectChoice("agent", "Agents"), SelectChoice("manager", "Managers"),
        SelectChoice("admin", "Admins"), SelectChoice("all", "Everyone")], default="agent")
    signoff_team_id = SelectField("Team that signs", choices=[SelectChoice("", "Every team")],
                                  default="", validate_choice=False)
    signoff_window_days = StringField("Days to sign each material change", default="14")
    signoff_questions = TextAreaField("Comprehension questions (optional)")


class ScriptForm(ChangeFields, FlaskForm):
    """A call script's source (front matter and steps, as in its file) and its slug."""

    markdown = TextAreaField("Script source (front matter and steps, as in the file)")
    slug = StringField("Slug (the address: lower-case letters, digits and hyphens)")


ARTICLE_META = ("title", "slug", "category", "tags", "summary", "owner",
                "review_cycle_months", "requires_signoff", "signoff_role",
                "signoff_team_id", "signoff_window_days", "signoff_questions",
                "requires_approval")
SCRIPT_META = ("slug", "requires_approval")


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token is checked."""


class SendBackForm(FlaskForm):
    """Return a pending change to its author."""

    comment = TextAreaField("What needs changing (the author sees this)")


class CategoryApprovalForm(FlaskForm):
    """Turn approval on or off for one category."""

    category = HiddenField()
    requires_approval = HiddenField()
