"""deploybot: a Slack chat-ops bot for Nometria and Stormkit deployments."""
