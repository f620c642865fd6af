"""What gateway replicas share: per-conversation turn order, leases, live connections.

Two implementations behind each interface: in this process's memory (the embedded
one-gateway default) and in Redis (``REDIS_URL`` set, required for replicas).
"""
