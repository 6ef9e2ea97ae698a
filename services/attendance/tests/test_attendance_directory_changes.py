"""Applying personnel, upserts and deactivations: one event per real change, projected by the projector;
a refused change applies nothing. Merging an upsert over the current record is tested pure first."""

from __future__ import annotations

from pathlib import Path

import pytest
from cicero_attendance.client_import import parse_clients_csv
from cicero_attendance.directory_store import (
    DirectoryError,
    InvalidChange,
    Problem,
    apply_clients,
    apply_personnel,
    deactivate_client,
    deactivate_personnel,
    merge_client,
    merge_personnel,
    upsert_client,
    upsert_personnel,
)
from cicero_attendance.personnel_import import parse_personnel_csv
from cicero_attendance.projector import Projector
from cicero_contracts.events.directory import ClientSnapshot, ClientType, PersonnelSnapshot
from cicero_runtime.event_store import RecordedEvent
from cicero_runtime.service import Service
from cicero_runtime.testing.contracts import assert_matches_contract

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PROJECTOR = Projector()
CLIENT = ClientSnapshot(client_id="POLRES_A", name="Polres A", client_type=ClientType.ORG,
                        instagram_username="polres_a", instagram_enabled=False)
PERSON = PersonnelSnapshot(user_id="85010001", name="Budi", client_id="POLRES_DEMO", title="BRIPDA",
                           divisi="SAT LANTAS", roles=["operator"], instagram="budi", whatsapp="6281234567890")


def example_personnel() -> list[PersonnelSnapshot]:
    result = parse_personnel_csv((EXAMPLES / "personnel.csv").read_text(encoding="utf-8"))
    assert result.errors == []
    return result.personnel


async def with_clients(service: Service) -> None:
    clients = parse_clients_csv((EXAMPLES / "clients.csv").read_text(encoding="utf-8")).clients
    async with service.pool.acquire() as conn:
        await apply_clients(conn, service.store, PROJECTOR, clients, "setup")


async def events(service: Service, after: int = 0) -> list[RecordedEvent]:
    async with service.pool.acquire() as conn:
        return await service.store.read_after(conn, after, 1000)


async def event_count(service: Service) -> int:
    count: int = await service.pool.fetchval("SELECT count(*) FROM events")
    return count


async def people(service: Service) -> dict[str, PersonnelSnapshot]:
    rows = await service.pool.fetch("SELECT * FROM personnel ORDER BY user_id")
    return {r["user_id"]: PersonnelSnapshot.model_validate(dict(r)) for r in rows}


# -- merging an upsert (pure) ---------------------------------------------------------------------------


def test_a_client_upsert_changes_only_the_fields_given() -> None:
    merged = merge_client(CLIENT, "POLRES_A", {"region": "Jawa Timur", "active": False})
    assert merged == CLIENT.model_copy(update={"region": "Jawa Timur", "active": False})


def test_a_new_client_needs_name_and_type() -> None:
    with pytest.raises(InvalidChange) as caught:
        merge_client(None, "POLRES_B", {"region": "Jawa Timur"})
    assert caught.value.problems == [
        Problem("POLRES_B", "a new client needs name and client_type", ("name", "client_type"))]
    with pytest.raises(InvalidChange, match="needs client_type"):
        merge_client(None, "POLRES_B", {"name": "Polres B"})
    new = merge_client(None, "POLRES_B", {"name": "Polres B", "client_type": ClientType.DIREKTORAT})
    assert new == ClientSnapshot(client_id="POLRES_B", name="Polres B", client_type=ClientType.DIREKTORAT)


@pytest.mark.parametrize(("current", "changes", "enabled"), [
    (None, {"instagram_username": "polres_b"}, True),  # a new client's first handle turns it on
    (CLIENT.model_copy(update={"instagram_username": None}), {"instagram_username": "x"}, True),
    (CLIENT, {"instagram_username": "polres_a_baru"}, False),  # replaced: the deliberate 'off' stays
    (CLIENT.model_copy(update={"instagram_enabled": True}), {"instagram_username": None}, False),  # cleared
    (CLIENT, {"instagram_username": "x", "instagram_enabled": True}, True),  # said explicitly
    (CLIENT.model_copy(update={"instagram_username": None}), {"instagram_username": "x",
                                                               "instagram_enabled": False}, False),
])
def test_a_handle_given_without_its_flag_sets_the_flag_only_when_the_handle_appears_or_goes(
    current: ClientSnapshot | None, changes: dict[str, object], enabled: bool,
) -> None:
    base = {"name": "Polres", "client_type": ClientType.ORG} if current is None else {}
    assert merge_client(current, "POLRES_A", {**base, **changes}).instagram_enabled is enabled


