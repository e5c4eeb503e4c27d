"""``make bench``: the fleet's speed and size against the targets of issue 13,
each beside a floor measured in the same run.

``python -m mindlinks_dev.bench`` (``cli.main``) measures in-process request
costs (``asgi``), process start-up, imports and memory (``processes``) and a
real fleet from outside (``outside``: start, idle, activation, the edge),
prints one table (``rows``), writes it to ``docs/performance.md`` with its
figures in ``docs/bench.json``, and regenerates ``docs/capacity.md`` from them
(``capacity``).
"""
