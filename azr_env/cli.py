"""The ``azr`` command line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Absolute Zero Reasoner environments.")
# No markup (user text such as "pip install 'azr-env[vllm]'" keeps its brackets) and no hard
# wrapping (a path or URL stays on one line when the output is a log, not a terminal).
# Off a terminal (a log, CI) tables get 160 columns, not rich's 80, so headers stay on one line.
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(markup=False, soft_wrap=True, width=_WIDTH)
err_console = Console(stderr=True, markup=False, soft_wrap=True, width=_WIDTH)


def _error(message: str, label: str = "error") -> None:
    err_console.print(Text.assemble((f"{label}:", "red"), " ", message), highlight=False)


@app.command("exec")
def exec_program(
    program_file: Path = typer.Argument(..., help="Python file defining a function f."),
    args: str = typer.Option("", "--args", "-a", help="Argument-list source, e.g. \"[1, 2], 'a'\"."),
    timeout_s: float = typer.Option(5.0, "--timeout", help="Wall-clock limit in seconds."),
    memory_mb: int = typer.Option(1024, "--memory-mb", help="Memory limit of the worker in MiB."),
    validate: bool = typer.Option(False, "--validate", help="Also check that f is deterministic."),
    eval_args: bool = typer.Option(
        False, "--eval-args", help="Evaluate ARGS as Python in the program's namespace (default: literals)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Run f(ARGS) from PROGRAM_FILE in the sandbox and print the result."""
    from azr_env.executor import Executor, Job

    try:
        program = program_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        _error(f"no such file: {program_file}")
        raise typer.Exit(2) from None
    except (OSError, UnicodeDecodeError) as exc:
        _error(f"cannot read {program_file} as UTF-8 text: {exc}")
        raise typer.Exit(2) from None
    try:
        executor = Executor(workers=1, timeout_s=timeout_s, memory_mb=memory_mb)
    except ValueError as exc:
        _error(str(exc))
        raise typer.Exit(2) from None
    with executor:
        job = Job(program, args, evaluate_args=eval_args)
        result = executor.validate_batch([job])[0] if validate else executor.run_batch([job])[0]
    if as_json:
        payload = {
            "status": str(result.status),
            "output": result.output,
            "error": result.error,
            "duration_s": round(result.duration_s, 6),
        }
        console.print_json(json.dumps(payload))
    elif result.ok:
        console.print(result.output, markup=False, highlight=False)
    else:
        _error(result.error or "", label=str(result.status))
    raise typer.Exit(0 if result.ok else 1)


_DEMO_PROGRAMS = [
    (
        "a helper and a class",
        "class Acc:\n    def __init__(self):\n        self.items = []\n\n"
        "    def add(self, x):\n        self.items.append(x * x)\n\n"
        "def f(xs):\n    acc = Acc()\n    for x in xs:\n        acc.add(x)\n    return sorted(acc.items)",
        "[3, 1, 2]",
    ),
    ("an infinite loop", "def f():\n    while True:\n        pass", ""),
    ("a memory bomb", "def f():\n    return [0] * 10**10", ""),
    ("reading a file", "def f():\n    return open('/etc/passwd').read()", ""),
    ("an import of os", "import os\ndef f():\n    return os.listdir('/')", ""),
    (
        "an object with a forged __eq__",
        "class Liar:\n    def __eq__(self, other):\n        return True\ndef f():\n    return Liar()",
        "",
    ),
    ("patching math.pi", "import math\ndef f():\n    math.pi = 3\n    return math.pi", ""),
    ("math.pi in the next job", "import math\ndef f():\n    return math.pi", ""),
]


