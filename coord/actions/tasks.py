"""What the scheduler calls for action items: the owners' weekly digest (built in `partner`,
next to the links it hands out)."""

from coord.actions.partner import queue_owner_digests

__all__ = ["queue_owner_digests"]
