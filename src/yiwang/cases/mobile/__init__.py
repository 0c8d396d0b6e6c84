"""Phone screens: the grid worker's report and "my cases", the resident's report, follow-up and rating."""
