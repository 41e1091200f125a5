"""Benchmarks of alsona_nb against raw requests, measured in the same run: ``make bench``.

They are not tests (timings do not belong in pytest); ``python -m benchmarks`` prints a table
and keeps the latest in ``benchmarks/RESULTS.md`` with the machine it ran on.
"""
