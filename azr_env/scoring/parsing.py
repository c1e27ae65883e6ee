"""Answer extraction from a completion, following AZR's rules.

1. The prompt opened ``<think>``; a completion may or may not repeat it.
2. Format (``format_rule="strict"``, AZR's): ``<think>...</think>`` then ``<answer>...</answer>``.
   ``"lenient"`` accepts any completion and reads the answer from the last ``<answer>``
   block if there is one (closed or not), else from the whole text.  ``"fenced"`` needs no
   think tags but needs the answer where the prompt asks for it: a closed ``<answer>`` block,
   or else the mode's fenced block (```` ```output ````, ```` ```input ````, ```` ```python ````)
   anywhere in the completion.  It suits chat models that skip the tags, and still tells a
   formatted answer from rambling (lenient does not: every completion is "formatted").
3. The answer is the text between the last ``<answer>`` and the ``</answer>`` after it.
4. Inside it, for deduction/abduction: the last ```` ```output ```` / ```` ```input ````
   block, then a ``# Output:`` / ``# Input:`` line, then ``output(...)`` / ``input(...)``,
   then ``<output>`` / ``<input>`` tags, then "the output is ..." / "the input is ...",
   else the whole answer.  For induction: the last ```` ```python ```` (or plain ``` ) block,
   else the whole answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FormatRule = Literal["strict", "lenient", "fenced"]
FORMAT_RULES: tuple[str, ...] = ("strict", "lenient", "fenced")

# Every pattern here runs in time linear in the completion: no nested lazy scans, so a
# megabyte of crafted text cannot stall a step.
_THINK_THEN_ANSWER = re.compile(r"</think>\s*<answer>")
_FENCE = {"deduction": "output", "abduction": "input", "induction": "python"}
_CODE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)


@dataclass(frozen=True)
class Parsed:
    """What was read from a completion."""

    format_ok: bool
    answer: str | None
    reason: str | None = None


def _between(text: str, start: str, end: str, last: bool = False) -> str | None:
    """Text between the first (or last) ``start`` and the next ``end``."""
    i = text.rfind(start) if last else text.find(start)
    if i < 0:
        return None
    j = text.find(end, i + len(start))
    return None if j < 0 else text[i + len(start) : j]


def _call_argument(text: str, kind: str) -> str | None:
    """``input(...)``: from the first opening to the last closing parenthesis."""
    m = re.search(rf"\b{kind}\(", text)
    if m is None:
        return None
    j = text.rfind(")")
    return text[m.end() : j] if j >= m.end() else None


def _fenced_or_fallback(answer: str, kind: str) -> str | None:
    blocks = code_blocks(answer, kind)
    if blocks:
        return blocks[-1]
    line = re.search(rf"^[ \t]*#[ \t]*{kind}[ \t]*:[ \t]*(.+)$", answer, re.I | re.M)
    if line:
        return line.group(1)
    for found in (_call_argument(answer, kind), _between(answer, f"<{kind}>", f"</{kind}>")):
        if found is not None:
            return found
    phrase = re.search(rf"the {kind} is[ \t]*:?[ \t]*(.+)$", answer, re.I | re.M)
    return phrase.group(1) if phrase else None


def answer_region(completion: str, format_rule: FormatRule) -> Parsed:
    """Check the R1 format and return the text of the last answer block."""
    if format_rule not in FORMAT_RULES:
        raise ValueError(f"format_rule must be one of {FORMAT_RULES}, got {format_rule!r}")
    if not isinstance(completion, str):
        return Parsed(False, None, f"the completion must be a str, got {type(completion).__name__}")
    text = completion
    if not text.lstrip().startswith("<think>"):
        text = "<think>" + text
    if format_rule == "strict":
        m = _THINK_THEN_ANSWER.search(text)
        if m is None or "</answer>" not in text[m.end() :]:
            return Parsed(False, None, "completion is not <think>...</think><answer>...</answer>")
    block = _between(text, "<answer>", "</answer>", last=True)
    if block is not None:
        return Parsed(True, block)
    if format_rule == "fenced":  # the caller looks for its fenced block in the whole text
        return Parsed(True, completion)
    if format_rule == "strict":  # the last <answer> is left open
        return Parsed(False, None, "the last <answer> block is not closed")
    opened = text.rfind("<answer>")  # lenient: an open block runs to the end
    return Parsed(True, text[opened + len("<answer>") :] if opened >= 0 else completion)


def extract_answer(completion: str, mode: str, format_rule: FormatRule = "strict") -> Parsed:
    """The solver's answer: args text (abduction), output literal (deduction), or program."""
    if mode not in _FENCE:
        raise ValueError(f"unknown mode {mode!r}")
    region = answer_region(completion, format_rule)
    if not region.format_ok or region.answer is None:
        return region
    answer = region.answer
    if format_rule == "fenced" and _between(completion, "<answer>", "</answer>", last=True) is None:
        fences = _CODE.findall(answer) if mode == "induction" else code_blocks(answer, _FENCE[mode])
        if not fences:
            return Parsed(False, None, f"no <answer> block and no ```{_FENCE[mode]} block")
        answer = fences[-1]
    if mode == "induction":
        blocks = _CODE.findall(answer)
        found = blocks[-1] if blocks else answer
    else:
        found = _fenced_or_fallback(answer, _FENCE[mode])
        if found is None:
            found = answer
    found = found.strip()
    if not found and mode != "abduction":  # an empty argument list is a valid input: f()
        return Parsed(False, None, f"the answer holds no {mode} answer")
    return Parsed(True, found)


def code_blocks(text: str, kind: str) -> list[str]:
    """Every fenced ```kind block in ``text``, in order (used by the proposer parsers)."""
    return [m.strip("\n") for m in re.findall(rf"```{re.escape(kind)}[ \t]*\n(.*?)```", text, re.S)]
