"""Prometheus metrics, served at GET /metrics."""

from __future__ import annotations

import math

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
OUTBOX_RETRIES = Counter(
    "deploybot_outbox_retries",
    "Messages Slack did not take for a transient reason (5xx, 429, timeout...), to be tried "
    "again after a back-off, by way (post, update) and reason.",
    ["way", "reason"],
    registry=REGISTRY,
)
OUTBOX_FAILED = Counter(
    "deploybot_outbox_failed",
    "Messages Slack refused for good (channel gone, not in channel, token revoked, blocks "
    "refused...), by way and Slack's error code.",
    ["way", "reason"],
    registry=REGISTRY,
)

DORA_DAYS = 30
# From the store alone, so a scrape reads nothing from a provider: deployments through the bot.
_DORA = f"over the last {DORA_DAYS} days, of deployments through deploybot (NaN: none to measure)"
DORA_FREQUENCY = Gauge(
    "deploybot_dora_deployments_per_day",
    f"Deploys that went live per day, {_DORA}.",
    ["app"],
    registry=REGISTRY,
)
DORA_FAILURE_RATE = Gauge(
    "deploybot_dora_change_failure_ratio",
    f"Deploys that failed or were rolled back within a day, of those that finished, {_DORA}.",
    ["app"],
    registry=REGISTRY,
)
DORA_RESTORE = Gauge(
    "deploybot_dora_time_to_restore_seconds",
    f"Median time from a failure or rollback to the next live deployment, {_DORA}.",
    ["app"],
    registry=REGISTRY,
)


def set_dora(
    app: str,
    *,
    per_day: float,
    failure_rate: float | None,
    restore_seconds: float | None,
) -> None:
    """One app's figures (`bot.dora.Stats`); None, when there is nothing to measure, is NaN.
    Build time is not among them: only the provider's list has it."""
    DORA_FREQUENCY.labels(app).set(per_day)
    DORA_FAILURE_RATE.labels(app).set(_or_nan(failure_rate))
    DORA_RESTORE.labels(app).set(_or_nan(restore_seconds))


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value
