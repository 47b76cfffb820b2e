"""Structured logs: one JSON object per line, ready for a log collector, without link tokens.

The token of a partner's link or calendar feed is its only credential, and it travels in the URL
(`/r/invitation/<token>`, `/r/calendrier/<token>.ics`): anyone reading the access logs could open
the page or subscribe to the feed. `redact` masks it, and `install_redaction` applies it to every log
record the process creates (uvicorn's access lines, Litestar's, Coord's own, their tracebacks),
whatever handler writes them: it wraps the record factory, so even a handler configured elsewhere
(or pytest's log capture) only ever sees `/r/invitation/***`. A `?token=` (or `access_token=`,
`jeton=`) query parameter is masked too, and so is the secret of an account's invitation or password
reset link (`/invitation/<secret>`, `/mot-de-passe/<secret>`), which signs its holder in.

The same record factory stamps each record created while a request is served with that request's id
(`request_id`, from `coord.ops.request_context`): a JSON line carries it as an extra field.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import IO, Any

from coord.ops.request_context import current_request_id

STANDARD_ATTRIBUTES = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
MASK = "***"

# /r/<kind>/<token>[.ics], also percent-encoded (a path quoted in a query string: ?suivant=%2Fr%2F...).
_LINK_PATH = re.compile(
    r"(?P<prefix>(?:/|%2f)r(?:/|%2f)[\w.-]+(?:/|%2f))(?P<token>[^/\s?#&\"'<>]+?)(?P<suffix>\.ics)?"
    r"(?=%2f|[/\s?#&\"'<>]|$)",
    re.IGNORECASE,
)
# An account's invitation or password reset link: /invitation/<secret>, /mot-de-passe/<secret>.
_ACCOUNT_LINK = re.compile(
    r"(?P<prefix>(?:/|%2f)(?:invitation|mot-de-passe)(?:/|%2f))(?P<token>[^/\s?#&\"'<>]+)", re.IGNORECASE
)
_TOKEN_PARAM = re.compile(
    r"(?P<prefix>(?:^|[?&;\s])(?:access_token|token|jeton)=)(?P<token>[^&;\s#\"'<>]+)", re.IGNORECASE
)
_MARKERS = ("r/", "%2f", "%2F", "=", "invitation/", "passe/")


def redact(text: str) -> str:
    """`text` with the tokens of partners' links and feeds, and `token=` parameters, masked."""
    if not any(marker in text for marker in _MARKERS):
        return text  # the common case, without running the patterns
    text = _LINK_PATH.sub(lambda m: m["prefix"] + MASK + (m["suffix"] or ""), text)
    text = _ACCOUNT_LINK.sub(lambda m: m["prefix"] + MASK, text)
    return _TOKEN_PARAM.sub(lambda m: m["prefix"] + MASK, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value)  # an object logged with %s (a URL, a request): replaced only if it holds a token
    masked = redact(text)
    return value if masked == text else masked


def redact_record(record: logging.LogRecord) -> None:
    """Mask tokens in the message, its arguments and the traceback of `record`, in place."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, dict):
        record.args = {key: _redact_value(value) for key, value in record.args.items()}
    elif record.args:
        record.args = tuple(_redact_value(value) for value in record.args)
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        masked = redact(text)
        if masked != text:
            record.exc_text = masked  # formatters use it instead of formatting the traceback again


def install_redaction() -> None:
    """Redact every log record of this process from its creation, and stamp it with the id of the
    request being served, if any (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts_tokens", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redact_record(record)
        request_id = current_request_id()
        if request_id is not None:
            record.request_id = request_id
        return record

    factory.redacts_tokens = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Extra fields are set after the record factory ran: masked here.
        entry.update({k: _redact_value(v) for k, v in record.__dict__.items() if k not in STANDARD_ATTRIBUTES})
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


QUIET_LOGGERS = ("apscheduler", "mail.log")


def configure_logging(level: str = "INFO", *, json_lines: bool = True, stream: IO[str] | None = None) -> None:
    install_redaction()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own configuration, if one ever ran in this process, gives its loggers handlers and
    # levels of their own and stops them propagating: bring their lines back to the one JSON handler.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_logger = logging.getLogger(name)
        server_logger.handlers[:] = []
        server_logger.propagate = True
        server_logger.setLevel(logging.NOTSET)
    # Every scheduler run and every SMTP command of the demo's mail sink would be a line: keep their
    # warnings and errors only.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
