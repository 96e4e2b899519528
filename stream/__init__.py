"""The worker: Kafka in, findings and alerts out (the only package that imports faust).

Entry points live in their modules so that light users (``stream.broker`` for ``fenghuo
kafka``, ``stream.simulator``) never load Faust: ``stream.app.create_app(settings)`` builds the
worker, ``stream.settings.WorkerSettings`` configures it, ``stream.topics.topic_specs`` lists
its topics. See docs/stream.md.
"""

__all__: list[str] = []
