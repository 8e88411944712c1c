"""The login bootstrap against a real PostgreSQL server (Debian's postgresql package).

The server runs like Aurora does for this purpose: TLS on, an `rds_iam` role, and a master
user that is *not* a superuser (RDS's master has CREATEROLE and CREATEDB, and may grant
rds_iam). The Job's own run.sh connects with `sslmode=verify-full` to a server whose
certificate a throwaway CA signed, parses the master secret JSON like the Job does, and runs
the generated SQL — twice, then with a service removed.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from components.database.logins import logins_sql, run_script
from tests import validators

DATABASE = "app"
MASTER = "dbadmin"
# RDS-managed passwords avoid / " @ and spaces; everything else printable may appear.
MASTER_PASSWORD = "p4ss\\w0rd{with}$pecial'chars`and`unicode-é"


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        validators.missing("postgres", "no /usr/lib/postgresql/*/bin/initdb")
    return Path(found[-1]).parent


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root; drop to the `postgres` user when we are root."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode:
        error = subprocess.CalledProcessError(
            result.returncode, command[-1][:60], result.stdout, result.stderr
        )
        error.add_note(result.stderr)
        raise error
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _certificates(directory: Path) -> None:
    """A CA and a server certificate for `localhost` signed by it (what verify-full checks)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    (directory / "san.cnf").write_text("subjectAltName=DNS:localhost\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
        "-out",
        "server.crt",
    )
    (directory / "server.key").chmod(0o600)


