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
    "Deployments this replica polls (its leases) at the last tick.",
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
    """One app's figures (`bot.stats.Stats`); None, when there is nothing to measure, is NaN.
    Build time is not among them: only the provider's list has it."""
    DORA_FREQUENCY.labels(app).set(per_day)
    DORA_FAILURE_RATE.labels(app).set(_or_nan(failure_rate))
    DORA_RESTORE.labels(app).set(_or_nan(restore_seconds))


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value
