"""The executor's public API on well-behaved programs, and fidelity on CRUXEval."""

from __future__ import annotations

import ast

from azr_env.executor import Executor, Job, Result, Status, values_equal


def test_run_returns_canonical_output_and_value(executor: Executor) -> None:
    result = executor.run("def f(x):\n    return x * 2", "21")
    assert isinstance(result, Result)
    assert result.status is Status.OK and result.status == "ok"
    assert result.output == "42" and result.value == 42 and type(result.value) is int
    assert result.error is None and result.duration_s > 0


def test_run_batch_keeps_order_and_length(executor: Executor) -> None:
    jobs = [Job("def f(x):\n    return x + 1", repr(i)) for i in range(300)]
    results = executor.run_batch(jobs)
    assert [r.value for r in results] == list(range(1, 301))
    assert executor.run_batch([]) == []


def test_accepts_helpers_classes_nested_recursion_lambdas(executor: Executor) -> None:
    program = '''
import functools
from collections import Counter

LIMIT = 10

class Node:
    def __init__(self, value, children=()):
        self.value = value
        self.children = list(children)

    def total(self):
        return self.value + sum(c.total() for c in self.children)

    def __repr__(self):
        return f"Node({self.value})"

def helper(n):
    @functools.lru_cache(maxsize=None)
    def fib(k):
        return k if k < 2 else fib(k - 1) + fib(k - 2)
    return fib(n)

def f(xs):
    tree = Node(1, [Node(x) for x in xs])
    squares = list(map(lambda v: v * v, xs))
    return tree.total(), helper(LIMIT), dict(Counter(squares)), [s for s in squares if s % 2]
'''
    result = executor.run(program, "[1, 2, 3, 3]")
    assert result.ok, result.error
    assert result.value == (10, 55, {1: 1, 4: 1, 9: 2}, [1, 9, 9])


def test_args_are_literal_data_unless_asked_to_evaluate(executor: Executor) -> None:
    program = "TABLE = [5, 6, 7]\ndef f(xs, g):\n    return [g(x) for x in xs]"
    refused = executor.run(program, "TABLE[:], lambda x: x < 6")
    assert refused.status is Status.REJECTED and "not a literal" in refused.error
    result = executor.run(program, "TABLE[:], lambda x: x < 6", evaluate_args=True)
    assert result.ok and result.value == [True, False, False]
    assert executor.run("def f(*a, **k):\n    return len(a), sorted(k)", "1, 2, z=3,").value == (2, ["z"])
    assert executor.run("def f():\n    return 7", "").value == 7


def test_exact_values_cross_the_boundary(executor: Executor) -> None:
    program = (
        "def f():\n    return [None, True, 3, -0.0, float('nan'), float('inf'), 1+2j, 'é', b'\\x00',"
        " (1,), {'k': {1, 2}}, frozenset({3})]"
    )
    result = executor.run(program, "")
    assert result.ok, result.error
    value = result.value
    assert [type(v) for v in value] == [type(None), bool, int, float, float, float, complex, str, bytes,
                                         tuple, dict, frozenset]
    assert str(value[3]) == "-0.0" and value[4] != value[4] and value[5] == float("inf")
    assert result.output.startswith("[None, True, 3, -0.0, nan, inf, (1+2j), 'é', b'\\x00', (1,)")


def test_ints_past_pythons_digit_limit_cross_exactly(executor: Executor) -> None:
    # repr() of an int over 4,300 digits raises in Python 3.11+; such outputs travel in hex.
    result = executor.run("def f(n):\n    return [3 ** n, -(3 ** n), 7]", "30000")
    assert result.ok, result.error
    assert result.value == [3**30000, -(3**30000), 7]
    assert result.output.startswith("[0x") and result.output.endswith(", 7]")


def test_set_repr_is_sorted_so_it_does_not_depend_on_hash_seed(executor: Executor) -> None:
    result = executor.run("def f():\n    return {'pear', 'apple', 'fig'}", "")
    assert result.output == "{'apple', 'fig', 'pear'}"


def test_values_equal_rule() -> None:
    assert values_equal({1: [1.0, float("nan")]}, {1: [1.0, float("nan")]})
    assert values_equal({"a", "b"}, {"b", "a"}) and values_equal({"x": 1, "y": 2}, {"y": 2, "x": 1})
    assert not values_equal(1, 1.0) and not values_equal(True, 1) and not values_equal([1], (1,))
    assert values_equal(1, 1.0, strict_types=False) and values_equal(True, 1, strict_types=False)
    assert not values_equal([1], (1,), strict_types=False)
    assert values_equal(0.0, -0.0)
    assert values_equal([1.0, 2.0], [1.0 + 1e-9, 2.0], atol=1e-6)
    assert not values_equal([1.0, 2.0], [1.1, 2.0], atol=1e-6)
    assert not values_equal({1: "a"}, {True: "a"}) and values_equal({1: "a"}, {True: "a"}, strict_types=False)


def test_cruxeval_fidelity_all_800(executor: Executor, cruxeval_rows: list[dict]) -> None:
    """Every CRUXEval item, run with its gold input, gives exactly its gold output."""
    assert len(cruxeval_rows) == 800
    jobs = [Job(row["code"], row["input"], evaluate_args=True) for row in cruxeval_rows]
    results = executor.run_batch(jobs)
    failures = []
    for row, result in zip(cruxeval_rows, results, strict=True):
        gold = ast.literal_eval(row["output"])
        if not (result.ok and result.output == row["output"] and values_equal(result.value, gold)):
            failures.append((row["id"], result.status, result.error, result.output, row["output"]))
    assert failures == []


def test_validate_accepts_all_cruxeval_programs(executor: Executor, cruxeval_rows: list[dict]) -> None:
    jobs = [Job(row["code"], row["input"], evaluate_args=True) for row in cruxeval_rows]
    results = executor.validate_batch(jobs)
    bad = [(row["id"], r.status, r.error) for row, r in zip(cruxeval_rows, results, strict=True) if not r.ok]
    assert bad == []


class _Finalised:
    """Garbage with a finaliser: a collection during one thread's parse lets another run."""

    def __del__(self) -> None:
        sum(range(50))


def test_answers_parse_safely_from_many_threads() -> None:
    """CPython 3.11's AST builder fails with "SystemError: AST constructor recursion depth
    mismatch" when two threads parse at once: `azr serve` returned a 500 under load, and this
    test failed in 7 of 8 threads before parses were serialised (values.parse_ast)."""
    import threading

    from azr_env.executor import parse_literal

    text = "[" + ", ".join(f"({i}, 'a{i}', [{i}, {{'k': {i}}}])" for i in range(200)) + "]"
    expected = parse_literal(text)
    errors: list[str] = []

    def work() -> None:
        for _ in range(150):
            junk: list = [_Finalised() for _ in range(50)]
            junk.append(junk)  # a cycle: only the collector frees it, at any allocation
            try:
                if parse_literal(text) != expected:
                    errors.append("a wrong value")
            except SystemError as exc:
                errors.append(str(exc))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
