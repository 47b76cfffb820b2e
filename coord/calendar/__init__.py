"""The calendar feature: feeds for agents and partners, and iMIP replies received by mail or upload.

The iCalendar format itself (building and parsing) is the `coord.ics` library.
"""
