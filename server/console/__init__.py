"""The web console: server-rendered pages over the admin API, behind a login."""
