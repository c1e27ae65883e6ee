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

from azr_env.tasks.task import Task

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


def wrap_prompt(body: str, prompt_format: str) -> str:
    """A task text as an observation: inside the R1 raw template, or alone (the chat user message)."""
    if prompt_format == "r1":
        return R1_TEMPLATE.format(prompt=body)
    if prompt_format == "chat":
        return body.strip()
    raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")


_PROMPTS: dict[tuple[str, str, str], str] = {}  # (id, content hash, format) -> prompt


def solver_prompt(task: Task, prompt_format: PromptFormat = "r1") -> str:
    """The observation text for a solver: the R1 raw template, or the chat user message."""
    key = (task.id, task.metadata.content_hash, prompt_format)
    prompt = _PROMPTS.get(key)
    if prompt is not None and task.metadata.content_hash:
        return prompt
    prompt = wrap_prompt(task_body(task), prompt_format)
    if len(_PROMPTS) >= 100_000:  # a bounded cache: tasks recur, prompts never change
        _PROMPTS.clear()
    _PROMPTS[key] = prompt
    return prompt


def chat_messages(prompt: str) -> list[dict[str, str]]:
    """Chat messages for an instruct model: the R1 instruction as system, the task as user."""
    return [{"role": "system", "content": R1_INSTRUCTION}, {"role": "user", "content": prompt}]


# ---------------------------------------------------------------------------------------
# Proposer prompts.  AZR's text, with one fix: AZR swaps the "Difficulty" criterion
# between the deduction and abduction proposer prompts; here each asks for difficulty in
# the direction its solver will work.
# ---------------------------------------------------------------------------------------
BANNED_IMPORTS = (
    "logging", "random", "multiprocessing", "pebble", "subprocess", "threading", "datetime",
    "time", "hashlib", "hmac", "bcrypt", "os", "sys", "calendar",
)
"""AZR's banned list (its dotted entries such as ``os.path`` never matched; we ban ``os``
and ``sys`` outright, and check every component of every import path)."""

_PROPOSE_CODE = """
## Task: Create a New Python Code Snippet (where custom classes are allowed, which should be defined \
at the top of the code snippet) with one Matching Input

Using the reference code snippets provided below as examples, design a new and unique Python code \
snippet that demands deep algorithmic reasoning to deduce {goal}. Your submission should include a \
code snippet and a test input pair, where the input will be plugged into the code snippet to produce \
the output. {subject} This is meant to be an I.Q. test.

### Code Requirements:
- Name the entry function `f` (e.g., `def f(...): ...`), you can have nested definitions inside `f`
- Ensure the function returns a value
- Include at least one input parameter
- Make the function deterministic
- Make the snippet require state tracking across multiple data transformations, ensuring the task \
requires long multi step reasoning
- AVOID THE FOLLOWING:
  * Random functions or variables
  * Date/time operations
  * I/O operations (reading files, network requests)
  * Printing or logging
  * Any external state
- Ensure execution completes within 10 seconds on a modern CPU
- All imports and class definitions should be at the very top of the code snippet
- The snippet should end with a return statement from the main function `f`, anything after will be \
removed

### Input Requirements:
- Provide exactly one test input for your function
- Format multiple arguments with commas between them
- Remember to add quotes around string arguments

### Formatting:
- Format your code with:
```python
def f(...):
    # your code here
    return ...
```
- Format your input with:
```input
arg1, arg2, ...
```

### Example Format:
```python
def f(name: str, info: dict):
    # code logic here
    return result
```

```input
'John', {{'age': 20, 'city': 'New York'}}
```

### Evaluation Criteria:
- Executability, your code should be executable given your input
- {difficulty} Focus on either algorithmic reasoning or logic complexity. For example, you can define \
complex data structure classes and operate on them like trees, heaps, stacks, queues, graphs, etc, or \
use complex control flow, dynamic programming, recursions, divide and conquer, greedy, backtracking, etc
- Creativity, the code needs to be sufficiently different from the provided reference snippets
- Restricted usage of certain keywords and packages, you are not allowed to use the following words \
in any form, even in comments: {banned}

First, carefully devise a clear plan: e.g., identify how your snippet will be challenging, distinct \
from reference snippets, and creative. Then, write the final code snippet and its inputs.

### Reference Code Snippets:
"""

