"""The use-cases, side by side: deploy, approve, rollback, operate, report, follow.

Each takes only the collaborators it uses, and none imports another; what two of them share
lives in `common` (or in bot/thread/). Policy is checked before any of them runs (bot/door/).
"""
