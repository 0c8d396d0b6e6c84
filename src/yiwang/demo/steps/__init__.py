"""The demo's steps, one module per capability; importing this package registers them all."""
from . import accounts, cases, economy, exchange, grid, people, regions  # noqa: F401
