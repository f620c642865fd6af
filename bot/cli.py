"""``helpline`` command line (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.logging_setup import configure_logging
from bot.settings import Settings, get_settings

if TYPE_CHECKING:
    from bot.supervisor import ServiceSpec

logger = logging.getLogger(__name__)


def _migrate(settings: Settings) -> None:
    from bot.migrate import upgrade

    upgrade(settings.sqlalchemy_url)
    logger.info("database schema is up to date")


def _build_faq_index(settings: Settings) -> None:
    from knowledge_base import build_index

    build_index(
        settings.path(settings.faq_dir),
        settings.path(settings.kb_index_dir),
        settings.embedding_model,
        progress=True,
    )


def cmd_migrate(_: argparse.Namespace, settings: Settings) -> int:
    _migrate(settings)
    return 0


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from bot.rasa_process import train_if_changed

    train_if_changed(settings, force=args.force)
    return 0


def cmd_prepare(_: argparse.Namespace, settings: Settings) -> int:
    """Everything `run` needs before starting processes; each step skips unchanged work."""
    from bot.rasa_process import train_if_changed
    from bot.secrets import ensure_var_dir

    ensure_var_dir(settings)
    _migrate(settings)
    _build_faq_index(settings)
    train_if_changed(settings)
    return 0


# One query at a time is encoded; with two OpenMP threads on two cores torch spends most
# of each call spinning (54 ms vs 14 ms per query measured).
ACTION_SERVER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def service_specs(settings: Settings) -> list["ServiceSpec"]:
    """The three processes of a Helpline deployment, as `run` starts them."""
    from bot.rasa_process import rasa_environment, server_command
    from bot.supervisor import ServiceSpec

    python = sys.executable
    home = str(settings.home)
    return [
        ServiceSpec(
            "rasa", server_command(settings), f"{settings.effective_rasa_url}/",
            env=rasa_environment(settings), cwd=home,
        ),
        ServiceSpec(
            "actions", [python, "-m", "actions"],
            f"http://127.0.0.1:{settings.action_port}/health", cwd=home, env=dict(ACTION_SERVER_ENV),
        ),
        ServiceSpec(
            "gateway", [python, "-m", "bot", "gateway"],
            f"http://{settings.host}:{settings.port}/healthz", cwd=home,
        ),
    ]


def action_balancer_port(settings: Settings, replicas: int) -> int:
    """HAProxy's frontend for the action servers: the port after the last action server."""
    return settings.action_port + replicas


def replica_specs(settings: Settings, replicas: int) -> list["ServiceSpec"]:
    """`run --replicas N`: N gateways, N Rasa servers, N action servers and HAProxy.

    Gateway i (1..N) listens on port + i, Rasa i on rasa_port + i - 1, action server i
    on action_port + i - 1; HAProxy takes port (customers, sticky) and
    action_port + N (Rasa's one action endpoint, spread over the action servers).
    """
    from bot.rasa_process import rasa_environment, server_command
    from bot.supervisor import ServiceSpec

    python = sys.executable
    home = str(settings.home)
    rasa_ports = [settings.rasa_port + i for i in range(replicas)]
    action_ports = [settings.action_port + i for i in range(replicas)]
    gateway_ports = [settings.port + i for i in range(1, replicas + 1)]
    action_url = f"http://127.0.0.1:{action_balancer_port(settings, replicas)}/webhook"
    rasa_urls = ",".join(f"http://127.0.0.1:{port}" for port in rasa_ports)
    specs: list[ServiceSpec] = []
    for index, port in enumerate(rasa_ports, start=1):
        rasa = settings.model_copy(update={"rasa_port": port, "action_server_url": action_url})
        specs.append(ServiceSpec(
            f"rasa-{index}", server_command(rasa), f"{rasa.effective_rasa_url}/",
            env=rasa_environment(rasa), cwd=home,
        ))
    for index, port in enumerate(action_ports, start=1):
        specs.append(ServiceSpec(
            f"actions-{index}", [python, "-m", "actions"], f"http://127.0.0.1:{port}/health", cwd=home,
            env={**ACTION_SERVER_ENV, "HELPLINE_ACTION_PORT": str(port)},
        ))
    for index, port in enumerate(gateway_ports, start=1):
        specs.append(ServiceSpec(
            f"gateway-{index}", [python, "-m", "bot", "gateway"],
            f"http://{settings.host}:{port}/healthz", cwd=home,
            env={
                "HELPLINE_PORT": str(port),
                "HELPLINE_RASA_URLS": rasa_urls,
                "HELPLINE_ACTION_SERVER_URL": action_url,  # the console's FAQ suggestions
                "HELPLINE_REPLICA": str(index),
                # HAProxy (option forwardfor) puts the customer's address last in
                # X-Forwarded-For; the per-IP chat limits read it there.
                "HELPLINE_TRUST_FORWARDED_FOR": "true",
                # Customers see the balancer's address, not the replica's own.
                "HELPLINE_PUBLIC_URL": settings.effective_public_url,
            },
        ))
    config = render_haproxy_config(settings, gateway_ports, action_ports)
    specs.append(ServiceSpec(
        "balancer", ["haproxy", "-db", "-f", str(config)],
        f"http://{settings.host}:{settings.port}/healthz", cwd=home,
    ))
    return specs


