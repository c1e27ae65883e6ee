"""Prompt text: the R1-style wrapper and the AZR solver prompts.

The wording follows the AZR reference prompts (LeapLabTHU/Absolute-Zero-Reasoner,
``data_construction/prompts.py`` and ``process_data.py``) so that agents trained here see
what AZR's agents saw.  Two forms:

* ``"r1"``: one raw text, ``R1_TEMPLATE`` around the task body, ending with
  ``Assistant: <think>`` so a base model continues the reasoning;
* ``"chat"``: messages for an instruct model, the R1 instruction as the system message
  and the task body as the user message (:func:`chat_messages`).
"""

from __future__ import annotations

from typing import Literal

from .tasks import Task

PromptFormat = Literal["r1", "chat"]
PROMPT_FORMATS: tuple[str, ...] = ("r1", "chat")

R1_INSTRUCTION = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with "
    "the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> "
    "</answer> tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here "
    "</answer>."
)
R1_TEMPLATE = R1_INSTRUCTION + " User: {prompt}\nAssistant: <think>"

DEDUCTION_PROMPT = """
# Task: Deduce the Output of a Python Code Snippet Given the Code and Input
Given the following Code Snippet and the Input, think step by step then deduce the output that will be \
produced from plugging the Input into the Code Snippet. Put your output in ```output``` tags. Remember if \
the output is a string, wrap it in quotes. If the function returns multiple values, remember to use a \
tuple to wrap them.

# Code Snippet:
```python
{program}
```

# Input:
```input
{args}
```

# Example Output:
```output
{{'age': 20, 'city': 'New York'}}
```
"""

ABDUCTION_PROMPT = """
# Task: Provide One Possible Input of a Python Code Snippet Given the Code and Output
Given the following Code Snippet and the Output, think step by step then provide one possible input that \
produced the output. The input needs to be wrapped in ```input``` tags. Remember if an argument is a \
string, wrap it in quotes. If the function requires multiple arguments, separate them with commas.

# Code Snippet:
```python
{program}
```

# Output:
```output
{output}
```

# Output Format:
```input
arg1, arg2, ...
```
# Example Output:
```input
'John', {{'age': 20, 'city': 'New York'}}
```
"""

INDUCTION_PROMPT = """
# Task: Deduce the Function that Produced the Outputs from the Inputs
Given a set of input/output pairs and a message that describes the function, think through the problem \
step by step to deduce a general code snippet. This code should produce the hidden outputs from the \
hidden inputs, matching the original data-generating code that created the input/output pairs. Place \
your final answer inside python tags! It may be helpful to work through each input/output pair \
individually to test your function. If your function doesn't work as expected, revise it until it does. \
The final code snippet will be used to evaluate your response, which is wrapped in ```python``` tags.

# Code Requirements:
- Name the entry function `f` (e.g., `def f(...): ...`), you can have nested definitions inside `f`
- Ensure the function returns a value
- Include at least one input parameter
- Make the function deterministic
- AVOID THE FOLLOWING:
  * Random functions or variables
  * Date/time operations
  * I/O operations (reading files, network requests)
  * Printing or logging
  * Any external state
- Ensure execution completes within 10 seconds on a modern CPU
- All imports and class definitions should be at the very top of the code snippet
- The snippet should end with a return statement from the main function `f()`, anything after will be removed

# Input and Output Pairs:
{pairs}
# Message:
```message
{message}
```

# Example Output:
```python
def f(a):
    return a
```

Name your entry function `f()`!!!
"""


def task_body(task: Task) -> str:
    """The user-facing task text for a solver, without the R1 wrapper."""
    if task.mode == "deduction":
        return DEDUCTION_PROMPT.format(program=task.program, args=task.args)
    if task.mode == "abduction":
        return ABDUCTION_PROMPT.format(program=task.program, output=task.output)
    pairs = "".join(
        f"```input_{i}\n{p.args}\n```\n```output_{i}\n{p.output}\n```\n" for i, p in enumerate(task.visible)
    )
    return INDUCTION_PROMPT.format(pairs=pairs, message=task.message)


_PROMPTS: dict[tuple[str, str, str], str] = {}  # (id, content hash, format) -> prompt


def solver_prompt(task: Task, prompt_format: PromptFormat = "r1") -> str:
    """The observation text for a solver: the R1 raw template, or the chat user message."""
    key = (task.id, task.metadata.content_hash, prompt_format)
    prompt = _PROMPTS.get(key)
    if prompt is not None and task.metadata.content_hash:
        return prompt
    body = task_body(task)
    if prompt_format == "r1":
        prompt = R1_TEMPLATE.format(prompt=body)
    elif prompt_format == "chat":
        prompt = body.strip()
    else:
        raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")
    if len(_PROMPTS) >= 100_000:  # a bounded cache: tasks recur, prompts never change
        _PROMPTS.clear()
    _PROMPTS[key] = prompt
    return prompt


def chat_messages(prompt: str) -> list[dict[str, str]]:
    """Chat messages for an instruct model: the R1 instruction as system, the task as user."""
    return [{"role": "system", "content": R1_INSTRUCTION}, {"role": "user", "content": prompt}]
