"""The bridge's HTTP face: the API, the status view and the status page."""
