"""What a graceful stop left to the other replicas, in words for the last log line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Handover:
    """What a graceful stop left to the other replicas (or to the next start)."""

    deployments: int  # in flight, polled by any replica's next tick
    starts: int  # cut mid-trigger: adopted from the provider, or ended, by the next tick
    messages: int  # not yet in Slack: sent by whichever replica runs once Slack answers

    def __str__(self) -> str:
        said = [
            f"{_count(count, noun)} {words}"
            for count, noun, words in (
                (self.deployments, "deployment", "in flight (any replica's next tick polls them)"),
                (
                    self.starts,
                    "deploy start",
                    "cut mid-trigger (the next tick adopts or ends them)",
                ),
                (
                    self.messages,
                    "message",
                    "not yet in Slack (kept in the store, sent once it answers)",
                ),
            )
            if count
        ]
        if not said:
            return "handed over nothing: no deployment in flight here, every message sent"
        return "handed over " + "; ".join(said)


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
