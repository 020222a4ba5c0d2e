"""``make serve`` (``python -m deploy.serve``): the stack of ``deploy/stack.py`` on this machine,
on PostgreSQL and Redis on their standard local ports, until Ctrl+C.

nginx on ``PORT`` (8080), the web processes on ``ELEARN_STACK_WEB_PORTS`` (8001,8002), the API
process on ``ELEARN_STACK_API_PORT`` (8010); the database of ``DATABASE_URL`` (``elearn``) is
created if missing and migrated first (a deploy step: the app never migrates itself).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from deploy import nginx
from deploy.stack import BIN, ROOT, Ports, Stack, StackError


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _serve_env() -> dict[str, str]:
    """The environment of ``make serve``: PostgreSQL and Redis on their standard local ports,
    a secret kept in instance/, media in instance/media, the commit from git."""
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/elearn")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    env.setdefault("ELEARN_COOKIE_SECURE", "0")  # plain http on this machine
    env.setdefault("ELEARN_MEDIA_DIR", str(ROOT / "instance" / "media"))
    env.pop("ELEARN_DEMO", None)
    if not env.get("ELEARN_SECRET_KEY"):
        import secrets

        path = ROOT / "instance" / "serve_secret"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        env["ELEARN_SECRET_KEY"] = path.read_text().strip()
    if not env.get("ELEARN_COMMIT"):
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        if found.returncode == 0:
            env["ELEARN_COMMIT"] = found.stdout.strip()
    return env


def _ensure_database(url: str) -> None:
    """Create the database of ``url`` if it is missing (``make serve`` on a fresh machine)."""
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    admin = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"  created the database {name}")


def _ports() -> Ports:
    def number(name: str, default: str) -> int:
        raw = os.environ.get(name, default)
        if not raw.isdigit():
            raise SystemExit(f"{name}={raw!r} is not a port number")
        return int(raw)

    web = os.environ.get("ELEARN_STACK_WEB_PORTS", "8001,8002")
    if not all(part.strip().isdigit() for part in web.split(",")):
        raise SystemExit(f"ELEARN_STACK_WEB_PORTS={web!r}: give port numbers separated by commas")
    return Ports(
        nginx=number("PORT", "8080"),
        web=tuple(int(part) for part in web.split(",")),
        api=number("ELEARN_STACK_API_PORT", "8010"),
    )


def main() -> int:
    ports = _ports()
    taken = [p for p in (ports.nginx, *ports.web, ports.api) if not port_free(p)]
    if taken:
        print(
            f"Port(s) {', '.join(map(str, taken))} on 127.0.0.1 are in use. Choose others with "
            "PORT=… (nginx), ELEARN_STACK_WEB_PORTS=…,… and ELEARN_STACK_API_PORT=….",
            file=sys.stderr,
        )
        return 1
    try:
        nginx.binary()
    except nginx.NginxMissing as error:
        print(error, file=sys.stderr)
        return 1
    env = _serve_env()
    run_dir = ROOT / "instance" / "stack"
    print("Preparing the stack")
    try:
        _ensure_database(env["DATABASE_URL"])
    except Exception as error:  # noqa: BLE001 - say what is missing, not a traceback
        print(f"  PostgreSQL at {env['DATABASE_URL']}: {error}", file=sys.stderr)
        return 1
    migrate = subprocess.run(
        [str(BIN / "flask"), "--app", "app", "db", "upgrade", "heads"],
        cwd=ROOT,
        env={**env, "ELEARN_ASYNC_MODE": "threading"},
        capture_output=True,
        text=True,
    )
    if migrate.returncode != 0:
        print(
            f"  migrations failed:\n{migrate.stdout[-3000:]}{migrate.stderr[-3000:]}",
            file=sys.stderr,
        )
        return 1
    print("  database schema… done")
    stopping = False

    def stop_on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    stack = Stack(env=env, run_dir=run_dir, ports=ports)
    try:
        try:
            stack.start()
        except StackError as error:
            print(error, file=sys.stderr)
            return 1
        processes = "\n".join(
            (
                f"    {p.name:<7} pid {p.pid:<7}"
                + (f" 127.0.0.1:{p.port}" if p.port and p.name != "nginx" else "")
            ).rstrip()
            for p in stack.processes
        )
        print(
            f"""
  elearn (the production process model) is running at {stack.url}

  nginx sends /socket.io/ to the web processes (sticky) and everything else to the API process:
{processes}

  An empty database? Create an admin: .venv/bin/flask --app app elearn create-admin
  (or the demo data: .venv/bin/flask --app app elearn seed --scale demo).
  Logs: {stack.log_dir.relative_to(ROOT)}/. Stop it with Ctrl+C.
""",
            flush=True,
        )
        while not stopping:
            gone = stack.exited()
            if gone is not None:
                print(Stack.exit_message(gone), file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("\n  stopping: nginx, the web and API processes, the worker, beat…", flush=True)
        stack.stop()
        print("  elearn stopped.")


if __name__ == "__main__":
    sys.exit(main())
