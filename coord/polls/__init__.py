"""Date polls (« Trouver une date »): candidate slots for a draft meeting, answered by the invitees from signed links."""
