"""Date polls (« Trouver une date »): candidate slots for a draft meeting, answered from signed links."""
