"""The ``lrs`` command line: one module per group of commands, each a thin shell.

Each command parses its options, opens the services (``common.services``:
the same stores, account agents and assignment lifecycle as the server, from
the same settings) and calls one use case (``lrs.usecases``).
"""

from lrs.cli import (
    assignments,
    credentials,
    database,
    forwarding,
    history,
    learners,
    people,
    progress,
    server,
    transfer,
)
from lrs.cli.common import main
from lrs.cli.server import default_workers

__all__ = [
    "assignments",
    "credentials",
    "database",
    "default_workers",
    "forwarding",
    "history",
    "learners",
    "main",
    "people",
    "progress",
    "server",
    "transfer",
]
