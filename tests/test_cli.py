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


@pytest.mark.parametrize("port", ["99999", "-1", "0", "65536", "80x"])
def test_serve_port_out_of_range(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", port])

    assert exit_info.value.code == 2
    assert f"invalid port '{port}'; use a whole number from 1 to 65535" in capsys.readouterr().err


def test_serve_port_bounds_accepted() -> None:
    parser = build_parser()

    assert parser.parse_args(["serve", "--port", "1"]).port == 1
    assert parser.parse_args(["serve", "--port", "65535"]).port == 65535


@pytest.mark.parametrize("out_dir", ["", "   "])
def test_generate_empty_out_dir_rejected(
    out_dir: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)

    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--customers", "5", "--seed", "1", out_dir])

    assert exit_info.value.code == 2
    assert "the output folder is empty" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("customers", ["0", "10000001", "999999999999", "-5"])
def test_generate_customers_out_of_range(
    customers: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"

    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--customers", customers, "--seed", "1", str(out)])

    assert exit_info.value.code == 2
    assert "use a whole number from 1 to 10,000,000" in capsys.readouterr().err
    assert not out.exists()


def test_generate_customer_limit_matches_generator() -> None:
    from server.cli import MAX_GENERATED_CUSTOMERS
    from server.generate import MAX_CUSTOMERS

    assert MAX_GENERATED_CUSTOMERS == MAX_CUSTOMERS


def test_generate_writes_no_partial_files(tmp_path: Path) -> None:
    out = tmp_path / "set"

    assert main(["generate", "--customers", "30", "--seed", "4", str(out)]) == 0

    names = sorted(path.name for path in out.iterdir())
    assert names == ["customers.csv", "order_lines.csv", "products.csv", "subscriptions.csv"]
    assert [path.name for path in tmp_path.iterdir()] == ["set"]


def test_generate_failure_removes_partial_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file where the output folder should be makes the final move fail.
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder")

    code = main(["generate", "--customers", "30", "--seed", "4", str(blocked)])

    assert code == 2
    assert "blocked" in capsys.readouterr().err
    assert blocked.read_text() == "not a folder"
    assert [path.name for path in tmp_path.iterdir()] == ["blocked"]
