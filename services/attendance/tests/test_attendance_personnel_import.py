"""Parsing and validating a personnel CSV (DOMAIN §1): every column's accepted and refused forms, line
numbers, and repeats across rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cicero_attendance.csv_rows import RowError
from cicero_attendance.personnel_import import PersonnelImportResult, parse_personnel_csv
from cicero_contracts.events.directory import PersonnelSnapshot

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "personnel.csv"
HEADER = ("user_id,name,title,divisi,jabatan,client_id,roles,instagram,tiktok,whatsapp,email,"
          "active,exempt,wa_reminder_opt_in")
COLUMNS = HEADER.split(",")
GOOD = "85010001,Budi Santoso,BRIPDA,SAT LANTAS,BA SAT LANTAS,POLRES_A,operator,budi,budi_tt,081234567890,b@x.id,,,"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


def row(**cells: str) -> str:
    """A good row with some cells replaced; the other columns keep GOOD's values."""
    values = dict(zip(COLUMNS, GOOD.split(","), strict=True))
    unknown = set(cells) - set(values)
    assert not unknown, unknown
    values.update(cells)
    return ",".join(values[c] for c in COLUMNS)


def only(result: PersonnelImportResult) -> PersonnelSnapshot:
    assert result.errors == [], result.errors
    (person,) = result.personnel
    return person


def one_error(text: str) -> RowError:
    result = parse_personnel_csv(text)
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


# -- the example file -------------------------------------------------------------------------------------


def test_the_example_file_parses_without_errors_or_warnings() -> None:
    result = parse_personnel_csv(EXAMPLE.read_text(encoding="utf-8"))
    assert result.errors == [] and result.warnings == []
    people = {p.user_id: p for p in result.personnel}
    assert len(people) == 11
    assert result.lines["85010001"] == 2 and result.lines["88090010"] == 12
    kapolres = people["85010001"]
    assert kapolres.exempt and kapolres.instagram is None and kapolres.title == "AKBP"
    agus = people["87020002"]
    assert agus.instagram == "agus_pratama" and agus.tiktok == "agus_pratama"  # profile link and @handle
    assert agus.whatsapp == "6281234560002" and agus.wa_reminder_opt_in
    siti = people["92040004"]
    assert siti.name == "Siti Rahma, S.H." and siti.roles == ["operator", "ditbinmas"]
    assert siti.email == "siti.rahma@example.id"
    assert people["96050005"].tiktok == "budi.santoso"  # tiktok.com/@…?lang=id
    assert people["90030003"].whatsapp == "6281234560003"  # +62 812 3456 0003
    assert people["198501012010011008"].title == "PENATA"  # a NIP written in groups
    assert people["97100011"].active is False
    assert people["89070007"].instagram is None  # the person without instagram
    assert {p.client_id for p in people.values()} == {"POLRES_DEMO", "POLRES_CONTOH"}
    assert {p.divisi for p in people.values()} >= {"BAG OPS", "SAT LANTAS", "SI HUMAS", "POLSEK KOTA"}


def test_the_example_handles_are_among_the_simulator_demo_engagement_for_some_people_only() -> None:
    demo = json.loads((EXAMPLE.parents[1] / "fakes" / "rapidapi-sim" / "data" / "demo.json").read_text("utf-8"))
    engaged = {u for account in demo["instagram"] for post in account["posts"] for u in post["likers"]}
    people = parse_personnel_csv(EXAMPLE.read_text(encoding="utf-8")).personnel
    handles = [p.instagram for p in people if p.active and not p.exempt]
    assert any(h in engaged for h in handles)  # complete or partial
    assert any(h is not None and h not in engaged for h in handles)  # none
    assert None in handles  # no username


# -- defaults and each column ------------------------------------------------------------------------------


def test_a_minimal_file_takes_the_defaults() -> None:
    person = only(parse_personnel_csv("user_id,name,client_id\n85010001, Budi Santoso ,polres_a\n"))
    assert person == PersonnelSnapshot(user_id="85010001", name="Budi Santoso", client_id="POLRES_A")
    assert person.active is True and person.exempt is False and person.wa_reminder_opt_in is False
    assert person.roles == [] and person.instagram is None and person.title is None


