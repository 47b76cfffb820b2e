"""Notifications for agents: what partners did, in the app and in a daily digest."""
