"""nbjobs' Prometheus metrics, served by jupyter-server's own ``<base_url>metrics`` endpoint.

Every metric is defined here, once, in prometheus_client's default registry (the one that
endpoint exposes); the parts that measure import them. ``docs/metrics.md`` lists each with an
example alert. Metrics are per server process: with several servers, sum them in Prometheus.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "CONNECTED_CLIENTS",
    "CONNECTIONS",
    "DELIVERIES",
    "EMIT_SECONDS",
    "EVENTS",
    "EVENT_LOOP_LAG_SECONDS",
    "JOBS",
    "JOB_SECONDS",
    "PROGRESS_INTERVAL_SECONDS",
    "QUEUE_LENGTH",
    "REDIS_CONNECTED",
    "REDIS_ERRORS",
    "ROWS_PROCESSED",
    "STALE_CONNECTIONS",
]

# -- live events ---------------------------------------------------------------------------------

CONNECTED_CLIENTS = Gauge(
    "nbjobs_connected_clients", "Socket.IO connections authenticated and open on this server."
)
CONNECTIONS = Counter(
    "nbjobs_connections",
    "Socket.IO connection attempts, by result (accepted, refused) and refusal reason.",
    ["result", "reason"],
)
STALE_CONNECTIONS = Counter(
    "nbjobs_stale_connections",
    "Connections closed by the server: no answer to its pings, or never authenticated in time.",
    ["reason"],
)
EVENTS = Counter("nbjobs_events_emitted", "Job events emitted, by event name.", ["event"])
DELIVERIES = Counter(
    "nbjobs_event_deliveries",
    "Job events handed to connections of this server (one per client), by path: a frame written "
    "straight to a websocket, or a packet put on engine.io's queue.",
    ["path"],
)
EMIT_SECONDS = Histogram(
    "nbjobs_emit_duration_seconds",
    "Time to hand one event to every connection of its room on this server.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
EVENT_LOOP_LAG_SECONDS = Gauge(
    "nbjobs_event_loop_lag_seconds",
    "How late a timer on Jupyter's event loop ran, worst over the last second.",
)
PROGRESS_INTERVAL_SECONDS = Gauge(
    "nbjobs_progress_interval_seconds",
    "The current least time between two job:progress events of one job (stretches under load).",
)
REDIS_CONNECTED = Gauge(
    "nbjobs_redis_connected", "1 while the Redis event fan-out answers, 0 when it does not."
)
REDIS_ERRORS = Counter("nbjobs_redis_errors", "Failed checks of the Redis event fan-out.")

# -- jobs ----------------------------------------------------------------------------------------

JOBS = Gauge(
    "nbjobs_jobs",
    "Jobs in the store by status (every server sharing the store), as last counted.",
    ["status"],
)
QUEUE_LENGTH = Gauge("nbjobs_queue_length", "Jobs queued on this server, waiting for a slot.")
ROWS_PROCESSED = Counter("nbjobs_rows_processed", "Rows normalized by jobs this server ran.")
JOB_SECONDS = Histogram(
    "nbjobs_job_duration_seconds",
    "From start to end of the jobs this server ran, by final status.",
    ["status"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600),
)
