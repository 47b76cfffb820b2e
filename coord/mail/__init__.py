"""Outgoing mail: MIME building (`message`), SMTP sending (`smtp`) and the demo sink (`sink`)."""
