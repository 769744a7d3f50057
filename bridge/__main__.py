"""`python -m bridge` is `flic-bridge`."""

from bridge.cli import main

raise SystemExit(main())