def test_a_personnel_upsert_changes_only_the_fields_given_and_a_new_person_needs_name_and_client() -> None:
    merged = merge_personnel(PERSON, PERSON.user_id, {"divisi": "SAT BINMAS", "instagram": None})
    assert merged == PERSON.model_copy(update={"divisi": "SAT BINMAS", "instagram": None})
    with pytest.raises(InvalidChange) as caught:
        merge_personnel(None, "85010002", {"title": "AKP"})
    assert caught.value.problems == [
        Problem("85010002", "a new person needs name and client_id", ("name", "client_id"))]
    assert merge_personnel(None, "85010002", {"name": "Andi", "client_id": "POLRES_A"}) == PersonnelSnapshot(
        user_id="85010002", name="Andi", client_id="POLRES_A")


def test_a_merge_that_breaks_the_contract_is_an_invalid_change() -> None:
    with pytest.raises(InvalidChange, match="name"):
        merge_personnel(PERSON, PERSON.user_id, {"name": ""})


# -- applying personnel -----------------------------------------------------------------------------------


async def test_personnel_are_registered_as_events_and_projected_into_the_table(attendance: Service) -> None:
    await with_clients(attendance)
    before = await event_count(attendance)
    personnel = example_personnel()
    async with attendance.pool.acquire() as conn:
        report = await apply_personnel(conn, attendance.store, PROJECTOR, personnel, "import:p")
    assert report.registered == [p.user_id for p in personnel]
    assert report.updated == [] and report.unchanged == []
    appended = await events(attendance, before)
    assert [(e.event_type, e.stream_id, e.stream_version) for e in appended] == [
        ("PersonnelRegistered", f"personnel:{p.user_id}", 1) for p in personnel]
    assert [e.global_position for e in report.recorded] == [e.global_position for e in appended]
    assert report.last_position == appended[-1].global_position
    for event, person in zip(appended, personnel, strict=True):
        assert_matches_contract(event)
        assert event.payload == person.model_dump(mode="json")
        assert event.metadata["correlation_id"] == "import:p"
    assert await people(attendance) == {p.user_id: p for p in personnel}
    stamps = {r["user_id"]: r["updated_at"] for r in await attendance.pool.fetch(
        "SELECT user_id, updated_at FROM personnel")}
    assert stamps == {e.payload["user_id"]: e.occurred_at for e in appended}
    journalled = await attendance.pool.fetchval(
        "SELECT count(*) FROM journal WHERE event_type = 'PersonnelRegistered'")
    assert journalled == len(personnel)


async def test_an_identical_reimport_appends_no_event(attendance: Service) -> None:
    await with_clients(attendance)
    async with attendance.pool.acquire() as conn:
        await apply_personnel(conn, attendance.store, PROJECTOR, example_personnel(), "import:1")
        before = await event_count(attendance)
        rows_before = await conn.fetch("SELECT * FROM personnel ORDER BY user_id")
        report = await apply_personnel(conn, attendance.store, PROJECTOR, example_personnel(), "import:2")
        rows_after = await conn.fetch("SELECT * FROM personnel ORDER BY user_id")
    assert report.unchanged == [p.user_id for p in example_personnel()]
    assert report.registered == [] and report.updated == [] and report.recorded == []
    assert report.last_position == 0
    assert await event_count(attendance) == before
    assert rows_before == rows_after


