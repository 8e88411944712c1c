"""The local stack's login Job against a real PostgreSQL server: the very shell command the Job
runs (psql with each login's password as a variable), twice, then the login itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from components.local_stores import manifests as m
from tests.components.test_database_logins_sql import _as_postgres, _binaries, _free_port

ADMIN_PASSWORD = "admin-pw"
# A generated password is alphanumeric; a quote and a backslash prove the psql variable is
# quoted, not pasted.
API_PASSWORD = "it's-a\\pass"


@pytest.fixture(scope="module")
def server():
    binaries = _binaries()
    root = Path(tempfile.mkdtemp(prefix="platform-local-pg-"))
    root.chmod(0o755)
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    _as_postgres([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"])
    port = _free_port()
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n"
        )
    # The official image's rule when POSTGRES_PASSWORD is set: passwords over TCP.
    (data / "pg_hba.conf").write_text(
        "local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
    )
    _as_postgres(
        [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "start"]
    )

    def admin(sql: str) -> None:
        _as_postgres(
            [
                str(binaries / "psql"),
                "-h",
                str(root),
                "-p",
                str(port),
                "-U",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ]
        )

    admin(f"ALTER ROLE postgres PASSWORD '{ADMIN_PASSWORD}'")
    admin("CREATE DATABASE app")
    try:
        yield port
    finally:
        _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def _run_job(port: int) -> subprocess.CompletedProcess:
    job = m.logins_job("data", "app", ["api"])
    (container,) = job["spec"]["template"]["spec"]["containers"]
    script = container["command"][2].replace(
        f"-h {m.host('postgres', 'data')}", f"-h 127.0.0.1 -p {port}"
    )
    env = {"PATH": os.environ["PATH"], "PGPASSWORD": ADMIN_PASSWORD, "PW_API": API_PASSWORD}
    return subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True)


def _as_api(port: int, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "api",
            "-d",
            "app",
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            sql,
        ],
        env={"PATH": os.environ["PATH"], "PGPASSWORD": API_PASSWORD},
        capture_output=True,
        text=True,
    )


def test_the_job_creates_the_login_idempotently_and_it_owns_only_its_schema(server):
    for _ in range(2):  # a re-run (a new Job) changes nothing
        result = _run_job(server)
        assert result.returncode == 0, result.stderr
    made = _as_api(server, "CREATE TABLE orders (id int)")
    assert made.returncode == 0, made.stderr
    where = _as_api(server, "SELECT schemaname FROM pg_tables WHERE tablename = 'orders'")
    assert where.stdout.strip() == "api"  # its search_path is its own schema
    assert _as_api(server, "CREATE TABLE public.nope (id int)").returncode != 0
    assert _as_api(server, "DROP SCHEMA api CASCADE").returncode != 0


def test_a_wrong_password_is_refused(server):
    assert _run_job(server).returncode == 0
    refused = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(server), "-U", "api", "-d", "app", "-c", "SELECT 1"],
        env={"PATH": os.environ["PATH"], "PGPASSWORD": "not-it"},
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "password authentication failed" in refused.stderr
