"""vnetkit: build, firewall and explain Linux virtual networks.

The public surface is what ``__all__`` lists here and in the capability
packages (``vnetkit.iptables``, ``vnetkit.exec``); a test guards it.
"""

from vnetkit.errors import (
    AlreadyExists,
    ApplyError,
    CannotDerive,
    CommandError,
    ConfigError,
    HostDependent,
    InUse,
    LockTimeout,
    MissingTool,
    NotFound,
    OperationError,
    ParseError,
    PermissionDenied,
    RuleError,
    TopologyError,
    UnsupportedError,
    VnetkitError,
)
from vnetkit.iptables import IPTables, Stat, parse_stat

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "ApplyError",
    "CannotDerive",
    "CommandError",
    "ConfigError",
    "HostDependent",
    "IPTables",
    "InUse",
    "LockTimeout",
    "MissingTool",
    "NotFound",
    "OperationError",
    "ParseError",
    "PermissionDenied",
    "RuleError",
    "Stat",
    "TopologyError",
    "UnsupportedError",
    "VnetkitError",
    "__version__",
    "parse_stat",
]