@app.command()
def demo(timeout_s: float = typer.Option(1.0, "--timeout", help="Per-job limit for the demo.")) -> None:
    """Show the sandboxed executor at work on a few programs, good and bad."""
    from azr_env.executor import Executor, Job

    start = time.perf_counter()
    with Executor(timeout_s=timeout_s, memory_mb=512) as executor:
        console.print(Text.assemble(("Executor", "bold"), f" with {executor.workers} workers, started in "
                                    f"{time.perf_counter() - start:.2f} s"))
        console.print(f"isolation: {executor.isolation}")
        table = Table("program", "status", "output or error")
        results = executor.run_batch([Job(p, a) for _, p, a in _DEMO_PROGRAMS])
        for (name, _, _), result in zip(_DEMO_PROGRAMS, results, strict=True):
            colour = "green" if result.ok else "yellow"
            detail = result.output if result.ok else result.error
            table.add_row(name, Text(str(result.status), style=colour), (detail or "")[:90])
        console.print(table)
        inputs = [repr(i) for i in range(5000)]
        start = time.perf_counter()
        executor.run_program("def f(x):\n    return x * 2", inputs)
        rate = len(inputs) / (time.perf_counter() - start)
        jobs = [Job(f"def f(x):\n    return x * {i}", "2") for i in range(200)]
        start = time.perf_counter()
        executor.run_batch(jobs)
        fresh = len(jobs) / (time.perf_counter() - start)
        console.print(f"throughput: {rate:,.0f} runs/s of one program on many inputs; "
                      f"{fresh:,.0f} programs/s, each in a fresh sandboxed process "
                      f"({executor.workers} at a time)")
        _demo_envs(executor)


def _demo_envs(executor) -> None:
    """Play each solver env with a scripted solver: right on even steps, wrong on odd ones."""
    import gymnasium as gym

    import azr_env  # noqa: F401  (registers the ids)
    from azr_env.tasks.task import gold_answer

    tag = {"deduction": "output", "abduction": "input", "induction": "python"}
    table = Table("env", "episodes", "mean reward", "solve rate", "example status")
    for env_id in ("AZR-Deduction-v0", "AZR-Abduction-v0", "AZR-Induction-v0"):
        vec = gym.make_vec(env_id, num_envs=16, vectorization_mode="vector_entry_point", executor=executor)
        vec.reset(seed=0)
        rewards, solved, statuses = [], 0, set()
        for step in range(4):
            actions = []
            for i, env in enumerate(vec.unwrapped.envs):
                task = env.task
                answer = gold_answer(task) if (i + step) % 2 == 0 else "0"
                actions.append(f"Let me trace it.</think><answer>```{tag[task.mode]}\n{answer}\n```</answer>")
            _, reward, _, _, infos = vec.step(actions)
            rewards.extend(reward.tolist())
            solved += int(infos["final_info"]["correct"].sum())
            statuses.update(infos["final_info"]["status"].tolist())
        table.add_row(
            env_id,
            str(len(rewards)),
            f"{sum(rewards) / len(rewards):+.2f}",
            f"{solved / len(rewards):.0%}",
            ", ".join(sorted(statuses)),
        )
        vec.close()
    console.print(Text.assemble(("Solver envs", "bold"),
                                " with a scripted solver (gold answer on half the episodes):"))
    console.print(table)


# ---------------------------------------------------------------------------------------
# azr tasks: task-set files
# ---------------------------------------------------------------------------------------
tasks_app = typer.Typer(no_args_is_help=True, help="Convert, verify and show task-set files.")
app.add_typer(tasks_app, name="tasks")
SOURCES = ("cruxeval", "humanevalplus", "mbppplus", "humaneval", "seed")


def _fail(message: str, code: int = 2) -> None:
    _error(message)
    raise typer.Exit(code)


def _load_source(source: str, path: str | None, mode: str, hidden_cap: int | None = None):
    from azr_env import tasks

    if source == "cruxeval":
        return tasks.load_cruxeval(path, mode)  # type: ignore[arg-type]
    if source == "seed":
        return tasks.seed_tasks(mode)  # type: ignore[arg-type]
    if source == "humaneval":
        return tasks.load_humaneval(path)
    return tasks.load_evalplus(path, which=source.removesuffix("plus"), hidden_cap=hidden_cap)


