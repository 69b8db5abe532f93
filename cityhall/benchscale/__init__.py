"""A city-size dataset for benchmarks, built with set-based SQL (`manage.py bench_scale_data`).

At scale 1.0: a million service requests, 200,000 permit applications, 60,000 residents with
50,000 alert subscriptions, 20,000 code cases and two years of KPI roll-ups, all on top of the
demo's reference data (neighborhoods, categories, permit types, staff). Every table is filled by
a few `INSERT ... SELECT ... FROM generate_series(...)` statements, never row by row.

The rows it makes are recorded by id range in `benchscale_range`, and the build itself in
`benchscale_marker`: a second build at the same scale does nothing, a larger scale (or `force`)
deletes exactly those rows (and what hangs off them) and builds again. Demo rows are never
touched, except that the KPI roll-ups are recomputed over everything.
"""

from .dataset import MARKER_TABLE, RANGE_TABLE, Plan, build, built_scale, purge

__all__ = ["MARKER_TABLE", "RANGE_TABLE", "Plan", "build", "built_scale", "purge"]
