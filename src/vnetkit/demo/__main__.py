"""``python -m vnetkit.demo``: run the whole demo (what ``make demo`` does)."""

from __future__ import annotations

import sys

from vnetkit.demo import main

sys.exit(main())
