"""Sending email over SMTP (the standard library's smtplib), configured by KB_SMTP_* settings.

One connection per batch: ``with Mailer(settings) as mailer: mailer.send(message)``. Any
failure (refused connection, timeout, a rejected login or recipient) is raised as
``MailError`` with a sentence a person running the command can act on.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr

SECURITY = ("none", "starttls", "ssl")
ADDRESS_MAX = 254  # RFC 5321's limit on a forward path
# A practical check, not RFC 5322: one @, no spaces or control characters (nothing that
# could break out of a header), a dot in the domain.
ADDRESS_RE = re.compile(r"^[^@\s\x00-\x1f\x7f<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


def is_address(value: str | None) -> bool:
    """Whether ``value`` looks like a deliverable email address (name@example.org)."""
    return bool(value) and len(value) <= ADDRESS_MAX and ADDRESS_RE.fullmatch(value) is not None


class MailError(RuntimeError):
    """Mail could not be sent (or the settings cannot work); the message says why."""


class MailNotConfigured(MailError):
    """No SMTP host is set: nothing can be sent."""


@dataclass(frozen=True)
class MailSettings:
    """Where and how to send: read from the app's config by ``from_config``."""

    host: str
    port: int
    security: str
    sender: str
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_config(cls, config) -> MailSettings:
        """The KB_SMTP_* settings, checked; MailNotConfigured without a host, MailError when
        a value cannot work."""
        host = (config.get("KB_SMTP_HOST") or "").strip()
        if not host:
            raise MailNotConfigured("No mail server is configured (set KB_SMTP_HOST).")
        security = (config.get("KB_SMTP_SECURITY") or "none").strip().lower()
        if security not in SECURITY:
            raise MailError(f"KB_SMTP_SECURITY must be one of {', '.join(SECURITY)}, "
                            f"not {security!r}.")
        port = config.get("KB_SMTP_PORT")
        try:
            port = int(port) if port not in (None, "") else DEFAULT_PORTS[security]
        except (TypeError, ValueError):
            raise MailError(f"KB_SMTP_PORT must be a port number, not {port!r}.") from None
        if not 0 < port < 65536:
            raise MailError(f"KB_SMTP_PORT must be a port number, not {port}.")
        sender = (config.get("KB_MAIL_FROM") or "").strip()
        if "@" not in parseaddr(sender)[1]:
            raise MailError(f"KB_MAIL_FROM must be an email address, not {sender!r}.")
        try:
            timeout = float(config.get("KB_SMTP_TIMEOUT") or 30)
        except (TypeError, ValueError):
            raise MailError("KB_SMTP_TIMEOUT must be a number of seconds.") from None
        return cls(host=host, port=port, security=security, sender=sender,
                   username=config.get("KB_SMTP_USERNAME") or None,
                   password=config.get("KB_SMTP_PASSWORD") or None, timeout=timeout)


def message(settings: MailSettings, *, to_name: str, to_address: str, subject: str,
            text: str) -> EmailMessage:
    """A plain-text message from the configured sender, marked as sent automatically."""
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = formataddr((to_name, to_address))
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=parseaddr(settings.sender)[1].rpartition("@")[2])
    # RFC 3834: out-of-office replies and the like should not answer it.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text)
    return mail


class Mailer:
    """An open SMTP connection for one batch of messages."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        settings = self.settings
        where = f"{settings.host}:{settings.port}"
        try:
            if settings.security == "ssl":
                self._smtp = smtplib.SMTP_SSL(settings.host, settings.port,
                                              timeout=settings.timeout,
                                              context=ssl.create_default_context())
            else:
                self._smtp = smtplib.SMTP(settings.host, settings.port,
                                          timeout=settings.timeout)
                if settings.security == "starttls":
                    self._smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                self._smtp.login(settings.username, settings.password or "")
        except (OSError, smtplib.SMTPException) as error:
            self._close()
            raise MailError(f"Could not connect to the mail server {where}: "
                            f"{_describe(error)}") from error
        return self

    def send(self, mail: EmailMessage) -> None:
        """Hand one message to the server; MailError if it is not accepted for everyone."""
        assert self._smtp is not None, "use Mailer as a context manager"
        try:
            refused = self._smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(f"The mail server did not accept the message to {mail['To']}: "
                            f"{_describe(error)}") from error
        if refused:
            raise MailError(f"The mail server refused {', '.join(refused)}.")

    def __exit__(self, *_exc) -> None:
        self._close()

    def _close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (OSError, smtplib.SMTPException):
            self._smtp.close()  # the connection is gone already; nothing more to say
        self._smtp = None


def _describe(error: Exception) -> str:
    """A readable reason: the server's reply for SMTP errors, else the error itself."""
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{error.smtp_code} {text}"
    return str(error) or type(error).__name__
