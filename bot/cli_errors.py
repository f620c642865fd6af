"""Exit codes and error messages shared by the `helpline` subcommands."""

from __future__ import annotations

import logging
import sys

EXIT_OK = 0
EXIT_FAILED = 1  # the database (or another dependency) could not be used
EXIT_REFUSED = 2  # bad input or a refused change (the status argparse uses)


def report_refusal(reason: object) -> int:
    print(f"error: {reason}", file=sys.stderr)
    return EXIT_REFUSED


def database_unusable(failure: BaseException, command: str, logger: logging.Logger) -> int:
    """Say what failed without a traceback (the details go to the debug log)."""
    logger.debug("%s command failed", command, exc_info=True)
    print(
        f"error: the database could not be used ({type(failure).__name__}); "
        "is it running and migrated (helpline migrate)?",
        file=sys.stderr,
    )
    return EXIT_FAILED