async def test_a_changed_person_is_one_personnel_updated(attendance: Service) -> None:
    await with_clients(attendance)
    personnel = example_personnel()
    async with attendance.pool.acquire() as conn:
        await apply_personnel(conn, attendance.store, PROJECTOR, personnel, "import:1")
        before = await event_count(attendance)
        changed = personnel[1].model_copy(update={"divisi": "SAT BINMAS", "roles": ["operator", "bidhumas"]})
        report = await apply_personnel(conn, attendance.store, PROJECTOR,
                                       [personnel[0], changed, *personnel[2:]], "import:2")
    assert report.updated == [changed.user_id] and len(report.unchanged) == len(personnel) - 1
    (event,) = await events(attendance, before)
    assert (event.event_type, event.stream_id, event.stream_version) == (
        "PersonnelUpdated", f"personnel:{changed.user_id}", 2)
    assert_matches_contract(event)
    assert (await people(attendance))[changed.user_id] == changed


async def test_an_unknown_client_refuses_the_whole_change(attendance: Service) -> None:
    await with_clients(attendance)
    before = await event_count(attendance)
    good = PERSON
    stray = PERSON.model_copy(update={"user_id": "85010002", "client_id": "POLRES_X", "instagram": "andi"})
    async with attendance.pool.acquire() as conn:
        with pytest.raises(DirectoryError) as caught:
            await apply_personnel(conn, attendance.store, PROJECTOR, [good, stray], "import:x")
    assert caught.value.problems == [Problem("85010002", "client_id POLRES_X is not a known client", ("client_id",))]
    assert await event_count(attendance) == before
    assert await people(attendance) == {}


async def test_a_handle_held_by_another_active_person_is_refused_but_may_move_within_one_change(
    attendance: Service,
) -> None:
    await with_clients(attendance)
    other = PERSON.model_copy(update={"user_id": "85010002", "name": "Andi", "instagram": "andi"})
    async with attendance.pool.acquire() as conn:
        await apply_personnel(conn, attendance.store, PROJECTOR, [PERSON, other], "import:1")
        before = await event_count(attendance)
        thief = other.model_copy(update={"instagram": "budi"})
        with pytest.raises(DirectoryError) as caught:
            await apply_personnel(conn, attendance.store, PROJECTOR, [thief], "import:2")
        assert caught.value.problems == [
            Problem("85010002", "instagram 'budi' already belongs to user_id 85010001 (Budi)", ("instagram",))]
        assert await event_count(attendance) == before
        # the same handle moving from one person to the other in one change is fine
        swapped = [PERSON.model_copy(update={"instagram": "andi"}), thief]
        report = await apply_personnel(conn, attendance.store, PROJECTOR, swapped, "import:3")
        assert report.updated == ["85010001", "85010002"]
        # an inactive person's handle ('andi', now 85010001's) can go to someone new; an active one's cannot
        await deactivate_personnel(conn, attendance.store, PROJECTOR, "85010001", "deactivate")
        newcomer = PERSON.model_copy(update={"user_id": "85010003", "instagram": "andi"})
        with pytest.raises(DirectoryError, match="'budi' already belongs to user_id 85010002"):
            await apply_personnel(conn, attendance.store, PROJECTOR,
                                  [newcomer.model_copy(update={"instagram": "budi"})], "import:4")
        report = await apply_personnel(conn, attendance.store, PROJECTOR, [newcomer], "import:5")
    assert report.registered == ["85010003"]


# -- upserts --------------------------------------------------------------------------------------------


async def test_personnel_upsert_merges_over_the_stored_record(attendance: Service) -> None:
    await with_clients(attendance)
    async with attendance.pool.acquire() as conn:
        await apply_personnel(conn, attendance.store, PROJECTOR, [PERSON], "import:1")
        report = await upsert_personnel(conn, attendance.store, PROJECTOR, PERSON.user_id,
                                        {"jabatan": "BA SAT LANTAS", "wa_reminder_opt_in": True}, "upsert:1")
        again = await upsert_personnel(conn, attendance.store, PROJECTOR, PERSON.user_id,
                                       {"jabatan": "BA SAT LANTAS"}, "upsert:2")
        with pytest.raises(InvalidChange):
            await upsert_personnel(conn, attendance.store, PROJECTOR, "85010009", {"title": "AKP"}, "upsert:3")
        with pytest.raises(DirectoryError, match="POLRES_X is not a known client"):
            await upsert_personnel(conn, attendance.store, PROJECTOR, PERSON.user_id, {"client_id": "POLRES_X"},
                                   "upsert:4")
    assert report.updated == [PERSON.user_id]
    assert again.unchanged == [PERSON.user_id] and again.recorded == []
    assert (await people(attendance)) == {PERSON.user_id: PERSON.model_copy(
        update={"jabatan": "BA SAT LANTAS", "wa_reminder_opt_in": True})}
    last = (await events(attendance))[-1]
    assert (last.event_type, last.payload["jabatan"], last.payload["name"]) == ("PersonnelUpdated", "BA SAT LANTAS",
                                                                                 "Budi")


