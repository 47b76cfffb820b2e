"""The composition root: the only package that knows every domain.

It assembles the Litestar application (`factory`), the route list (`routes`), the Piccolo apps
(`piccolo_conf`), the scheduler's jobs (`jobs`), the reference data (`reference`), the demo (`demo`)
and the command line (`cli`). Nothing below imports it.
"""

from coord.app.wiring import connect_domains

connect_domains()  # every entry point imports this package first: the seams are always connected
