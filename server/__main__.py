"""`python -m server` is `alert-server`."""

from server.cli import main

raise SystemExit(main())