async def test_client_upsert_registers_then_updates(attendance: Service) -> None:
    async with attendance.pool.acquire() as conn:
        new = await upsert_client(conn, attendance.store, PROJECTOR, "POLRES_B",
                                  {"name": "Polres B", "client_type": ClientType.ORG, "tiktok_username": "b_tt"},
                                  "upsert:1")
        changed = await upsert_client(conn, attendance.store, PROJECTOR, "POLRES_B", {"region": "Jawa Tengah"},
                                      "upsert:2")
    assert new.registered == ["POLRES_B"] and changed.updated == ["POLRES_B"]
    row = await attendance.pool.fetchrow("SELECT * FROM clients WHERE client_id = 'POLRES_B'")
    assert row is not None
    assert ClientSnapshot.model_validate(dict(row)) == ClientSnapshot(
        client_id="POLRES_B", name="Polres B", client_type=ClientType.ORG, tiktok_username="b_tt",
        tiktok_enabled=True, region="Jawa Tengah")
    assert [(e.event_type, e.stream_version) for e in await events(attendance)] == [
        ("ClientRegistered", 1), ("ClientUpdated", 2)]


# -- deactivation ---------------------------------------------------------------------------------------


async def test_deactivating_a_person_once_publishes_once(attendance: Service) -> None:
    await with_clients(attendance)
    async with attendance.pool.acquire() as conn:
        await apply_personnel(conn, attendance.store, PROJECTOR, [PERSON], "import:1")
        before = await event_count(attendance)
        first = await deactivate_personnel(conn, attendance.store, PROJECTOR, PERSON.user_id, "deactivate:1")
        second = await deactivate_personnel(conn, attendance.store, PROJECTOR, PERSON.user_id, "deactivate:2")
        with pytest.raises(DirectoryError) as caught:
            await deactivate_personnel(conn, attendance.store, PROJECTOR, "99999999", "deactivate:3")
    assert first.deactivated and first.last_position == first.recorded[-1].global_position
    assert not second.deactivated and second.recorded == [] and second.last_position == 0
    assert caught.value.problems == [Problem("99999999", "no such person")]
    (event,) = await events(attendance, before)
    assert event.event_type == "PersonnelDeactivated" and event.stream_id == f"personnel:{PERSON.user_id}"
    assert event.payload == {"user_id": PERSON.user_id, "client_id": "POLRES_DEMO"}
    assert_matches_contract(event)
    row = await attendance.pool.fetchrow("SELECT active, updated_at, name FROM personnel")
    assert row is not None
    assert (row["active"], row["updated_at"], row["name"]) == (False, event.occurred_at, "Budi")


async def test_deactivating_a_client_keeps_its_reason_and_is_not_repeated(attendance: Service) -> None:
    await with_clients(attendance)
    before = await event_count(attendance)
    async with attendance.pool.acquire() as conn:
        first = await deactivate_client(conn, attendance.store, PROJECTOR, "POLRES_CONTOH", "digabung", "d:1")
        second = await deactivate_client(conn, attendance.store, PROJECTOR, "POLRES_CONTOH", None, "d:2")
        with pytest.raises(DirectoryError, match="POLRES_X: no such client"):
            await deactivate_client(conn, attendance.store, PROJECTOR, "POLRES_X", None, "d:3")
    assert first.deactivated and not second.deactivated
    (event,) = await events(attendance, before)
    assert (event.event_type, event.stream_id, event.stream_version) == (
        "ClientDeactivated", "client:POLRES_CONTOH", 2)
    assert event.payload == {"client_id": "POLRES_CONTOH", "reason": "digabung"}
    actives = {r["client_id"]: r["active"] for r in await attendance.pool.fetch("SELECT * FROM clients")}
    assert actives == {"POLRES_DEMO": True, "POLRES_CONTOH": False}
