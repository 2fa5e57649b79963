"""City busiest-hour load test (Locust): ``make loadtest`` or ``python -m bench.loadtest``.

Not a ``make bench`` benchmark (no ``run()`` here): see ``runner.py`` and ``locustfile.py``.
"""
