"""Economy REST API: projects, the income ledger, pooled projects with their dividend runs, pairings and
enterprises, read within scope; every write goes through ``economy.actions``."""
