"""ML risk scores: features, loan anomaly, default risk, drift, artifacts."""

__all__: list[str] = []
