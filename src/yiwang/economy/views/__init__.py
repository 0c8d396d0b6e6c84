"""Economy pages, in two modules: ``ledger`` (overview, village statement, income ledger, tiers,
forecast) and ``registry`` (projects, pooled projects and dividends, pairings, enterprises)."""
