"""A scripted Runner for tests of code above ``exec/``: no processes, no root.

Owns: ``FakeRunner``, which records every argv and answers from a list of
(predicate, Completed-maker) responses. Does not touch the system.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from vnetkit.exec.runner import Completed

__all__ = ["FakeRunner"]


@dataclass
class FakeRunner:
    """Answers ``run`` calls from ``responses``; unmatched calls succeed with no output.

    ``responses`` maps an argv prefix check to (returncode, stdout, stderr):
    ``FakeRunner().respond(("iptables-nft", "--version"), stdout="iptables v1.8.9 (nf_tables)\\n")``.
    """

    calls: list[tuple[tuple[str, ...], str | None, str | None]] = field(default_factory=list)
    _responses: list[tuple[Callable[[tuple[str, ...]], bool], int, str, str]] = field(default_factory=list)
    locks: int = 0
    scratches: int = 0

    def respond(
        self,
        match: Sequence[str] | Callable[[tuple[str, ...]], bool],
        *,
        returncode: int = 0,
        stdout: str = "",
        stderr: str = "",
    ) -> FakeRunner:
        """Answer calls whose argv contains ``match`` in order (or satisfies it)."""
        if callable(match):
            predicate = match
        else:
            wanted = tuple(match)

            def predicate(argv: tuple[str, ...]) -> bool:
                it = iter(argv)
                return all(any(word == arg for arg in it) for word in wanted)

        self._responses.insert(0, (predicate, returncode, stdout, stderr))
        return self

    def run(
        self, argv: Sequence[str], *, netns: str | None = None, input: str | Iterable[str] | None = None
    ) -> Completed:
        args = tuple(argv)
        text = input if input is None or isinstance(input, str) else "".join(input)
        self.calls.append((args, netns, text))
        for predicate, code, out, err in self._responses:
            if predicate(args):
                return Completed(args, code, out, err)
        return Completed(args, 0, "", "")

    @contextmanager
    def lock(self, netns: str | None = None) -> Iterator[None]:
        self.locks += 1
        yield

    @contextmanager
    def scratch(self) -> Iterator[FakeRunner]:
        """The same fake, counting scratch namespaces (``scratches``) as they are asked for."""
        self.scratches += 1
        yield self
