"""The ``vnetkit`` command line: a thin adapter over the public API.

Owns: parsing argv, calling the API, printing tables or JSON, and exit
statuses. Does not own: any behaviour of its own; every verb is a method of
``vnetkit.iptables.IPTables``. ``main(argv) -> int`` is the entry point for
programs and tests; ``run()`` is the console script.
"""

from vnetkit.cli.env import Env, IPTablesFactory
from vnetkit.cli.main import main, run

__all__ = ["Env", "IPTablesFactory", "main", "run"]
