"""The ``azr`` command line."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Absolute Zero Reasoner environments.")
console = Console()
err_console = Console(stderr=True)


@app.command("exec")
def exec_program(
    program_file: Path = typer.Argument(..., help="Python file defining a function f."),
    args: str = typer.Option("", "--args", "-a", help="Argument-list source, e.g. \"[1, 2], 'a'\"."),
    timeout_s: float = typer.Option(5.0, "--timeout", help="Wall-clock limit in seconds."),
    memory_mb: int = typer.Option(1024, "--memory-mb", help="Memory limit of the worker in MiB."),
    validate: bool = typer.Option(False, "--validate", help="Also check that f is deterministic."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Run f(ARGS) from PROGRAM_FILE in the sandbox and print the result."""
    from azr_env.executor import Executor, Job

    try:
        program = program_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        err_console.print(f"[red]error:[/] no such file: {program_file}")
        raise typer.Exit(2) from None
    except (OSError, UnicodeDecodeError) as exc:
        err_console.print(f"[red]error:[/] cannot read {program_file} as UTF-8 text: {exc}")
        raise typer.Exit(2) from None
    try:
        executor = Executor(workers=1, timeout_s=timeout_s, memory_mb=memory_mb)
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    with executor:
        job = Job(program, args)
        result = executor.validate_batch([job])[0] if validate else executor.run_batch([job])[0]
    if as_json:
        payload = {"status": str(result.status), "output": result.output, "error": result.error,
                   "duration_s": round(result.duration_s, 6)}
        console.print_json(json.dumps(payload))
    elif result.ok:
        console.print(result.output, markup=False, highlight=False)
    else:
        err_console.print(f"[red]{result.status}:[/] {result.error}", markup=True, highlight=False)
    raise typer.Exit(0 if result.ok else 1)


_DEMO_PROGRAMS = [
    ("a helper and a class", "class Acc:\n    def __init__(self):\n        self.items = []\n\n"
     "    def add(self, x):\n        self.items.append(x * x)\n\n"
     "def f(xs):\n    acc = Acc()\n    for x in xs:\n        acc.add(x)\n    return sorted(acc.items)",
     "[3, 1, 2]"),
    ("an infinite loop", "def f():\n    while True:\n        pass", ""),
    ("a memory bomb", "def f():\n    return [0] * 10**10", ""),
    ("reading a file", "def f():\n    return open('/etc/passwd').read()", ""),
    ("an import of os", "import os\ndef f():\n    return os.listdir('/')", ""),
    ("an object with a forged __eq__", "class Liar:\n    def __eq__(self, other):\n"
     "        return True\ndef f():\n    return Liar()", ""),
    ("patching math.pi", "import math\ndef f():\n    math.pi = 3\n    return math.pi", ""),
    ("math.pi in the next job", "import math\ndef f():\n    return math.pi", ""),
]


@app.command()
def demo(timeout_s: float = typer.Option(1.0, "--timeout", help="Per-job limit for the demo.")) -> None:
    """Show the sandboxed executor at work on a few programs, good and bad."""
    from azr_env.executor import Executor, Job

    start = time.perf_counter()
    with Executor(timeout_s=timeout_s, memory_mb=512) as executor:
        console.print(f"[bold]Executor[/] with {executor.workers} workers, started in "
                      f"{time.perf_counter() - start:.2f} s")
        console.print(f"isolation: {executor.isolation}")
        table = Table("program", "status", "output or error")
        results = executor.run_batch([Job(p, a) for _, p, a in _DEMO_PROGRAMS])
        for (name, _, _), result in zip(_DEMO_PROGRAMS, results, strict=True):
            colour = "green" if result.ok else "yellow"
            detail = result.output if result.ok else result.error
            table.add_row(name, f"[{colour}]{result.status}[/]", (detail or "")[:90])
        console.print(table)
        jobs = [Job("def f(x):\n    return x * 2", repr(i)) for i in range(5000)]
        start = time.perf_counter()
        executor.run_batch(jobs)
        rate = len(jobs) / (time.perf_counter() - start)
        console.print(f"throughput: {rate:,.0f} trivial jobs/s across {executor.workers} workers")
        _demo_envs(executor)


def _demo_envs(executor) -> None:
    """Play each solver env with a scripted solver: right on even steps, wrong on odd ones."""
    import gymnasium as gym

    import azr_env  # noqa: F401  (registers the ids)

    tag = {"deduction": "output", "abduction": "input", "induction": "python"}
    table = Table("env", "episodes", "mean reward", "solve rate", "example status")
    for env_id in ("AZR-Deduction-v0", "AZR-Abduction-v0", "AZR-Induction-v0"):
        vec = gym.make_vec(env_id, num_envs=16, vectorization_mode="vector_entry_point",
                           executor=executor)
        vec.reset(seed=0)
        rewards, solved, statuses = [], 0, set()
        for step in range(4):
            actions = []
            for i, env in enumerate(vec.unwrapped.envs):
                task = env.task
                gold = {"deduction": task.output, "abduction": task.args,
                        "induction": task.program}[task.mode]
                answer = gold if (i + step) % 2 == 0 else "0"
                actions.append(f"Let me trace it.</think><answer>```{tag[task.mode]}\n{answer}\n```</answer>")
            _, reward, _, _, infos = vec.step(actions)
            rewards.extend(reward.tolist())
            solved += int(infos["final_info"]["correct"].sum())
            statuses.update(infos["final_info"]["status"].tolist())
        table.add_row(env_id, str(len(rewards)), f"{sum(rewards) / len(rewards):+.2f}",
                      f"{solved / len(rewards):.0%}", ", ".join(sorted(statuses)))
        vec.close()
    console.print("[bold]Solver envs[/] with a scripted solver (gold answer on half the episodes):")
    console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
