"""Grid API: workers, pairings and visits within scope; writes go through ``grid.actions``."""
