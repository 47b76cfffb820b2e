"""Signed, expiring, revocable links for people without an account (partners)."""
