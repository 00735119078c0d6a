"""Rendering, pure: Block Kit messages, views and text cut to Slack's limits."""
