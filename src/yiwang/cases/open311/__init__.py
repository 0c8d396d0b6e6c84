"""Open311 GeoReport v2 (JSON) at /open311/v2/: services, requests, tokens and the discovery document."""