_PROPOSE_WORDING = {
    "deduction": dict(
        goal="the output from the input",
        subject="The input will be given to a test subject to deduce the output.",
        difficulty="Difficulty in predicting the output from your provided input and code snippet.",
    ),
    "abduction": dict(
        goal="one possible input from a given output",
        subject="The output will be given to a test subject to come up with any input that will "
                "produce the same output.",
        difficulty="Difficulty in predicting your ```input``` from 1) your ```python``` code and 2) the "
                   "deterministic ```output``` that will be obtained from your ```input```.",
    ),
}

PROPOSE_INDUCTION = """
## Task: Output {n_inputs} Inputs that can be plugged into the following Code Snippet to produce diverse \
Outputs, and give a message related to the given snippet.

Using the code snippet provided below, design {n_inputs} inputs that can be plugged into the code \
snippet to produce a diverse set of outputs. A subset of your given input and its deterministically \
produced outputs will be given to a test subject to deduce the function, which is meant to be an I.Q. \
test. You can also leave a message to the test subject to help them deduce the code snippet.

### Input Requirements:
- Provide {n_inputs} valid inputs for the code snippet
- For each input, format multiple arguments with commas between them
- Remember to add quotes around string arguments
- Each input should be individually wrapped in ```input``` tags

### Message Requirements:
- Leave a message to the test subject to help them deduce the code snippet
- The message should be wrapped in ```message``` tags
- The message can be in any form, can even be formed into a coding question, or a natural language \
instruction what the code snippet does
- You cannot provide the code snippet in the message

### Formatting:
- Format your input with:
```input
arg1, arg2, ...
```

### Example Format:
```input
'John', {{'age': 20, 'city': 'New York'}}
```
```input
'Sammy', {{'age': 37, 'city': 'Los Angeles'}}
```

### Evaluation Criteria:
- Executability, your code should be executable given your inputs
- Coverage, the inputs and outputs should cover the whole input space of the code snippet, able to \
deduce the code snippet from the inputs and outputs
- Creativity, the inputs need to be sufficiently different from each other
- The overall selection of inputs and message combined should be challenging for the test subject, \
but not impossible for them to solve
First, carefully devise a clear plan: e.g., understand the code snippet, then identify how your \
proposed inputs have high coverage, and why the inputs will be challenging and creative. Then, write \
the inputs and message. Remember to wrap your inputs in ```input``` tags, and your message in \
```message``` tags.

### Code Snippet:
```python
{program}
f(<|YOUR INPUT WILL BE PLUGGED HERE|>)
```
"""


def proposer_body(mode: str, references: list[Task], banned: tuple[str, ...] = BANNED_IMPORTS,
                  n_inputs: int = 10) -> str:
    """The proposer's task text: K reference snippets (deduction, abduction) or one program."""
    if mode == "induction":
        return PROPOSE_INDUCTION.format(n_inputs=n_inputs, program=references[0].program)
    text = _PROPOSE_CODE.format(banned=", ".join(banned), **_PROPOSE_WORDING[mode])
    for i, ref in enumerate(references):
        text += (f"<snippet_{i}>\n```python\n{ref.program}\n```\n```input\n{ref.args}\n```\n"
                 f"```output\n{ref.output}\n```\n</snippet_{i}>\n")
    return text + "\n"


def proposer_prompt(mode: str, references: list[Task], prompt_format: PromptFormat = "r1",
                    banned: tuple[str, ...] = BANNED_IMPORTS, n_inputs: int = 10) -> str:
    """The observation text for a proposer, in the same two forms as :func:`solver_prompt`."""
    return wrap_prompt(proposer_body(mode, references, banned, n_inputs), prompt_format)
