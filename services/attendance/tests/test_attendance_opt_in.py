"""``notifwa#on`` / ``notifwa#off`` recorded in the directory (DOMAIN §5 "Reminders"): one PersonnelUpdated
per real change, nothing on a repeat, unknown people and overtaken commands dropped without a retry loop."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cicero_attendance.directory_store import apply_personnel
from cicero_attendance.journal import JournalEntry
from cicero_attendance.opt_in import is_current
from cicero_attendance.personnel_import import parse_personnel_csv
from cicero_attendance.projector import Projector
from cicero_contracts.events.directory import ClientRegistered, ClientType, PersonnelRegistered
from cicero_contracts.events.notifier import ReminderOptInChanged
from cicero_runtime.consumer import EventConsumer, Outcome
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import appended_events, event_envelope_bytes

AT = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(("last", "changed_at", "expected"), [
    (None, AT, True),
    (AT, AT + timedelta(seconds=1), True),
    (AT, AT, True),                          # the same second: arrival order decides
    (AT, AT - timedelta(seconds=1), False),  # overtaken by a newer command
])
def test_a_command_counts_unless_a_newer_one_was_applied(last: datetime | None, changed_at: datetime,
                                                         expected: bool) -> None:
    assert is_current(last, changed_at) is expected


async def seed(service: Service) -> None:
    events = [ClientRegistered(client_id="POLRES_A", name="Polres A", client_type=ClientType.ORG),
              PersonnelRegistered(user_id="1001", name="Budi", client_id="POLRES_A", whatsapp="6281234567890",
                                  instagram="budi")]
    async with service.pool.acquire() as conn, conn.transaction():
        await Projector().apply_live(conn, service.store, [JournalEntry(uuid.uuid4(), AT, e) for e in events])


def commands(service: Service) -> EventConsumer:
    return service.make_consumer("attendance-commands")


def opt(opt_in: bool, at: datetime = AT, user_id: str = "1001") -> bytes:
    return event_envelope_bytes(ReminderOptInChanged(user_id=user_id, opt_in=opt_in, changed_at=at))


async def updates(service: Service) -> list[dict[str, Any]]:
    return [e.payload for e in await appended_events(service) if e.event_type == "PersonnelUpdated"]


async def opted_in(service: Service) -> bool:
    value: bool = await service.pool.fetchval("SELECT wa_reminder_opt_in FROM personnel WHERE user_id = '1001'")
    return value


async def test_an_opt_in_publishes_personnel_updated_once(attendance: Service) -> None:
    await seed(attendance)
    consumer = commands(attendance)
    assert await consumer.process(opt(True)) == Outcome.HANDLED
    (update,) = await updates(attendance)
    assert update["user_id"] == "1001" and update["wa_reminder_opt_in"] is True
    assert (update["name"], update["whatsapp"], update["instagram"]) == ("Budi", "6281234567890", "budi")
    assert await opted_in(attendance)
    assert await attendance.pool.fetchval("SELECT count(*) FROM journal WHERE event_type = 'PersonnelUpdated'") == 1

    assert await consumer.process(opt(True, AT + timedelta(minutes=1))) == Outcome.HANDLED  # already on
    assert len(await updates(attendance)) == 1

    assert await consumer.process(opt(False, AT + timedelta(minutes=2))) == Outcome.HANDLED
    assert [u["wa_reminder_opt_in"] for u in await updates(attendance)] == [True, False]
    assert not await opted_in(attendance)


async def test_an_overtaken_command_does_not_undo_a_newer_one(attendance: Service) -> None:
    await seed(attendance)
    consumer = commands(attendance)
    assert await consumer.process(opt(True, AT + timedelta(minutes=5))) == Outcome.HANDLED
    assert await consumer.process(opt(False, AT)) == Outcome.HANDLED  # sent earlier, delivered late
    assert await opted_in(attendance)
    assert [u["wa_reminder_opt_in"] for u in await updates(attendance)] == [True]


async def test_an_unknown_person_is_ignored_without_a_retry(attendance: Service) -> None:
    await seed(attendance)
    assert await commands(attendance).process(opt(True, user_id="999")) == Outcome.HANDLED
    assert await updates(attendance) == []
    assert await attendance.pool.fetchval("SELECT count(*) FROM personnel WHERE user_id = '999'") == 0


async def test_a_reimported_sheet_with_a_blank_opt_in_keeps_the_persons_own_choice(attendance: Service) -> None:
    """The admins' sheet rarely tracks who sent ``notifwa#on``: a blank cell must not undo it, a filled one sets."""
    await seed(attendance)
    assert await commands(attendance).process(opt(True)) == Outcome.HANDLED
    header = "user_id,name,client_id,instagram,whatsapp,wa_reminder_opt_in\n"

    async def reimport(opt_in_cell: str) -> None:
        result = parse_personnel_csv(header + f"1001,Budi,POLRES_A,budi,081234567890,{opt_in_cell}\n")
        assert result.errors == []
        async with attendance.pool.acquire() as conn:
            await apply_personnel(conn, attendance.store, Projector(), result.personnel, "test",
                                  keep_opt_in=result.opt_in_unset)

    await reimport("")
    assert await opted_in(attendance)
    assert [u["wa_reminder_opt_in"] for u in await updates(attendance)] == [True], "nothing changed, no event"
    await reimport("tidak")
    assert not await opted_in(attendance)
    assert [u["wa_reminder_opt_in"] for u in await updates(attendance)] == [True, False]
