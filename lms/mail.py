"""Outgoing mail: SMTP when configured, otherwise one file per message in the outbox folder."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from lms.db import now_utc
from lms.models import new_token

log = logging.getLogger(__name__)


def outbox_dir(config: Mapping[str, Any]) -> Path:
    """Where messages are written when no SMTP server is configured."""
    return Path(config["LMS_DATA_DIR"]) / "outbox"


def build_message(config: Mapping[str, Any], to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the configured sender."""
    message = EmailMessage()
    message["From"] = config["LMS_MAIL_FROM"]
    message["To"] = to
    # A subject is one line: a newline in a cohort's or a person's name would break the header.
    message["Subject"] = " ".join(subject.split())
    message.set_content(body)
    return message


def send(config: Mapping[str, Any], to: str, subject: str, body: str) -> None:
    """Deliver one message by SMTP, or write it to the outbox and log where."""
    message = build_message(config, to, subject, body)
    if config["LMS_SMTP_HOST"]:
        with smtplib.SMTP(config["LMS_SMTP_HOST"], config["LMS_SMTP_PORT"], timeout=30) as smtp:
            if config["LMS_SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["LMS_SMTP_USER"]:
                smtp.login(config["LMS_SMTP_USER"], config["LMS_SMTP_PASSWORD"])
            smtp.send_message(message)
        return
    folder = outbox_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{now_utc():%Y%m%dT%H%M%S}-{new_token()[:8]}.eml"
    # Written under a temporary name and renamed, so a reader never sees half a message.
    partial = folder / f".{name}.partial"
    partial.write_bytes(bytes(message))
    os.replace(partial, folder / name)
    log.info("mail to %s written to the outbox as %s", to, name)
