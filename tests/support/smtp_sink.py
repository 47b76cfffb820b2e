"""The loopback SMTP sink for tests: the same implementation as the demo mode's."""

from coord.mail.sink import CapturedEnvelope, CapturedMail, SmtpSink

__all__ = ["CapturedEnvelope", "CapturedMail", "SmtpSink"]
