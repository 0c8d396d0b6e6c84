"""The cases REST API (DRF): cases within scope, intake and every transition; categories read-only."""
