"""Cross-cutting pieces: settings, database, errors, validation, clock."""
