"""What several replicas of each process need before they start.

Replicas share every conversation's state, so they need a database every process can
reach and write at once (PostgreSQL; an SQLite file is one machine's and serialises
writers) and Redis (socket.io rooms, per-conversation turn order, leases, rate limits,
Rasa's lock store). `helpline run --replicas N` refuses to start without them.
"""

from __future__ import annotations

from bot.settings import Settings


class ReplicaPrerequisiteError(RuntimeError):
    """Replicas cannot run with these settings; the message says why and what to set."""


def check_replica_prerequisites(settings: Settings) -> None:
    """Raise ReplicaPrerequisiteError unless PostgreSQL and a reachable Redis are set."""
    if settings.database_url.startswith("sqlite"):
        raise ReplicaPrerequisiteError(
            "replicas need PostgreSQL: DATABASE_URL is an SQLite file, which only one "
            "process can write at a time and other machines cannot reach. "
            "Set DATABASE_URL=postgresql://user:password@host:5432/helpline."
        )
    if not settings.redis_url:
        raise ReplicaPrerequisiteError(
            "replicas need Redis (shared socket.io rooms, conversation order, leases, rate "
            "limits and Rasa's lock store): set REDIS_URL=redis://host:6379/0."
        )
    import redis

    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ReplicaPrerequisiteError(
            f"replicas need Redis, and REDIS_URL does not answer ({type(exc).__name__})."
        ) from exc
    finally:
        client.close()