def render_haproxy_config(settings: Settings, gateway_ports: list[int], action_ports: list[int]) -> Path:
    """deploy/haproxy.cfg with this machine's replicas, written to var/haproxy.cfg."""
    from string import Template

    template = Template((settings.home / "deploy" / "haproxy.cfg").read_text())
    text = template.substitute(
        bind_host=settings.host,
        port=settings.port,
        action_lb_port=action_balancer_port(settings, len(action_ports)),
        gateway_servers="\n".join(
            f"    server gateway-{i} {settings.host}:{port} check cookie g{i}"
            for i, port in enumerate(gateway_ports, start=1)
        ),
        action_servers="\n".join(
            f"    server actions-{i} 127.0.0.1:{port} check" for i, port in enumerate(action_ports, start=1)
        ),
    )
    target = settings.var_dir / "haproxy.cfg"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.supervisor import Supervisor

    replicas = args.replicas
    if replicas is not None:
        from bot.replicas import ReplicaPrerequisiteError, check_replica_prerequisites

        if replicas < 1:
            print("helpline run: --replicas must be 1 or more", file=sys.stderr)
            return 2
        try:
            check_replica_prerequisites(settings)
        except ReplicaPrerequisiteError as exc:
            print(f"helpline run --replicas: {exc}", file=sys.stderr)
            return 2
        if shutil.which("haproxy") is None:
            print("helpline run --replicas: HAProxy is not installed (scripts/setup installs it "
                  "as root; or `apt-get install haproxy`)", file=sys.stderr)
            return 2
    if not args.skip_prepare:
        cmd_prepare(args, settings)
    specs = service_specs(settings) if replicas is None else replica_specs(settings, replicas)
    return asyncio.run(Supervisor(specs, settings.effective_public_url).run())


def cmd_gateway(_: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from bot.app import create_app

    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port,
        log_level=settings.log_level.lower(), access_log=False,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="prepare, then start Rasa, actions and gateway")
    run.add_argument("--skip-prepare", action="store_true", help="do not migrate/build/train")
    run.add_argument(
        "--replicas", type=int, metavar="N",
        help="N of each process behind HAProxy (needs PostgreSQL and Redis; docs/deployment.md)",
    )
    run.set_defaults(handler=cmd_run)
    sub.add_parser("prepare", help="migrate, build the FAQ index, train Rasa if changed").set_defaults(
        handler=cmd_prepare
    )
    sub.add_parser("migrate", help="apply database migrations").set_defaults(handler=cmd_migrate)
    train = sub.add_parser("train", help="train the Rasa model if its data changed")
    train.add_argument("--force", action="store_true")
    train.set_defaults(handler=cmd_train)
    sub.add_parser("gateway", help="run only the gateway").set_defaults(handler=cmd_gateway)
    sub.add_parser("privacy", help="erase a customer's data everywhere; purge old conversations")
    sub.add_parser("users", help="console users: add, list, set-role, deactivate, set-password")
    sub.add_parser("kb", help="FAQ knowledge base: build, search, eval, calibrate, bench (see `helpline kb --help`)")
    sub.add_parser("backup", help="online backup and restore of the app database: create, restore, check")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["privacy"]:
        from staff.privacy.cli import main as privacy_main

        configure_logging(get_settings().log_level)
        return privacy_main(argv[1:])
    if argv[:1] == ["users"]:
        from staff.auth.cli import main as users_main

        configure_logging(get_settings().log_level)
        return users_main(argv[1:])
    if argv[:1] == ["backup"]:
        from bot.backup import main as backup_main

        configure_logging(get_settings().log_level)
        return backup_main(argv[1:], prog="helpline backup")
    if argv[:1] == ["kb"]:
        # The knowledge base has its own parser; hand it everything after "kb".
        from knowledge_base.cli import main as kb_main

        configure_logging(get_settings().log_level)
        return kb_main(argv[1:])
    args = build_parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    return int(args.handler(args, settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
