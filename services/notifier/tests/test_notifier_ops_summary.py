"""The run summary the admins receive (DOMAIN §5 "Operational alerts"): errors merged and capped. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from cicero_notifier.ops_summary import (
    GENERAL,
    Alert,
    Limits,
    Run,
    alert_lines,
    fetch_error_line,
    is_covered,
    missing_clients,
    render_summary,
    run_errors,
    schedule_of,
)

RUN = Run(run_id="post-fetch:2026-03-10T07:05:00Z", schedule="post-fetch", phase="post_fetch", mandatory=False,
          scheduled_for=datetime(2026, 3, 10, 7, 5, tzinfo=UTC), client_ids=("POLRES_A", "POLRES_B", "POLRES_C"))


def alert(client_id: str | None = "POLRES_A", *details: str, severity: str = "error", source: str = "ingest",
          run_id: str | None = RUN.run_id, summary: str = "ringkas") -> Alert:
    return Alert(source=source, severity=severity, run_id=run_id, client_id=client_id, summary=summary,
                 details=details)


def test_schedule_of_a_tick_id() -> None:
    assert schedule_of("post-fetch:2026-03-10T07:05:00Z") == "post-fetch"
    assert schedule_of("engagement-2:2026-03-10T11:00:00Z") == "engagement-2"
    assert schedule_of("manual:wamid.1") == "manual"
    assert schedule_of("plain") == "plain"


def test_fetch_error_lines_read_like_ingests_alert_details() -> None:
    assert fetch_error_line("instagram", None, "GET /v1/posts answered 500") == "instagram: GET /v1/posts answered 500"
    assert fetch_error_line("tiktok", "734", "comments: timeout") == "tiktok 734: comments: timeout"
    assert len(fetch_error_line("tiktok", "734", "x" * 1000)) == 300


def test_alert_lines_are_its_details_or_else_its_summary() -> None:
    assert alert_lines(alert("A", "d1", "d2")) == ("d1", "d2")
    assert alert_lines(alert("A", summary="s")) == ("s",)


def test_run_errors_count_the_same_error_once_per_client() -> None:
    completion = {"POLRES_A": ["instagram: 500", "tiktok 7: comments: timeout"], "POLRES_B": [], "POLRES_C": []}
    alerts = [alert("POLRES_A", "instagram: 500", "tiktok  7: comments:   timeout"),  # ingest's copy, spaced
              alert("POLRES_B", "instagram: 500"),  # the same text for another client is another error
              alert(None, summary="RabbitMQ lambat"),
              alert("POLRES_C", "kuota hampir habis", severity="warning")]
    assert run_errors(completion, alerts) == {
        "POLRES_A": ["instagram: 500", "tiktok 7: comments: timeout"],
        "POLRES_B": ["instagram: 500"],
        GENERAL: ["RabbitMQ lambat"],
        "POLRES_C": ["(peringatan) kuota hampir habis"],
    }
    assert run_errors({}, []) == {}
    assert run_errors({"A": ["", "  "]}, []) == {}, "blank lines are no errors"


def test_a_late_copy_of_reported_errors_is_covered_and_a_new_error_is_not() -> None:
    reported = ["instagram: 500", "tiktok 7: timeout"]
    assert is_covered(alert("A", "instagram:  500"), reported)
    assert is_covered(alert("A", "instagram: 500", "tiktok 7: timeout"), reported)
    assert not is_covered(alert("A", "instagram: 500", "tiktok 8: timeout"), reported)
    assert not is_covered(alert("A", summary="lain"), reported)
    assert not is_covered(alert("A", "x"), [])


def test_missing_clients_keep_the_runs_order() -> None:
    assert missing_clients(RUN, ["POLRES_B"]) == ["POLRES_A", "POLRES_C"]
    assert missing_clients(RUN, ["POLRES_A", "POLRES_B", "POLRES_C", "OTHER"]) == []


def test_a_clean_complete_run() -> None:
    text = render_summary(RUN, ["POLRES_A", "POLRES_B", "POLRES_C"], {}, [], complete=True)
    assert text == ("🛠️ *Ringkasan Run post-fetch*\n"
                    "Selasa, 10 Maret 2026 14:05 WIB · konten + likes/komentar\n"
                    "Status: ✅ selesai, 3/3 client\n"
                    "Galat: tidak ada")


def test_errors_are_listed_per_client_and_capped() -> None:
    errors = {"POLRES_B": ["b1"], "POLRES_A": [f"a{n}" for n in range(7)], GENERAL: ["umum"]}
    text = render_summary(RUN, ["POLRES_A", "POLRES_B", "POLRES_C"], errors, [], complete=True,
                          limits=Limits(errors_per_client=3))
    lines = text.splitlines()
    assert lines[3:] == [
        "Galat: 9 pada 2 client",
        "• POLRES_A (7)", "  - a0", "  - a1", "  - a2", "  - … dan 4 galat lain",
        "• POLRES_B (1)", "  - b1",
        "• Umum (1)", "  - umum",
    ]


def test_long_lines_and_many_clients_are_cut() -> None:
    errors = {f"C{n:02d}": ["x" * 500] for n in range(25)}
    text = render_summary(RUN, [], errors, [], complete=True, limits=Limits(clients_listed=2, line_chars=50))
    lines = text.splitlines()
    assert "Galat: 25 pada 25 client" in lines
    assert lines[-5:] == ["• C00 (1)", "  - " + "x" * 49 + "…", "• C01 (1)", "  - " + "x" * 49 + "…",
                          "• … dan 23 client lain dengan galat"]


def test_an_incomplete_run_names_the_clients_that_did_not_finish() -> None:
    mandatory = Run(**{**RUN.__dict__, "mandatory": True, "phase": "engagement_only"})
    text = render_summary(mandatory, ["POLRES_B"], {}, [], complete=False, limits=Limits(clients_listed=1))
    assert text.splitlines()[1:4] == [
        "Selasa, 10 Maret 2026 14:05 WIB · likes/komentar · wajib",
        "Status: ⚠️ TIDAK SELESAI, 1/3 client",
        "Belum selesai: POLRES_A … dan 1 lainnya",
    ]


def test_alerts_of_no_known_run_are_listed_apart_and_capped() -> None:
    others = [alert(None, run_id=None, source="wa-gateway", summary="sesi log terputus"),
              alert("POLRES_A", run_id="manual:wamid.1", summary="POLRES_A: 1 fetch error(s)"),
              *[alert(None, run_id=None, summary=f"s{n}") for n in range(3)]]
    text = render_summary(RUN, ["POLRES_A", "POLRES_B", "POLRES_C"], {}, others, complete=True,
                          limits=Limits(other_alerts=3))
    assert text.splitlines()[-5:] == [
        "Peringatan di luar run (5):",
        "• [wa-gateway] sesi log terputus",
        "• [ingest · POLRES_A · manual:wamid.1] POLRES_A: 1 fetch error(s)",
        "• [ingest] s0",
        "• … dan 2 peringatan lain",
    ]
