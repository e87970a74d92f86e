"""``python -m vnetkit``: the same as the ``vnetkit`` command."""

from vnetkit.cli.main import run

if __name__ == "__main__":
    run()
