"""Intrinsic proposer rewards: AST distance, type novelty, complexity measures and their config."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from pydantic import ValidationError

from azr_env.scoring import proposer_rewards as pr
from azr_env.scoring.proposer_rewards import (
    MAX_AST_NODES,
    IntrinsicRewardConfig,
    answer_type_novelty,
    ast_edit_distance,
    cyclomatic_complexity,
    halstead,
    intrinsic_rewards,
    mean_ast_distance,
    type_signature,
)

ADD = "def f(a, b):\n    return a + b * 2"
ADD_RENAMED = "def g(x, y):\n    return x + y * 7"
STRAIGHT = "def f(x):\n    y = x + 1\n    return y * 2"
BRANCHY = """\
def f(x):
    if x > 0:
        r = 1
    elif x < 0:
        r = -1
    else:
        r = 0
    for i in range(3):
        r += i
    return r
"""
LOOPY = """\
def f(xs):
    out = {}
    for i, x in enumerate(xs):
        while x > 0:
            try:
                out[i] = [y for y in range(x) if y % 2]
            except ValueError:
                break
            x -= 1
    return sorted(out.items(), key=lambda kv: -len(kv[1]))
"""
BROKEN = "def f(:\n    return"
PROGRAMS = [ADD, ADD_RENAMED, STRAIGHT, BRANCHY, LOOPY, BROKEN, "", "x = 1"]


def _naive_levenshtein(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


# ---------------------------------------------------------------------------------------
# AST edit distance
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("program", [ADD, STRAIGHT, BRANCHY, LOOPY, ""])
def test_identical_programs_are_at_distance_zero(program: str) -> None:
    assert ast_edit_distance(program, program) == 0.0


def test_renaming_variables_and_changing_constants_costs_nothing() -> None:
    assert ast_edit_distance(ADD, ADD_RENAMED) == 0.0
    assert ast_edit_distance("x = 'a'", "total = 3.5") == 0.0


def test_structurally_different_programs_are_far_apart() -> None:
    assert ast_edit_distance(STRAIGHT, LOOPY) > 0.3
    assert ast_edit_distance(ADD, BRANCHY) > 0.3


def test_hand_computed_distance() -> None:
    # x = 1  -> Assign Name Constant;  x = -1 -> Assign Name UnaryOp USub Constant: 2 inserts / 5.
    assert ast_edit_distance("x = 1", "x = -1") == pytest.approx(2 / 5)
    # a + b -> Expr BinOp Name Add Name;  a * b -> Expr BinOp Name Mult Name: 1 substitution / 5.
    assert ast_edit_distance("a + b", "a * b") == pytest.approx(1 / 5)


def test_empty_programs() -> None:
    assert ast_edit_distance("", "") == 0.0
    assert ast_edit_distance("", "x = 1") == 1.0
    assert ast_edit_distance("# only a comment\n", "") == 0.0


@pytest.mark.parametrize("other", [ADD, "", BROKEN, "x = 1"])
def test_unparseable_is_at_distance_one_from_anything(other: str) -> None:
    assert ast_edit_distance(BROKEN, other) == 1.0
    assert ast_edit_distance(other, BROKEN) == 1.0
    assert ast_edit_distance("x = '\0'\n(", other) == 1.0


def test_distance_is_symmetric_and_within_unit_interval() -> None:
    for a, b in itertools.product(PROGRAMS, repeat=2):
        d = ast_edit_distance(a, b)
        assert 0.0 <= d <= 1.0
        assert d == ast_edit_distance(b, a)


def test_bit_parallel_levenshtein_matches_dynamic_programming() -> None:
    rng = random.Random(1234)
    for _ in range(500):
        a = [rng.choice("abcd") for _ in range(rng.randint(0, 70))]
        b = [rng.choice("abcd") for _ in range(rng.randint(0, 70))]
        assert pr._levenshtein(a, b) == _naive_levenshtein(a, b), (a, b)


def test_worst_case_large_programs_are_truncated_and_return() -> None:
    a = "\n".join(f"x{i} = y{i} + {i}" for i in range(5000))
    b = "\n".join(f"for i in range({i}):\n    if i:\n        print(-i)" for i in range(1700))
    assert len(pr._node_types(a)) == MAX_AST_NODES
    assert len(pr._node_types(b)) == MAX_AST_NODES
    d = ast_edit_distance(a, b)
    assert 0.3 < d <= 1.0
    # Programs that differ only beyond the cap are identical as far as the distance goes.
    assert ast_edit_distance(a, a + "\nwhile True:\n    pass\n") == 0.0


def test_mean_ast_distance() -> None:
    assert mean_ast_distance(ADD, []) == 0.0
    assert mean_ast_distance(ADD, [ADD_RENAMED, BROKEN]) == pytest.approx(0.5)
    refs = [STRAIGHT, LOOPY, BRANCHY]
    expected = sum(ast_edit_distance(ADD, r) for r in refs) / 3
    assert mean_ast_distance(ADD, refs) == pytest.approx(expected)


# ---------------------------------------------------------------------------------------
# Output types
# ---------------------------------------------------------------------------------------
def test_answer_type_novelty() -> None:
    assert answer_type_novelty("list", []) == 0.0
    assert answer_type_novelty("dict[str, int]", ["list", "int"]) == 1.0
    assert answer_type_novelty("list", ["list", "list", "int", "dict"]) == 0.5
    assert answer_type_novelty("int", ["list", "list", "int", "dict"]) == 0.75
    assert answer_type_novelty("int", ["int", "int"]) == 0.0
    assert answer_type_novelty("list[int]", ["list"]) == 1.0  # plain string comparison


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "None"),
        (True, "bool"),
        (3, "int"),
        (1.5, "float"),
        (1j, "complex"),
        ("s", "str"),
        (b"s", "bytes"),
        ([1, 2], "list[int]"),
        ({"a": [1.0]}, "dict[str, list[float]]"),
        ([], "list"),
        ({}, "dict"),
        ((), "tuple"),
        (set(), "set"),
        ([1, "a"], "list[int|str]"),
        (["a", 1, 2], "list[int|str]"),
        ([1, True, None], "list[None|bool|int]"),
        ((1, "a", 2.0), "tuple[float|int|str]"),
        ({1, 2}, "set[int]"),
        (frozenset({"a"}), "frozenset[str]"),
        ({1: "a", "b": None}, "dict[int|str, None|str]"),
        ([[], [1]], "list[list|list[int]]"),
        ([(1, "a"), {"k": {2}}], "list[dict[str, set[int]]|tuple[int|str]]"),
        ([[[1]]], "list[list[list[int]]]"),
        ([[[[1]]]], "list[list[list[list]]]"),
        ({"a": {"b": {"c": {"d": 1}}}}, "dict[str, dict[str, dict[str, dict]]]"),
    ],
)
def test_type_signature(value: object, expected: str) -> None:
    assert type_signature(value) == expected


def test_type_signature_of_a_self_referential_list_terminates() -> None:
    loop: list = []
    loop.append(loop)
    assert type_signature(loop) == "list[list[list[list]]]"


# ---------------------------------------------------------------------------------------
# Complexity
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("program", "expected"),
    [
        (STRAIGHT, 1),
        ("", 1),
        (BRANCHY, 4),  # if + elif + for
        ("def f(a, b, c):\n    return a and b and c", 3),
        ("def f(a, b, c):\n    return a and b or c", 3),
        ("def f(a, b):\n    return not a or b", 2),
        ("def f(xs):\n    return [x for x in xs]", 2),
        ("def f(xs):\n    return [x for x in xs if x if x > 1]", 4),
        ("def f(xs):\n    return {x: y for x in xs if x for y in xs}", 4),
        ("def f(x):\n    return 1 if x else 2", 2),
        ("def f(x):\n    while x:\n        x -= 1\n    return x", 2),
        ("def f(x):\n    try:\n        return 1 / x\n    except ZeroDivisionError:\n        return 0\n"
         "    except TypeError:\n        return None", 3),
        ("def f(x):\n    match x:\n        case 1:\n            return 'a'\n        case _:\n"
         "            return 'b'", 3),
        ("def f(x):\n    assert x\n    with open(x) as fh:\n        return fh.read()", 1),
        # One number for the whole program: two functions with one `if` each.
        ("def g(x):\n    if x:\n        return 1\n    return 0\n\ndef f(x):\n    if x:\n"
         "        return g(x)\n    return 0", 3),
        (LOOPY, 6),  # for, while, comprehension for + if, except
        (BROKEN, 0),
    ],
)  # fmt: skip
def test_cyclomatic_complexity(program: str, expected: int) -> None:
    assert cyclomatic_complexity(program) == expected


def test_halstead_hand_computed_example() -> None:
    # Operators: FunctionDef, Return, Add, Mult.  Operands: f, a, b (def and args), a, b, 2.
    h = halstead(ADD)
    assert (h["n1"], h["n2"], h["N1"], h["N2"]) == (4, 4, 4, 6)
    assert h["vocabulary"] == 8
    assert h["length"] == 10
    assert h["volume"] == pytest.approx(30.0)  # 10 * log2(8)
    assert h["difficulty"] == pytest.approx(3.0)  # 4/2 * 6/4
    assert h["effort"] == pytest.approx(90.0)


def test_halstead_counts_compare_boolop_augassign_and_unary_operators() -> None:
    # Operators: Assign, Add= (augmented), If, Lt, And, Not, Pass -> 7 distinct, 7 in all.
    # Operands: x, 1, x, 1, x, 2, x -> {x, 1, 2}: 3 distinct, 7 in all.
    h = halstead("x = 1\nx += 1\nif x < 2 and not x:\n    pass")
    assert (h["n1"], h["n2"], h["N1"], h["N2"]) == (7, 3, 7, 7)
    # Calls, attributes and keyword names: Call, Attribute (operators); obj, m, k, 1 (operands).
    h = halstead("obj.m(k=1)")
    assert (h["n1"], h["n2"], h["N1"], h["N2"]) == (2, 4, 2, 4)


def test_halstead_renaming_keeps_the_counts() -> None:
    assert halstead(ADD) == halstead("def g(x, y):\n    return x + y * 2")


def test_halstead_of_unparseable_and_empty_programs_is_zero() -> None:
    keys = {"n1", "n2", "N1", "N2", "vocabulary", "length", "volume", "difficulty", "effort"}
    for program in (BROKEN, ""):
        h = halstead(program)
        assert set(h) == keys
        assert all(v == 0.0 for v in h.values())
    # A lone constant: no operators, one operand; log2(1) = 0 so volume and effort are 0.
    assert halstead("1") == {
        **dict.fromkeys(keys, 0.0),
        "n2": 1.0,
        "N2": 1.0,
        "vocabulary": 1.0,
        "length": 1.0,
    }


# ---------------------------------------------------------------------------------------
# Config and combination
# ---------------------------------------------------------------------------------------
def test_defaults_are_off() -> None:
    config = IntrinsicRewardConfig()
    assert not config.enabled
    assert intrinsic_rewards(LOOPY, "list", [(ADD, "int")], config) == {"total": 0.0}


def test_every_field_is_described() -> None:
    for name, field in IntrinsicRewardConfig.model_fields.items():
        assert field.description, name


@pytest.mark.parametrize(
    ("key", "overrides", "program", "output_type", "references"),
    [
        ("diversity_ast", {}, LOOPY, "int", [(STRAIGHT, "int")]),
        ("diversity_answer_type", {}, ADD, "list[int]", [(ADD, "int"), (STRAIGHT, "int")]),
        ("complexity_cyclomatic", {}, BRANCHY, None, []),  # 4 / 15 > 0.2
        ("complexity_halstead", {"complexity_halstead_scale": 100.0}, ADD, None, []),  # 30 / 100 > 0.2
    ],
)
def test_each_term_alone_is_weighted_and_capped(
    key: str, overrides: dict, program: str, output_type: str | None, references: list
) -> None:
    config = IntrinsicRewardConfig(**{f"{key}_coef": 0.5, f"{key}_cap": 0.2, **overrides})
    assert config.enabled
    capped = intrinsic_rewards(program, output_type, references, config)
    assert capped == pytest.approx({key: 0.1, "total": 0.1})
    # Without the cap the same term is coef * raw, and raw is above the cap.
    uncapped = intrinsic_rewards(
        program, output_type, references, IntrinsicRewardConfig(**{f"{key}_coef": 0.5, **overrides})
    )
    assert set(uncapped) == {key, "total"}
    assert uncapped[key] > 0.1
    assert uncapped["total"] == uncapped[key]


def test_raw_values_feed_the_terms() -> None:
    config = IntrinsicRewardConfig(
        diversity_ast_coef=1.0,
        diversity_answer_type_coef=1.0,
        complexity_cyclomatic_coef=1.0,
        complexity_halstead_coef=1.0,
    )
    refs = [(STRAIGHT, "int"), (BRANCHY, "int"), (ADD, "list")]
    out = intrinsic_rewards(LOOPY, "list", refs, config)
    assert out["diversity_ast"] == pytest.approx(mean_ast_distance(LOOPY, [STRAIGHT, BRANCHY, ADD]))
    assert out["diversity_answer_type"] == pytest.approx(2 / 3)
    assert out["complexity_cyclomatic"] == pytest.approx(6 / 15)
    assert out["complexity_halstead"] == pytest.approx(min(1.0, halstead(LOOPY)["volume"] / 1000))
    assert out["total"] == pytest.approx(sum(v for k, v in out.items() if k != "total"))
    # No output type: the answer-type term is there but 0.
    assert intrinsic_rewards(LOOPY, None, refs, config)["diversity_answer_type"] == 0.0


def test_sum_and_product_combine_differ() -> None:
    # ADD: cyclomatic 1 -> 1/10 = 0.1; Halstead volume 30 -> 30/100 = 0.3.
    kwargs = {
        "complexity_cyclomatic_coef": 1.0,
        "complexity_cyclomatic_scale": 10.0,
        "complexity_halstead_coef": 1.0,
        "complexity_halstead_scale": 100.0,
    }
    summed = intrinsic_rewards(ADD, None, [], IntrinsicRewardConfig(**kwargs))
    product = intrinsic_rewards(ADD, None, [], IntrinsicRewardConfig(combine="product", **kwargs))
    assert summed == pytest.approx({"complexity_cyclomatic": 0.1, "complexity_halstead": 0.3, "total": 0.4})
    assert product == pytest.approx(
        {"complexity_cyclomatic": 0.1, "complexity_halstead": 0.3, "total": 1.1 * 1.3 - 1}
    )
    assert not math.isclose(summed["total"], product["total"])


def test_product_with_a_zero_term_keeps_the_others() -> None:
    # No references: the AST-diversity term is 0, which must not zero the product.
    config = IntrinsicRewardConfig(
        combine="product",
        diversity_ast_coef=1.0,
        complexity_halstead_coef=1.0,
        complexity_halstead_scale=100.0,
    )
    out = intrinsic_rewards(ADD, None, [], config)
    assert out["diversity_ast"] == 0.0
    assert out["total"] == pytest.approx(0.3)


def test_negative_coefficient_enables_a_penalty() -> None:
    config = IntrinsicRewardConfig(complexity_cyclomatic_coef=-1.0)
    assert config.enabled
    assert intrinsic_rewards(BRANCHY, None, [], config) == pytest.approx(
        {"complexity_cyclomatic": -4 / 15, "total": -4 / 15}
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"diversity_ast_cap": -0.5},
        {"diversity_answer_type_cap": 0.0},
        {"complexity_cyclomatic_scale": 0.0},
        {"complexity_halstead_scale": -1.0},
        {"complexity_halstead_scale": math.inf},
        {"complexity_cyclomatic_coef": math.inf},
        {"diversity_ast_coef": math.nan},
        {"complexity_halstead_cap": math.nan},
        {"combine": "max"},
        {"diversity_bogus_coef": 1.0},
    ],
)
def test_invalid_config_raises(kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        IntrinsicRewardConfig(**kwargs)


def test_config_is_frozen() -> None:
    config = IntrinsicRewardConfig()
    with pytest.raises(ValidationError):
        config.diversity_ast_coef = 1.0  # type: ignore[misc]