@pytest.fixture(scope="module")
def server():
    """A TLS-only PostgreSQL on 127.0.0.1 with an RDS-like master user; yields a runner."""
    binaries = _binaries()
    # Not under pytest's per-user tmp (mode 0700): the `postgres` user must reach it.
    root = Path(tempfile.mkdtemp(prefix="platform-pg-"))
    root.chmod(0o755)
    data, tls = root / "data", root / "tls"
    tls.mkdir()
    _certificates(tls)
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (root, tls, *tls.iterdir()):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    _as_postgres([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"])
    port = _free_port()
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n"
            f"ssl = on\nssl_cert_file = '{tls}/server.crt'\nssl_key_file = '{tls}/server.key'\n"
        )
    # TCP clients must use TLS and a password, like RDS with rds.force_ssl=1.
    (data / "pg_hba.conf").write_text(
        "local all postgres trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
    )
    _as_postgres(
        [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "start"]
    )

    def admin_sql(sql: str, database: str = "postgres") -> str:
        return _as_postgres(
            [
                str(binaries / "psql"),
                "-h",
                str(root),
                "-p",
                str(port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                sql,
            ]
        ).stdout

    quoted = MASTER_PASSWORD.replace("'", "''")
    admin_sql("CREATE ROLE rds_iam NOLOGIN")
    admin_sql(f"CREATE ROLE {MASTER} LOGIN CREATEROLE CREATEDB PASSWORD '{quoted}'")
    admin_sql(f"GRANT rds_iam TO {MASTER} WITH ADMIN OPTION")
    admin_sql(f"CREATE DATABASE {DATABASE} OWNER {MASTER}")
    try:
        yield _Runner(root, port, tls / "ca.pem", admin_sql)
    finally:
        _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(root, ignore_errors=True)


class _Runner:
    def __init__(self, root: Path, port: int, ca: Path, admin_sql) -> None:
        self.root, self.port, self.ca, self.admin_sql = root, port, ca, admin_sql

    def bootstrap(self, logins: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
        """Run the Job's own run.sh with the secret file the init container would write."""
        secrets, scripts = tmp_path / "secrets", tmp_path / "scripts"
        secrets.mkdir(exist_ok=True)
        scripts.mkdir(exist_ok=True)
        secret = {"username": MASTER, "password": MASTER_PASSWORD}
        (secrets / "master.json").write_text(json.dumps(secret, ensure_ascii=False))
        shutil.copy(self.ca, secrets / "rds-ca.pem")
        (scripts / "logins.sql").write_text(logins_sql(DATABASE, logins))
        (scripts / "run.sh").write_text(run_script(str(secrets), str(scripts)))
        env = {
            "PATH": f"{_binaries()}:{os.environ['PATH']}",
            "DB_HOST": "localhost",
            "DB_PORT": str(self.port),
            "DB_NAME": DATABASE,
            "HOME": str(tmp_path),
        }
        return subprocess.run(
            ["/bin/sh", str(scripts / "run.sh")], env=env, capture_output=True, text=True
        )

    def state(self) -> str:
        """Everything the bootstrap can touch: roles, memberships, schemas, grants, settings."""
        return self.admin_sql(
            "SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
            " SELECT 'role ' || a.rolname || ' login=' || a.rolcanlogin || ' super=' ||"
            "   a.rolsuper || ' pw=' || (a.rolpassword IS NOT NULL) || ' cfg=' ||"
            "   coalesce(r.rolconfig::text, '')"
            "   FROM pg_authid a JOIN pg_roles r ON r.oid = a.oid"
            "   WHERE a.rolname NOT LIKE 'pg\\_%'"
            " UNION ALL SELECT 'member ' || r.rolname || ' in ' || g.rolname"
            "   FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member"
            "   JOIN pg_roles g ON g.oid = m.roleid"
            " UNION ALL SELECT 'schema ' || nspname || ' ' || coalesce(nspacl::text, '')"
            "   FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'"
            " UNION ALL SELECT 'database ' || datname || ' ' || coalesce(datacl::text, '')"
            "   FROM pg_database) t(x)",
            DATABASE,
        )


def test_logins_get_rds_iam_and_their_own_schema_without_a_password(server, tmp_path):
    result = server.bootstrap(["shop_api", "billing"], tmp_path)
    assert result.returncode == 0, result.stderr
    state = server.state()
    for login in ("shop_api", "billing"):
        assert f"role {login} login=true super=false pw=false cfg={{search_path={login}}}" in state
        assert f"member {login} in rds_iam" in state
        assert f"schema {login} " in state and f"{login}=UC/{MASTER}" in state


def _acl(server, sql: str) -> set[str]:
    """An ACL (`{a=UC/b,...}`) as its set of entries; PUBLIC's entries start with `=`."""
    return set(server.admin_sql(sql, DATABASE).strip().strip("{}").split(","))


def test_the_grants_are_exactly_the_login_and_the_administrator_never_public(server, tmp_path):
    """Exact ACLs, not presence: an extra grantee (PUBLIC above all) fails."""
    assert server.bootstrap(["shop_api", "billing"], tmp_path).returncode == 0
    database = _acl(server, f"SELECT datacl FROM pg_database WHERE datname = '{DATABASE}'")
    # The owner keeps everything; each login may connect and use temporary tables; PUBLIC
    # (PostgreSQL's default `=Tc`) nothing.
    assert database == {f"{MASTER}=CTc/{MASTER}", f"shop_api=Tc/{MASTER}", f"billing=Tc/{MASTER}"}
    for login in ("shop_api", "billing"):
        schema = _acl(server, f"SELECT nspacl FROM pg_namespace WHERE nspname = '{login}'")
        assert schema == {f"{MASTER}=UC/{MASTER}", f"{login}=UC/{MASTER}"}, login
    roles = server.admin_sql(
        "SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m "
        "JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid "
        "WHERE r.rolname = 'shop_api'",
        DATABASE,
    ).strip()
    assert roles == "rds_iam"  # the login is a member of rds_iam and nothing else


def test_a_role_the_bootstrap_did_not_grant_cannot_connect(server, tmp_path):
    assert server.bootstrap(["shop_api"], tmp_path).returncode == 0
    server.admin_sql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
        "'stranger') THEN CREATE ROLE stranger LOGIN PASSWORD 'x'; END IF; END $$;"
    )
    allowed = server.admin_sql(
        f"SELECT has_database_privilege('stranger', '{DATABASE}', 'CONNECT'), "
        f"has_database_privilege('stranger', '{DATABASE}', 'TEMPORARY')"
    ).strip()
    assert allowed == "f|f"


def test_running_twice_changes_nothing(server, tmp_path):
    assert server.bootstrap(["shop_api", "billing"], tmp_path).returncode == 0
    before = server.state()
    second = server.bootstrap(["shop_api", "billing"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert server.state() == before


def test_the_application_can_create_and_use_tables_only_in_its_schema(server, tmp_path):
    assert server.bootstrap(["shop_api", "billing"], tmp_path).returncode == 0
    # Act as the application (IAM auth is RDS's; here SET ROLE stands in for the login).
    server.admin_sql(
        "SET ROLE shop_api; CREATE TABLE IF NOT EXISTS orders (id int); "
        "INSERT INTO orders VALUES (1);",
        DATABASE,
    )
    assert server.admin_sql("SELECT count(*) FROM shop_api.orders", DATABASE).strip() != "0"
    with pytest.raises(subprocess.CalledProcessError) as denied:
        server.admin_sql("SET ROLE billing; SELECT * FROM shop_api.orders;", DATABASE)
    assert "permission denied" in denied.value.stderr
    with pytest.raises(subprocess.CalledProcessError):
        server.admin_sql("SET ROLE shop_api; DROP SCHEMA shop_api CASCADE;", DATABASE)


def test_removing_a_service_keeps_its_login_schema_and_data(server, tmp_path):
    assert server.bootstrap(["shop_api", "billing"], tmp_path).returncode == 0
    server.admin_sql(
        "SET ROLE billing; CREATE TABLE IF NOT EXISTS invoices (id int); "
        "INSERT INTO invoices VALUES (7);",
        DATABASE,
    )
    assert server.bootstrap(["shop_api"], tmp_path).returncode == 0
    state = server.state()
    assert "role billing login=true" in state and "member billing in rds_iam" in state
    assert server.admin_sql("SELECT id FROM billing.invoices", DATABASE).split() == ["7"]


def test_a_wrong_ca_is_refused_before_any_sql_runs(server, tmp_path):
    """verify-full: a server certificate the CA bundle did not sign is never trusted."""
    other = tmp_path / "other"
    other.mkdir()
    _certificates(other)
    server_ca = server.ca
    server.ca = other / "ca.pem"
    try:
        result = server.bootstrap(["never_created"], tmp_path)
    finally:
        server.ca = server_ca
    assert result.returncode != 0
    assert "certificate verify failed" in result.stderr
    assert "role never_created" not in server.state()


def test_sql_never_drops_or_revokes_from_a_login():
    sql = logins_sql(DATABASE, ["a", "b"]).upper()
    for word in ("DROP ", "TRUNCATE ", "DELETE ", "PASSWORD"):
        assert word not in sql
    revokes = [line for line in sql.splitlines() if "REVOKE " in line and not line.startswith("--")]
    assert revokes == [f'REVOKE CONNECT, TEMPORARY ON DATABASE "{DATABASE.upper()}" FROM PUBLIC;']


@pytest.mark.parametrize("login", ["Shop", "shop-api", "pg_shop", "rdsadmin", "postgres", "a" * 64])
def test_logins_that_postgres_or_rds_would_refuse_are_rejected(login):
    with pytest.raises(ValueError, match=login[:20]):
        logins_sql(DATABASE, [login])


def test_the_server_refuses_plain_connections(server, tmp_path):
    """Guard for the fixture itself: the bootstrap passes only because it speaks TLS."""
    result = subprocess.run(
        [
            str(_binaries() / "psql"),
            f"host=localhost port={server.port} dbname={DATABASE} user={MASTER} sslmode=disable",
            "-c",
            "SELECT 1",
        ],
        env={**os.environ, "PGPASSWORD": MASTER_PASSWORD},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "no pg_hba.conf entry" in result.stderr
