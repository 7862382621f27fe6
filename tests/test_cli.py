from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import build_parser, main


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOKAHEAD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")


def test_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ingest", "orders", str(tmp_path / "nope.csv"), "--format", "cdnow"])

    assert code == 2
    assert "nope.csv" in capsys.readouterr().err


def test_expiry_beyond_ten_years_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tokens", "create", "--role", "viewer", "--expires-days", "99999999"])

    assert code == 2
    assert "--expires-days must be from 1 to 3650" in capsys.readouterr().err


def test_huge_token_id_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["tokens", "revoke", "9" * 30])

    assert exit_info.value.code == 2
    assert "invalid token id" in capsys.readouterr().err


def test_token_create_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tokens", "create", "--role", "contributor", "--name", "ci"]) == 0
    secret = capsys.readouterr().out.strip()
    assert main(["tokens", "list"]) == 0

    listed = capsys.readouterr().out
    assert secret.startswith("lka_")
    assert secret not in listed
    assert "CONTRIBUTOR" in listed


def test_serve_on_busy_port_fails_before_demo(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["serve", "--demo", "--port", str(port)])

    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_serve_access_log_option() -> None:
    parser = build_parser()

    assert parser.parse_args(["serve"]).access_log is True
    assert parser.parse_args(["serve", "--no-access-log"]).access_log is False
    assert parser.parse_args(["serve", "--access-log"]).access_log is True
