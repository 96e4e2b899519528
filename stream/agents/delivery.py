"""deliver_alerts: drains the alert store's outbox to webhooks, e-mail and Alertmanager.

The alert pipeline writes one outbox row per receiver in the same transaction as the alert
change; this task sends them with retries and backoff, so a receiver that is down loses
nothing. Several workers may run it on one store (claims are leases), and ``fenghuo alerts
deliver`` can run it apart instead (``deliver = false`` here).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import faust

from alerts import RoutingTree
from alerts.notify import DeliveryConfig, DeliveryMetrics, OutboxDispatcher
from stream.agents._context import WorkerContext
from stream.settings import resolve

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """The worker's dispatcher, built on the store the alert pipeline opened and migrated."""

    ctx: WorkerContext
    config: DeliveryConfig
    routing: RoutingTree
    metrics: DeliveryMetrics

    @classmethod
    def from_context(cls, ctx: WorkerContext) -> Delivery:
        """Read and check the routing and delivery files: a bad one stops start-up."""
        routing = RoutingTree.from_file(resolve(ctx.settings.alerts.routing_file))
        config = DeliveryConfig.from_file(resolve(ctx.settings.alerts.delivery_file))
        config.check_receivers(routing.receivers)
        return cls(ctx, config, routing, DeliveryMetrics(ctx.metrics.registry, routing.receivers))

    async def dispatcher(self) -> OutboxDispatcher:
        engine = await self.ctx.alerts.store_engine()
        return OutboxDispatcher(engine, self.config, routing=self.routing, metrics=self.metrics)

    async def run(self, stop: asyncio.Event) -> None:
        dispatcher = await self.dispatcher()
        try:
            await dispatcher.run(stop)
        finally:
            await dispatcher.aclose()


def register(app: faust.App, ctx: WorkerContext) -> None:
    if not ctx.settings.deliver:
        log.info("outbox delivery is off in this worker (deliver = false)")
        return
    delivery = Delivery.from_context(ctx)
    ctx.delivery = delivery

    @app.task
    async def deliver_alerts() -> None:
        await delivery.run(asyncio.Event())  # ends when the worker cancels its tasks
