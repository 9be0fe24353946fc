"""Real services for the tests: a throwaway PostgreSQL server and Debian's Chromium.

- ``PostgresServer``: Debian's PostgreSQL (installed with apt-get when missing, on a machine where
  we are root), ``initdb`` into a temp folder, ``pg_ctl start`` on a free port of 127.0.0.1 (no
  other socket), a database per test, ``pg_ctl stop`` at the end. These are the commands the
  README's "Gradebook" section gives a course.
- ``chromium()``: Debian's Chromium, driven by Playwright (pinned in pyproject.toml) through
  ``executable_path``; Playwright's own browser download cannot work on these machines.

A service that cannot be had FAILS the test that needs it with the command that installs it:
CI must never pass without having run these tests.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

POSTGRES_HOWTO = ("PostgreSQL is needed for these tests and is not installed: as root run "
                  "`apt-get update && apt-get install -y postgresql` (Debian/Ubuntu; elsewhere install the "
                  "server so that `pg_ctl` and `initdb` exist), then rerun `make test`")
CHROMIUM_HOWTO = ("Chromium is needed for the browser tests and is not installed: as root run "
                  "`apt-get update && apt-get install -y chromium` (Debian; elsewhere set HW_CHROMIUM to a "
                  "Chromium or Chrome binary), then rerun `make test`")


def _apt_install(package: str) -> str:
    """apt-get install PACKAGE when we are root on a Debian machine; what happened, in a line."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "not root or no apt-get here, so not installed automatically"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "install", "-y", "--no-install-recommends", package],
                    ["sh", "-c", f"apt-get update && apt-get install -y --no-install-recommends {package}"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode == 0:
            return f"installed {package}"
    return f"`apt-get install {package}` failed: {done.stderr.strip()[-500:]}"


def _found_or_installed(found, package: str, howto: str):
    """What FOUND() finds, installing the Debian PACKAGE first when it finds nothing; fails the
    test with HOWTO (and why the install failed) when it still finds nothing. Never a skip."""
    where = found()
    if where is None:
        note = _apt_install(package)
        where = found()
        if where is None:
            pytest.fail(f"{howto} ({note})", pytrace=False)
    return where


def postgres_bin() -> Path:
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl), installing the
    package when missing; fails the test with how to install it otherwise."""
    def found() -> Path | None:
        for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]),
                             reverse=True):
            if os.access(os.path.join(folder, "pg_ctl"), os.X_OK) and os.access(os.path.join(folder, "initdb"), os.X_OK):
                return Path(folder)
        pg_ctl = shutil.which("pg_ctl")
        return Path(pg_ctl).resolve().parent if pg_ctl and shutil.which("initdb") else None

    return _found_or_installed(found, "postgresql", POSTGRES_HOWTO)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A throwaway cluster: ``initdb`` into a temp folder and ``pg_ctl start`` on a free port of
    127.0.0.1, trust authentication for the one user ``grader`` (nothing else can reach it);
    ``stop()`` ends it and removes the folder. As root (CI), the server runs as the ``postgres``
    user, since PostgreSQL refuses to run as root."""

    user = "grader"

    def __init__(self):
        self.bin = postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="hw-postgres-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            import pwd

            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("PostgreSQL refuses to run as root and there is no `postgres` user: "
                            "`apt-get install -y postgresql` creates it", pytrace=False)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        # The README's commands ("Gradebook"): only TCP on loopback, the socket file in our folder.
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o",
                  f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder}", "-w", "start")

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run([*self.as_user, str(self.bin / program), *args], capture_output=True, text=True,
                              timeout=120, cwd=self.folder)
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.is_file() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}{log}")

    def url(self, database: str) -> str:
        """The SQLAlchemy URL a course puts in HW_DB_URL (the README's form)."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname=database, autocommit=True)

    def create_database(self, name: str) -> str:
        """A fresh, empty database (as `createdb NAME`); returns its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def wait_for_port(port: int, timeout_s: float = 60, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}) before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def chromium_path() -> str:
    """Debian's Chromium (or $HW_CHROMIUM), installing the package when missing; fails the test
    with how to install it otherwise."""
    def found() -> str | None:
        wanted = os.environ.get("HW_CHROMIUM")
        if wanted:
            return wanted if os.access(wanted, os.X_OK) else None
        return shutil.which("chromium") or shutil.which("chromium-browser")

    return _found_or_installed(found, "chromium", CHROMIUM_HOWTO)


def screenshot_folder() -> Path:
    """Where the browser tests leave their screenshots for a person to look at ($HW_SCREENSHOTS,
    or a fresh temp folder); the tests print it."""
    wanted = os.environ.get("HW_SCREENSHOTS")
    folder = Path(wanted) if wanted else Path(tempfile.mkdtemp(prefix="hw-screenshots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