def _open_taskset(spec: str):
    """A task-set file, or ``seed:MODE`` for the bundled seed set."""
    from azr_env.tasks.seeds import seed_tasks
    from azr_env.tasks.taskset import TaskSet, TaskSetError

    if spec.startswith("seed:"):
        mode = spec.split(":", 1)[1]
        if mode not in ("deduction", "abduction", "induction"):
            _fail(f"seed:MODE needs a mode (deduction, abduction, induction), got {mode!r}")
        return seed_tasks(mode)  # type: ignore[arg-type]
    try:
        return TaskSet.load(spec)
    except TaskSetError as exc:
        _fail(str(exc))


@tasks_app.command("convert")
def tasks_convert(
    source: str = typer.Argument(..., help=f"One of {', '.join(SOURCES)}."),
    path: str = typer.Argument(
        None, help="The benchmark's data file (downloaded when omitted, if possible)."
    ),
    mode: str = typer.Option(
        "deduction", "--mode", help="cruxeval/seed: deduction or abduction (or induction)."
    ),
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the task set (.jsonl)."),
    hidden_cap: int = typer.Option(
        None, "--hidden-cap", min=1,
        help="humanevalplus/mbppplus: score at most N plus inputs per task (for training speed; "
        "a benchmark score needs them all, the default).",
    ),
) -> None:
    """Convert a benchmark file into a versioned task-set file."""
    from azr_env.tasks.taskset import TaskSetError

    if source not in SOURCES:
        _fail(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    if hidden_cap is not None and source not in ("humanevalplus", "mbppplus"):
        _fail("--hidden-cap applies to humanevalplus and mbppplus only")
    try:
        taskset = _load_source(source, path, mode, hidden_cap)
    except (TaskSetError, ValueError, OSError, RuntimeError) as exc:
        _fail(str(exc))
    taskset.save(out)
    console.print(f"wrote {len(taskset)} {taskset.mode} tasks ({taskset.name} v{taskset.version}) to {out}")


@tasks_app.command("verify")
def tasks_verify(taskset: str = typer.Argument(..., help="A task-set file.")) -> None:
    """Re-run every gold answer in the sandbox; exit 1 if any no longer holds."""
    loaded = _open_taskset(taskset)
    report = loaded.verify()
    for task_id, reason in report.failures:
        _error(reason, label=task_id)
    console.print(f"{report.checked - len(report.failures)}/{report.checked} tasks verified")
    raise typer.Exit(0 if report.ok else 1)


@tasks_app.command("show")
def tasks_show(
    taskset: str = typer.Argument(..., help="A task-set file."),
    limit: int = typer.Option(20, "--limit", help="Rows to show."),
) -> None:
    """Print a task set's manifest and its first tasks as a table."""
    loaded = _open_taskset(taskset)
    manifest = loaded.manifest()
    console.print(Text.assemble(
        (loaded.name, "bold"),
        f" v{loaded.version}: {len(loaded)} {manifest['mode']} tasks, sha256 {manifest['sha256'][:16]}..., "
        f"source {loaded.source or '-'}, licence {loaded.license or '-'}"))
    table = Table("id", "mode", "program", "input / pairs", "output")
    for task in list(loaded)[:limit]:
        first = task.program.strip().splitlines()[0] if task.program.strip() else ""
        inputs = (
            task.args
            if task.mode != "induction"
            else f"{len(task.visible)} visible, {len(task.hidden)} hidden"
        )
        table.add_row(task.id, task.mode, first[:50], inputs[:40], task.output[:40])
    console.print(table)


EXPORT_FORMATS = ("jsonl", "parquet", "verl")


@tasks_app.command("export")
def tasks_export(
    taskset: str = typer.Argument(..., help="A task-set file (or seed:MODE)."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or parquet (TRL / datasets rows), or verl "
                            "(veRL's RLHFDataset parquet schema)."),
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the rows."),
    prompt_format: str = typer.Option("chat", "--prompt-format",
                                      help="jsonl/parquet: chat (messages) or r1 (raw text)."),
    split: str = typer.Option("train", "--split", help="verl: the split named in extra_info."),
) -> None:
    """Write a task set as training data for TRL, datasets or veRL (scored by azr_env.integrations)."""
    from azr_env import export

    if fmt not in EXPORT_FORMATS:
        _fail(f"unknown format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if prompt_format not in ("chat", "r1"):
        _fail(f"--prompt-format must be chat or r1, got {prompt_format!r}")
    loaded = _open_taskset(taskset)
    try:
        if fmt == "jsonl":
            export.to_jsonl(loaded, out, prompt_format)
        elif fmt == "parquet":
            export.to_parquet(loaded, out, prompt_format)
        else:
            export.to_verl_parquet(loaded, out, split)
    except (ImportError, OSError) as exc:
        _fail(str(exc))
    console.print(f"wrote {len(loaded)} rows ({fmt}) to {out}")


# ---------------------------------------------------------------------------------------
# azr serve: rewards over HTTP
# ---------------------------------------------------------------------------------------
@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
    workers: int = typer.Option(None, "--workers", min=1, help="Sandboxes at a time (default: cores)."),
    timeout_s: float = typer.Option(5.0, "--timeout", min=0.01, help="Per-run wall-clock limit in seconds."),
    max_body_mb: float = typer.Option(16.0, "--max-body-mb", min=0.001, help="Largest request body."),
) -> None:
    """Serve rewards over HTTP: GET /health, POST /v1/score, POST /v1/validate (docs/integrations.md)."""
    try:
        from azr_env.integrations.server import serve as run_server
    except ImportError as exc:
        _fail(f"azr serve needs FastAPI and uvicorn: pip install 'azr-env[serve]' ({exc})")
    console.print(f"azr serve: listening on http://{host}:{port} (Ctrl-C or SIGTERM stops it)")
    run_server(host, port, workers, int(max_body_mb * 2**20), timeout_s)


RAY_HELP = ("Run the sandbox on a Ray cluster: 'local' starts one here, 'auto' joins the one running "
            "here, HOST:PORT joins that head node, ray://HOST:10001 uses Ray Client.")


# ---------------------------------------------------------------------------------------
# azr bench: score a solver
# ---------------------------------------------------------------------------------------
@app.command()
def bench(
    taskset: str = typer.Argument(
        ..., help="A task-set file, seed:MODE, or `compare` followed by two results."
    ),
    others: list[str] = typer.Argument(None, help="With `compare`: the two results.json files (or folders)."),
    solver: str = typer.Option(
        "hf:embedded", "--solver", help="python:module:function, hf:PATH|embedded, openai:MODEL, vllm:MODEL."
    ),
    n_samples: int = typer.Option(1, "-n", "--samples", min=1,
                                   help="Completions per task (pass@k needs n >= k)."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0,
                                       help="Sampling temperature (0: greedy)."),
    out: Path = typer.Option(Path("runs/bench"), "--out", help="Output folder (completions cache, results)."),
    seed: int = typer.Option(0, "--seed", help="Seed for sampling."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Prompts per solver call."),
    max_new_tokens: int = typer.Option(512, "--max-new-tokens", min=1,
                                        help="Generation budget per completion."),
    limit: int = typer.Option(0, "--limit", min=0, help="Only the first N tasks (0: all)."),
    base_url: str = typer.Option(None, "--base-url", help="openai: the server's base URL."),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="openai: requests in flight."),
    format_rule: str = typer.Option("strict", "--format-rule", help="strict (AZR's tags), fenced, lenient."),
    ray: str = typer.Option(None, "--ray", metavar="ADDRESS", help=RAY_HELP),
) -> None:
    """Score a solver on a task set (or compare two results: `azr bench compare A B`)."""
    from azr_env.bench import harness

    if taskset == "compare":
        if not others or len(others) != 2:
            _fail("usage: azr bench compare A B (two results.json files or their folders)")
        _print_compare(harness, *others)
        return
    if others:
        _fail(f"unexpected arguments: {' '.join(others)}")
    loaded = _open_taskset(taskset)
    if limit > 0:
        from azr_env.tasks.taskset import TaskSet

        loaded = TaskSet(
            list(loaded)[:limit], loaded.name, loaded.version, source=loaded.source, license=loaded.license
        )
    from azr_env.bench.solvers import SolverError, make_solver
    from azr_env.scoring.parsing import FORMAT_RULES

    if format_rule not in FORMAT_RULES:  # before the solver: building one may load a model
        _fail(f"--format-rule must be one of {', '.join(FORMAT_RULES)}, got {format_rule!r}")
    try:
        solve = make_solver(
            solver,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            base_url=base_url,
            concurrency=concurrency,
            seed=seed,
        )
    except Exception as exc:  # a bad spec, a missing extra, an unreachable model: say so plainly
        _fail(f"cannot build solver {solver!r}: {exc}")
    settings = {"temperature": temperature, "max_new_tokens": max_new_tokens, "limit": limit}
    executor = None
    if ray is not None and harness.needs_executor(loaded):
        executor = _ray_executor(ray, **harness.executor_limits(loaded))
    try:
        results = harness.run_bench(
            loaded,
            solve,
            out,
            n_samples=n_samples,
            batch_size=batch_size,
            seed=seed,
            solver_name=_solver_identity(solver),
            settings=settings,
            format_rule=format_rule,
            executor=executor,
        )
    except ValueError as exc:
        _fail(str(exc))
    except SolverError as exc:
        _fail(f"{exc} (the completions received so far are saved: run the same command again to resume)")
    finally:
        if executor is not None:
            executor.close()
    reused = results["completions"]["reused"]
    if reused:
        console.print(f"resumed: {reused} completions reused from {out / harness.COMPLETIONS}, "
                      f"{results['completions']['generated']} generated now")
    console.print(harness.markdown_table(results), highlight=False)
    console.print(f"results in {out}/results.json, results.md, results.png")


def _ray_executor(address: str, **limits: object):
    """A RayExecutor on ``address``, or one clear line and the exit."""
    try:
        from azr_env.executor import RayExecutor

        return RayExecutor(address, **limits)
    except ImportError as exc:
        _fail(str(exc))
    except Exception as exc:  # an unreachable address, a cluster with no room: say so plainly
        _fail(f"cannot start the Ray executor on {address!r}: {_one_line(exc)}")


def _solver_identity(spec: str) -> str:
    """The spec with any local path made absolute: ``hf:./m`` and ``hf:/abs/m`` are one solver
    to the completion cache, so a resume does not depend on the directory it is run from."""
    scheme, _, rest = spec.partition(":")
    if scheme == "hf" and rest != "embedded" and Path(rest).exists():
        return f"hf:{Path(rest).resolve()}"
    if scheme == "python":
        target, sep, function = rest.rpartition(":")
        if target.endswith(".py") and Path(target).exists():
            return f"python:{Path(target).resolve()}{sep}{function}"
    return spec


COMPARE_TASKS_SHOWN = 20


def _print_compare(harness, a: str, b: str) -> None:
    def read(spec: str) -> dict:
        path = Path(spec) / "results.json" if Path(spec).is_dir() else Path(spec)
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            _fail(f"cannot read results {path}: {exc}")
            raise

    diff = harness.compare(read(a), read(b))
    for warning in diff["warnings"]:
        _error(warning, label="warning")
    table = Table("mode", "metric", "A", "B", "B - A")
    for mode, metrics in diff["modes"].items():
        for metric, v in metrics.items():
            table.add_row(mode, metric, f"{v['a']:.3f}", f"{v['b']:.3f}", f"{v['delta']:+.3f}")
    console.print(table)
    shown = list(diff["tasks"].items())[:COMPARE_TASKS_SHOWN]
    if shown:
        tasks = Table("task", "pass@1 A", "pass@1 B", "B - A",
                      title=f"largest changes ({len(shown)} of {len(diff['tasks'])})")
        for task_id, v in shown:
            tasks.add_row(task_id, f"{v['a']:.2f}", f"{v['b']:.2f}", f"{v['delta']:+.2f}")
        console.print(tasks)
    console.print(
        f"{len(diff['tasks'])} tasks changed; only in A: {len(diff['only_in']['a'])}, "
        f"only in B: {len(diff['only_in']['b'])}"
    )


# ---------------------------------------------------------------------------------------
# azr train: the reference agent
# ---------------------------------------------------------------------------------------
@app.command()
def train(
    config: Path = typer.Option(
        None,
        "--config",
        help="A YAML config (agents/configs/*.yaml); default: "
        "the embedded SmolLM2 on CPU, a few small steps.",
    ),
    steps: int = typer.Option(None, "--steps", help="Train until this many steps."),
    out: Path = typer.Option(None, "--out", help="Output folder (checkpoints, TensorBoard, metrics)."),
    resume: Path = typer.Option(None, "--resume", help="Continue the run in this output folder exactly."),
    ray: str = typer.Option(None, "--ray", metavar="ADDRESS", help=RAY_HELP),
) -> None:
    """Train the reference agent with TRR++ self-play (AZR)."""
    try:  # the config first: pydantic only, so a bad config fails before torch loads
        from azr_agents.config import TrainConfig
    except ImportError as exc:
        _fail(f"training needs the train extra (pip install 'azr-env[train]'): {exc}")
    given = {"steps": steps, "out": str(out) if out else None, "ray_address": ray}
    overrides = {k: v for k, v in given.items() if v is not None}
    try:
        if resume is not None:
            from azr_agents import checkpoint

            found = checkpoint.latest(resume)
            if found is None:
                _fail(f"no complete checkpoint under {resume}")
            base = json.loads((found / "config.json").read_text())
            done = json.loads((found / "meta.json").read_text())["step"]
            if overrides.get("steps", base.get("steps", 0)) <= done:
                _fail(f"{resume} is at step {done} already: pass --steps N with N > {done} to continue")
            overrides.setdefault("out", str(resume))
        elif config is not None:
            base = TrainConfig.from_yaml(config).model_dump()
        else:
            base = {}
        cfg = TrainConfig.model_validate({**base, **overrides})
    except (OSError, ValueError) as exc:
        _fail(f"bad config: {_one_line(exc)}")
    try:
        from azr_agents.report import run_summary_table, summary_lines
        from azr_agents.train import train as run_training
    except ImportError as exc:
        _fail(f"training needs the train extra (pip install 'azr-env[train]'): {exc}")
    console.print(
        f"training {cfg.model} for {cfg.steps} steps, batch {cfg.batch_size} per (mode, role), "
        f"format rule {cfg.format_rule}, out {cfg.out}"
    )
    try:
        history = run_training(cfg, resume=str(resume) if resume else None)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    console.print(run_summary_table(history))
    console.print(
        f"reward curves: {Path(cfg.out) / 'rewards.png'}; TensorBoard: {Path(cfg.out) / 'tensorboard'}"
    )
    console.print("\n".join(summary_lines(history, cfg.format_rule)))


def _one_line(exc: Exception) -> str:
    """A pydantic error as ``field: problem (got value)``, joined by ``;``; anything else as is."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']} (got {e.get('input')!r})"
                     for e in exc.errors())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
