"""Background work infrastructure: the APScheduler wiring, the tick lock and the `coord worker` process.

It runs whatever jobs the composition root hands it (`coord.app.jobs`) and knows none of them.
"""
