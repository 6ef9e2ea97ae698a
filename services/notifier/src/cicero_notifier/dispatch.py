"""Several notifier features react to the same event type (a ClientFetchCompleted drives task lists, the
posts reminders cite and the run summaries); the consumer takes one handler per type, so this fans out,
in registration order, inside the one inbox transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from cicero_contracts import Event
from cicero_runtime.consumer import EventConsumer, HandlerContext

E = TypeVar("E", bound=Event)
FeatureHandler = Callable[[Any, HandlerContext], Awaitable[None]]


class Dispatch:
    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[FeatureHandler]] = defaultdict(list)

    def on(self, event_class: type[E], handler: Callable[[E, HandlerContext], Awaitable[None]]) -> None:
        self._handlers[event_class].append(handler)

    def attach(self, consumer: EventConsumer) -> None:
        for event_class, handlers in self._handlers.items():
            consumer.on(event_class)(_fan_out(tuple(handlers)))


def _fan_out(handlers: tuple[FeatureHandler, ...]) -> FeatureHandler:
    if len(handlers) == 1:
        return handlers[0]

    async def handle(event: Event, ctx: HandlerContext) -> None:
        for handler in handlers:
            await handler(event, ctx)

    return handle
