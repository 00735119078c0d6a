"""The scheduled jobs: the poller of deployments in flight, the watcher of outside ones."""
