"""A throwaway PostgreSQL cluster from Debian's package: initdb into a temporary folder, a unix
socket in that folder (no TCP, no system service), stopped and removed at the end.

initdb refuses to run as root, so as root the cluster runs as the `postgres` user the package
creates (`runuser -u postgres --`), with the folder chowned to it.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


class PgUnavailable(RuntimeError):
    pass


def pg_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise PgUnavailable("no PostgreSQL server: make test installs Debian's postgresql")
    return Path(found[-1]).parent


class PgCluster:
    def __init__(self, durable: bool = False) -> None:
        self.durable = durable  # fsync on (benchmarks); off for tests, whose data is thrown away
        self.bin = pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="opentag-pg-"))
        self.data = self.root / "data"
        self.sock = self.root
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.user = pwd.getpwuid(os.geteuid()).pw_name if not self.as_user else "postgres"
        self._n = 0

    def _run(self, *cmd: str) -> None:
        r = subprocess.run([*self.as_user, *cmd], capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise PgUnavailable(f"{cmd[0]} failed: {r.stdout}{r.stderr}")

    def start(self) -> PgCluster:
        # Stopped at exit even when the caller dies on an exception before its own stop().
        atexit.register(self.stop)
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        opts = (
            f"-k {self.sock} -c listen_addresses='' -c max_connections=60 -c shared_buffers=128MB"
        )
        if not self.durable:
            opts += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts, "-w", "-t", "60",
            "-l", str(self.root / "log"), "start",
        )  # fmt: skip
        return self

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{dbname}?host={self.sock}"

    def new_database(self) -> str:
        """A fresh, empty database in the cluster; its URL."""
        import psycopg

        self._n += 1
        name = f"t{os.getpid()}_{self._n}"
        with psycopg.connect(self.url(), autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