@pytest.mark.parametrize(("cell", "expected"), [
    ("85010001", "85010001"),
    (" 8501 0001 ", "85010001"),
    ("19850101 201001 1 008", "198501012010011008"),
    ("9" * 32, "9" * 32),
])
def test_user_id_forms(cell: str, expected: str) -> None:
    assert only(parse_personnel_csv(csv_text(row(user_id=cell)))).user_id == expected


@pytest.mark.parametrize("cell", ["85.010.001", "8.5E+07", "NRP85010001", "85010001-1", "9" * 33])
def test_user_id_that_is_not_digits_is_refused(cell: str) -> None:
    error = one_error(csv_text(row(user_id=cell)))
    assert error.line == 2
    assert error.reason == f"user_id: {cell!r} is not an NRP/NIP (digits only, at most 32)"


@pytest.mark.parametrize(("cell", "expected"), [
    ("POLRES_A", "POLRES_A"), ("polres_a", "POLRES_A"), (" Ditbinmas ", "DITBINMAS"), ("P1", "P1"),
])
def test_client_id_forms(cell: str, expected: str) -> None:
    assert only(parse_personnel_csv(csv_text(row(client_id=cell)))).client_id == expected


@pytest.mark.parametrize("cell", ["POLRES-A", "POLRES A", "P", "POLRÉS"])
def test_client_id_with_other_characters_is_refused(cell: str) -> None:
    assert one_error(csv_text(row(client_id=cell))).reason.startswith(f"client_id: {cell!r} is not a client id")


@pytest.mark.parametrize(("cell", "expected"), [
    ("", []),
    ("operator", ["operator"]),
    ('"Operator; DITBINMAS  bidhumas,operator"', ["operator", "ditbinmas", "bidhumas"]),
    ('"a_1,b_2"', ["a_1", "b_2"]),
])
def test_roles_are_split_lower_cased_and_deduplicated(cell: str, expected: list[str]) -> None:
    assert only(parse_personnel_csv(csv_text(row(roles=cell)))).roles == expected


@pytest.mark.parametrize(("cell", "bad"), [("op-erator", "op-erator"), ('"operator, sat.lantas"', "sat.lantas")])
def test_a_role_with_other_characters_is_refused(cell: str, bad: str) -> None:
    assert one_error(csv_text(row(roles=cell))).reason == f"roles: {bad!r} is not a role (letters, digits and _ only)"


@pytest.mark.parametrize(("cell", "expected"), [
    ("Budi.Santoso", "budi.santoso"),
    ("@budi_santoso", "budi_santoso"),
    ("https://www.instagram.com/budi.santoso/", "budi.santoso"),
    ("instagram.com/u/Budi.Santoso?hl=id", "budi.santoso"),
    ("", None),
])
def test_instagram_forms(cell: str, expected: str | None) -> None:
    assert only(parse_personnel_csv(csv_text(row(instagram=cell)))).instagram == expected


@pytest.mark.parametrize("cell", ["budi santoso", "budi!", "https://www.instagram.com/p/C9demo0815a/",
                                  "https://www.tiktok.com/@budi", "a" * 31])
def test_bad_instagram_is_refused_naming_the_column(cell: str) -> None:
    assert one_error(csv_text(row(instagram=cell))).reason.startswith(f"instagram: {cell!r} is not a")


@pytest.mark.parametrize(("cell", "expected"), [
    ("@Budi_TT", "budi_tt"), ("https://www.tiktok.com/@budi.tt?lang=id", "budi.tt"), ("", None),
])
def test_tiktok_forms(cell: str, expected: str | None) -> None:
    assert only(parse_personnel_csv(csv_text(row(tiktok=cell)))).tiktok == expected


@pytest.mark.parametrize("cell", ["tiktok.com/budi", "a" * 25, "budi tt"])
def test_bad_tiktok_is_refused_naming_the_column(cell: str) -> None:
    assert one_error(csv_text(row(tiktok=cell))).reason.startswith(f"tiktok: {cell!r} is not a")


@pytest.mark.parametrize(("cell", "expected"), [
    ("081234567890", "6281234567890"),
    ("0812-3456-7890", "6281234567890"),
    ("+62 812 3456 7890", "6281234567890"),
    ("81234567890", "6281234567890"),
    ("6281234567890", "6281234567890"),
    ("", None),
])
def test_whatsapp_forms(cell: str, expected: str | None) -> None:
    assert only(parse_personnel_csv(csv_text(row(whatsapp=cell)))).whatsapp == expected


