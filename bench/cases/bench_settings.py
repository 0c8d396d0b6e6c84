"""Settings of the cases benchmark's server: yiwang.settings (as the environment drives it: run.py sets
YIWANG_ENV=production with keys made at run time) plus the bench-only URLconf that adds the two
ceiling views, and an Open311 post limit high enough for a load test (the product's is 60 a minute
per key, in a per-process cache: a benchmark of that limit would measure 429s)."""
from yiwang.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench_urls"
OPEN311_RATE_LIMIT = 10**9
