"""An ``Answer`` as a text tree for people: hooks, the rules tried in each, routing, NAT, the verdict.

Owns: ``render_text``. Rules that did not match are shown dimmed with
``·``, matches with ``✓``, undetermined ones with ``?``; an undetermined
answer shows each continuation indented under it. Pure. Does not own the
answer (``answer``) or the JSON form (``Answer.to_json``).
"""

from __future__ import annotations

from vnetkit.trace.answer import Answer, Step

__all__ = ["render_text"]

_MARKS = {True: "✓", False: "·", None: "?"}


def _step(step: Step) -> str:
    if step.kind in ("rule", "policy"):
        where = f"{step.table} {step.chain}" + (f" #{step.position}" if step.position else "")
        action = f"  => {step.action}" if step.action and step.matched is not False else ""
        return f"{_MARKS[step.matched]} {where}: {step.text}{action}"
    symbol = {"route": "→", "nat": "⇄", "mark": "⚑"}.get(step.kind, "•")
    return f"{symbol} {step.text}"


def render_text(answer: Answer, *, indent: str = "") -> str:
    """The answer as lines: the packet, each hook with its steps, then the disposition."""
    lines = [f"{indent}{answer.packet}"]
    hook = None
    for step in answer.steps:
        if step.hook != hook:
            hook = step.hook
            lines.append(f"{indent}├─ {hook}")
        lines.append(f"{indent}│   {_step(step)}")
    lines.append(f"{indent}└─ {answer.disposition.upper()}: {answer.reason}")
    final = answer.final
    if answer.disposition != "undetermined":
        ports = f" sport {final['sport']} dport {final['dport']}" if final.get("dport") is not None else ""
        lines.append(f"{indent}   final: {final['src']} -> {final['dst']}{ports}")
    for label, branch in answer.continuations.items():
        lines.append(f"{indent}   {label.replace('_', ' ')}:")
        lines.append(render_text(branch, indent=indent + "      "))
    return "\n".join(lines)
