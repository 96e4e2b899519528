"""One router per resource: alerts, cases, institutions, stats, live stream, silences, health."""
