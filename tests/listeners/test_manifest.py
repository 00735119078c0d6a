"""manifest.yml declares what the code registers and the scopes the code needs, no more."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.commands import COMMANDS
from bot.render import blocks

ROOT = Path(__file__).parents[2]
MANIFEST: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))

# The part of Slack's app manifest schema deploybot uses (api.slack.com/reference/manifests).
SCHEMA = {
    "type": "object",
    "required": ["display_information", "features", "oauth_config", "settings"],
    "additionalProperties": False,
    "properties": {
        "display_information": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "maxLength": 35},
                "description": {"type": "string", "maxLength": 140},
                "background_color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
            },
            "additionalProperties": False,
        },
        "features": {
            "type": "object",
            "properties": {
                "bot_user": {
                    "type": "object",
                    "required": ["display_name"],
                    "properties": {
                        "display_name": {"type": "string", "maxLength": 80},
                        "always_online": {"type": "boolean"},
                    },
                    "additionalProperties": False,
                },
                "app_home": {
                    "type": "object",
                    "properties": {
                        "home_tab_enabled": {"type": "boolean"},
                        "messages_tab_enabled": {"type": "boolean"},
                        "messages_tab_read_only_enabled": {"type": "boolean"},
                    },
                    "additionalProperties": False,
                },
                "slash_commands": {
                    "type": "array",
                    "maxItems": 50,
                    "items": {
                        "type": "object",
                        "required": ["command", "description"],
                        "properties": {
                            "command": {"type": "string", "pattern": "^/[a-z0-9_-]{1,31}$"},
                            "url": {"type": "string", "pattern": "^https://"},
                            "description": {"type": "string", "maxLength": 2000},
                            "usage_hint": {"type": "string", "maxLength": 1000},
                            "should_escape": {"type": "boolean"},
                        },
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
        "oauth_config": {
            "type": "object",
            "properties": {
                "scopes": {
                    "type": "object",
                    "properties": {"bot": {"type": "array", "items": {"type": "string"}}},
                    "additionalProperties": False,
                }
            },
            "additionalProperties": False,
        },
        "settings": {
            "type": "object",
            "properties": {
                "interactivity": {
                    "type": "object",
                    "required": ["is_enabled"],
                    "properties": {
                        "is_enabled": {"type": "boolean"},
                        "request_url": {"type": "string", "pattern": "^https://"},
                    },
                    "additionalProperties": False,
                },
                "event_subscriptions": {
                    "type": "object",
                    "properties": {
                        "request_url": {"type": "string", "pattern": "^https://"},
                        "bot_events": {"type": "array", "items": {"type": "string"}},
                    },
                    "additionalProperties": False,
                },
                "org_deploy_enabled": {"type": "boolean"},
                "socket_mode_enabled": {"type": "boolean"},
                "token_rotation_enabled": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
    },
}

# Web API methods the bot calls, and the bot scope each needs.
SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "conversations_replies": ("channels:history", "groups:history"),
    "chat_getPermalink": (),  # needs no scope
    "views_publish": (),  # needs no scope
}


def test_the_manifest_is_a_valid_slack_manifest() -> None:
    jsonschema.validate(MANIFEST, SCHEMA)


def test_every_registered_command_is_declared_with_a_usage_hint() -> None:
    declared = {c["command"]: c for c in MANIFEST["features"]["slash_commands"]}
    assert set(declared) == set(COMMANDS)
    for command in declared.values():
        assert command["usage_hint"]
        assert command["url"].endswith("/slack/events")


def test_buttons_have_interactivity_to_land_on() -> None:
    interactivity = MANIFEST["settings"]["interactivity"]
    assert blocks.ACTIONS
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith("/slack/events")
    assert all(re.fullmatch(r"deploybot_[a-z_]+", action) for action in blocks.ACTIONS)
    assert isinstance(MANIFEST["settings"]["socket_mode_enabled"], bool)


def test_the_bot_scopes_are_exactly_those_the_code_needs() -> None:
    # The notifier is the only module that talks to the Slack Web API.
    source = (ROOT / "bot" / "outbox" / "notifier.py").read_text(encoding="utf-8")
    # Every Web API method called, through whichever client (the outbox's queued one too).
    called = {
        name
        for name in re.findall(r"\.(\w+)\(", source)
        if "_" in name and not name.startswith("_") and hasattr(AsyncWebClient, name)
    }
    assert called
    assert called <= set(SCOPES), f"a Web API call without a known scope: {called - set(SCOPES)}"
    needed = {"commands"}
    for method in called:
        scope = SCOPES[method]
        needed |= {scope} if isinstance(scope, str) else set(scope)
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed


def test_failure_dms_land_in_a_messages_tab_people_can_read() -> None:
    """A DM posted to a user ID shows in the app's Messages tab, read-only."""
    app_home = MANIFEST["features"]["app_home"]
    assert app_home["messages_tab_enabled"] is True
    assert app_home["messages_tab_read_only_enabled"] is True


def test_the_events_subscribed_are_exactly_those_the_code_listens_to() -> None:
    listeners = ROOT / "bot" / "listeners"
    source = "\n".join(p.read_text(encoding="utf-8") for p in listeners.rglob("*.py"))
    listened = set(re.findall(r"\.event\(\"(\w+)\"\)", source))
    assert listened == {"app_home_opened"}
    subscriptions = MANIFEST["settings"]["event_subscriptions"]
    assert set(subscriptions["bot_events"]) == listened
    assert subscriptions["request_url"].endswith("/slack/events")
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
