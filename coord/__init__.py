"""Coord: coordination of the departmental fight against trafficking in human beings."""

import os

# Piccolo finds the apps and the engine through this module (`coord.app` assembles them).
os.environ.setdefault("PICCOLO_CONF", "coord.app.piccolo_conf")