@pytest.mark.parametrize(("cell", "reason"), [
    ("0812", "whatsapp: '0812' is not a valid Indonesian phone number (too short)"),
    ("812345", "whatsapp: '812345' is not a valid Indonesian phone number"),
    ("+81 90 1234 5678", "whatsapp: '+81 90 1234 5678' is a +81 number, not an Indonesian one (+62)"),
    ("0812 3456 7890 0812", "whatsapp: '0812 3456 7890 0812' is not one phone number"),
])
def test_bad_whatsapp_is_refused_naming_the_column(cell: str, reason: str) -> None:
    assert one_error(csv_text(row(whatsapp=cell))).reason.startswith(reason)


@pytest.mark.parametrize(("cell", "expected"), [
    ("Budi.Santoso@Polri.GO.ID", "budi.santoso@polri.go.id"), (" b@x.id ", "b@x.id"), ("", None),
])
def test_email_forms(cell: str, expected: str | None) -> None:
    assert only(parse_personnel_csv(csv_text(row(email=cell)))).email == expected


@pytest.mark.parametrize("cell", ["budi@", "budi.example.id", "budi@example", "budi @x.id", "a@b@c.id", "b@x."])
def test_bad_email_is_refused_naming_the_column(cell: str) -> None:
    assert one_error(csv_text(row(email=cell))).reason == f"email: {cell!r} is not an e-mail address"


@pytest.mark.parametrize(("column", "default"), [("active", True), ("exempt", False), ("wa_reminder_opt_in", False)])
@pytest.mark.parametrize(("cell", "expected"), [
    ("ya", True), ("Yes", True), ("1", True), ("aktif", True), ("y", True),
    ("tidak", False), ("NO", False), ("0", False), ("nonaktif", False), ("off", False),
])
def test_flag_spellings_and_defaults(column: str, default: bool, cell: str, expected: bool) -> None:
    assert getattr(only(parse_personnel_csv(csv_text(row(**{column: cell})))), column) is expected
    assert getattr(only(parse_personnel_csv(csv_text(row(**{column: ""})))), column) is default


@pytest.mark.parametrize("column", ["active", "exempt", "wa_reminder_opt_in"])
def test_a_flag_that_is_not_yes_or_no_is_refused_naming_the_column(column: str) -> None:
    assert one_error(csv_text(row(**{column: "mungkin"}))).reason == f"{column}: 'mungkin' is not yes/no"


def test_free_text_is_trimmed_with_inner_spaces_collapsed() -> None:
    person = only(parse_personnel_csv(csv_text(row(name="  Budi   Santoso ", title=" AKP ", divisi="SAT   LANTAS",
                                                   jabatan='"KASAT\nLANTAS"'))))
    assert (person.name, person.title, person.divisi, person.jabatan) == (
        "Budi Santoso", "AKP", "SAT LANTAS", "KASAT LANTAS")


def test_blank_optional_text_is_none() -> None:
    person = only(parse_personnel_csv(csv_text(row(title="", divisi="  ", jabatan=""))))
    assert person.title is None and person.divisi is None and person.jabatan is None


@pytest.mark.parametrize("column", ["user_id", "name", "client_id"])
def test_each_required_cell(column: str) -> None:
    assert one_error(csv_text(row(**{column: "  "}))) == RowError(2, f"{column} is required")


def test_missing_required_columns_are_one_error_on_the_header_line() -> None:
    result = parse_personnel_csv("nrp,name,instagram\n85010001,Budi,budi\n")
    assert result.personnel == []
    assert result.errors == [RowError(1, "missing column(s): user_id, client_id")]


def test_columns_in_any_order_and_case_and_unknown_columns_ignored() -> None:
    person = only(parse_personnel_csv(" Client_ID ,keterangan,NAME,User_Id\nPOLRES_A,pindahan,Budi,85010001\n"))
    assert (person.user_id, person.name, person.client_id) == ("85010001", "Budi", "POLRES_A")


