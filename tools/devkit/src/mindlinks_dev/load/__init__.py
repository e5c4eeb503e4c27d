"""``make load``: a bounded load test of the local fleet through its edge.

Two passes: the product's defences as ``make run`` configures them (they
hold), then raised (the fleet itself measured with a stepped ramp), and
activation after the last signature measured alone and under concurrency.
Entry point: ``python -m mindlinks_dev.load`` (``cli.main``).
"""
