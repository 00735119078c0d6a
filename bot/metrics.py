"""Prometheus metrics, served at GET /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

DEPLOYMENTS = Counter(
    "deploybot_deployments",
    "Deployments that reached a final status, by provider and outcome.",
    ["provider", "outcome"],
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "deploybot_in_flight_deployments",
    "Deployments this replica holds and polls (its poll leases) at the last tick.",
    registry=REGISTRY,
)
HELD_CHANNELS = Gauge(
    "deploybot_held_channels",
    "Channels whose messages this replica delivers now (its channel leases).",
    registry=REGISTRY,
)
POLL_TICK = Histogram(
    "deploybot_poll_tick_seconds",
    "How long one poll of every in-flight deployment took.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
    registry=REGISTRY,
)
PROVIDER_ERRORS = Counter(
    "deploybot_provider_errors",
    "Provider requests that failed, by provider and HTTP status (or the transport error).",
    ["provider", "status"],
    registry=REGISTRY,
)
SLACK_ERRORS = Counter(
    "deploybot_slack_api_errors",
    "Slack Web API calls that failed, by method and Slack's error code.",
    ["method", "error"],
    registry=REGISTRY,
)