def test_opting_in_without_a_number_is_a_warning_not_an_error() -> None:
    result = parse_personnel_csv(csv_text(row(), row(user_id="85010002", instagram="", tiktok="", whatsapp="",
                                                     wa_reminder_opt_in="ya")))
    assert result.errors == [] and len(result.personnel) == 2
    assert result.warnings == [
        RowError(3, "wa_reminder_opt_in: yes but no whatsapp number, so no reminder can be sent")]


def test_too_many_cells_is_an_error() -> None:
    error = one_error(csv_text(row() + ",extra"))
    assert error == RowError(2, "15 cells but the header has 14 columns")


# -- lines and repeats -----------------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_physical_line_and_good_rows_still_parse() -> None:
    text = ("user_id,name,client_id,divisi,instagram\n"          # 1
            "85010001,Budi,POLRES_A,\"SAT\nLANTAS\",budi\n"        # 2-3: a quoted multi-line cell
            "\n"                                                   # 4: blank, skipped
            "85x,Andi,POLRES_A,,andi\n"                            # 5: bad user_id
            "85010003,\"Siti\nRahma\",POLRES_A,\"SI\nHUMAS\",siti rahma\n"  # 6-8: bad handle, reported at 6
            ",,,,\n"                                               # 9: blank, skipped
            "85010004,Dewi,POLRES-A,,dewi\n"                       # 10: bad client_id
            "85010005,Rudi,POLRES_B,,rudi\n")                      # 11: good
    result = parse_personnel_csv(text)
    assert [(e.line, e.reason.split(":")[0]) for e in result.errors] == [
        (5, "user_id"), (6, "instagram"), (10, "client_id")]
    assert [p.user_id for p in result.personnel] == ["85010001", "85010005"]
    assert result.personnel[0].divisi == "SAT LANTAS"
    assert result.lines == {"85010001": 2, "85010005": 11}


def test_a_repeated_user_id_names_both_lines_even_when_written_differently() -> None:
    result = parse_personnel_csv(csv_text(row(), row(user_id="8501 0002", instagram="x", tiktok="y"),
                                          row(user_id="85010 001", instagram="z", tiktok="w")))
    assert result.errors == [RowError(4, "user_id 85010001 repeats line 2")]
    assert [p.user_id for p in result.personnel] == ["85010001", "85010002"]


@pytest.mark.parametrize(("column", "first", "again"), [
    ("instagram", "budi", "https://www.instagram.com/Budi/"),
    ("tiktok", "budi_tt", "https://www.tiktok.com/@BUDI_TT"),
])
def test_one_handle_on_two_rows_names_both_lines(column: str, first: str, again: str) -> None:
    other = "tiktok" if column == "instagram" else "instagram"
    text = csv_text(row(**{column: first}), row(user_id="85010002", **{column: "", other: "lain"}),
                    row(user_id="85010003", **{column: again, other: "beda"}))
    result = parse_personnel_csv(text)
    handle = first.lower()
    assert result.errors == [RowError(4, f"{column} {handle!r} is also on line 2 (user_id 85010001)")]
    assert [p.user_id for p in result.personnel] == ["85010001", "85010002"]


def test_both_handles_repeated_are_both_named() -> None:
    result = parse_personnel_csv(csv_text(row(), "", row(user_id="85010002")))
    assert result.errors == [RowError(4, "instagram 'budi' is also on line 2 (user_id 85010001); "
                                         "tiktok 'budi_tt' is also on line 2 (user_id 85010001)")]


def test_a_refused_row_does_not_claim_its_id_or_handles() -> None:
    result = parse_personnel_csv(csv_text(row(email="bukan-email"), row()))
    assert [e.line for e in result.errors] == [2]
    assert [p.user_id for p in result.personnel] == ["85010001"]
    assert result.lines == {"85010001": 3}


@pytest.mark.parametrize("text", ["", "\n", "\ufeff"])
def test_an_empty_file_misses_every_column(text: str) -> None:
    assert parse_personnel_csv(text).errors == [RowError(1, "missing column(s): user_id, name, client_id")]


def test_a_byte_order_mark_and_crlf_line_ends_are_fine() -> None:
    person = only(parse_personnel_csv("\ufeffuser_id,name,client_id\r\n85010001,Budi,POLRES_A\r\n"))
    assert person.user_id == "85010001"
