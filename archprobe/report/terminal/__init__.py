"""Terminal views (rich): tables of Results, counters, memory, latency, profiles and checks."""
