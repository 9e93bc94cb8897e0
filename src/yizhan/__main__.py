"""`python -m yizhan` is the same as the `yizhan` command."""

from yizhan.cli import main

raise SystemExit(main())
