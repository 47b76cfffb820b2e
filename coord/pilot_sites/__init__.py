"""Pilot sites: départements designated by a national plan to pilot a scheme."""
