"""Documents: uploads checked by content type and scanned by ClamAV, stored through one storage interface."""
