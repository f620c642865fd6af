"""``helpline`` command line (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
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
            f"http://127.0.0.1:{settings.action_port}/health", cwd=home,
            # One query at a time is encoded; with two OpenMP threads on two cores torch
            # spends most of each call spinning (54 ms vs 14 ms per query measured).
            env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        ),
        ServiceSpec(
            "gateway", [python, "-m", "bot", "gateway"],
            f"http://{settings.host}:{settings.port}/healthz", cwd=home,
        ),
    ]


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.supervisor import Supervisor

    if not args.skip_prepare:
        cmd_prepare(args, settings)
    return asyncio.run(Supervisor(service_specs(settings), settings.effective_public_url).run())


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
