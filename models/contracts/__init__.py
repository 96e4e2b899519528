"""The wire contracts (JSON Schema 2020-12), shipped with the package; see ``models.contract``."""
