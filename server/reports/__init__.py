"""Response-time and drill reports: queries, API, CSV and server-drawn SVG charts."""
