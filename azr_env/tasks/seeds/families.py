"""The seed program families: hand-written templates with parameters, one function each.

Each family is a function ``(rng) -> list[Variant]``; :func:`generate_specs` draws every
family's variants from the master seed.  Only the generator (:mod:`.build`) imports this.
"""

from __future__ import annotations

import random
import string
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from azr_env.tasks.seeds import MAX_INPUT_CHARS, N_INPUTS, SEED

ArgGen = Callable[[random.Random], tuple[Any, ...]]
"""Draws the arguments of one call (a tuple, one item per parameter of ``f``)."""


@dataclass(frozen=True)
class Variant:
    """One program of a family: its name, source, hint, and how to draw arguments for it."""

    name: str
    program: str
    message: str
    args: ArgGen


FamilyFn = Callable[[random.Random], list[Variant]]
_FAMILIES: dict[str, FamilyFn] = {}


@dataclass(frozen=True)
class Spec:
    """A generated program before validation: a variant with its family attached."""

    name: str
    family: str
    program: str
    message: str
    args: ArgGen = field(repr=False, compare=False)

    def inputs(self, attempt: int = 0, seed: int = SEED) -> list[str]:
        """Ten distinct argument-list texts, drawn from a seed fixed by name and attempt."""
        rng = random.Random(f"{seed}:inputs:{self.name}:{attempt}")
        drawn: dict[str, None] = {}
        for _ in range(400):
            text = args_text(self.args(rng))
            if len(text) < MAX_INPUT_CHARS:
                drawn.setdefault(text, None)
            if len(drawn) == N_INPUTS:
                return list(drawn)
        raise RuntimeError(f"seed program {self.name}: could not draw {N_INPUTS} distinct inputs")


def args_text(values: Sequence[Any]) -> str:
    """The argument-list source of a call: ``(1, 'a')`` gives ``"1, 'a'"``."""
    return ", ".join(repr(v) for v in values)


def _family(name: str) -> Callable[[FamilyFn], FamilyFn]:
    """Register a family generator under ``name`` (the ``family`` field of its rows)."""

    def register(fn: FamilyFn) -> FamilyFn:
        if name in _FAMILIES:
            raise ValueError(f"duplicate seed family {name!r}")
        _FAMILIES[name] = fn
        return fn

    return register


def _code(*parts: str, **params: object) -> str:
    """Dedent each template part, join the parts as top-level blocks, and fill ``$name`` placeholders."""
    blocks = [textwrap.dedent(part).strip("\n") for part in parts]
    return string.Template("\n\n\n".join(blocks)).substitute(params).rstrip() + "\n"


def _one(gen: Callable[[random.Random], Any]) -> ArgGen:
    """An argument generator for a one-parameter ``f``."""
    return lambda rng: (gen(rng),)


# ---------------------------------------------------------------------------------------
# Random data for arguments
# ---------------------------------------------------------------------------------------
CONSONANTS = "bcdfghklmnprstvz"
VOWELS = "aeiou"


def _word(rng: random.Random, lo: int = 1, hi: int = 3) -> str:
    """A pronounceable lowercase word of ``lo`` to ``hi`` syllables."""
    word = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(rng.randint(lo, hi)))
    if rng.random() < 0.3:
        word = rng.choice(VOWELS) + word
    if rng.random() < 0.4:
        word += rng.choice(CONSONANTS)
    return word


def _words(rng: random.Random, lo: int, hi: int, pool: Sequence[str] | None = None) -> list[str]:
    n = rng.randint(lo, hi)
    if pool is None:
        return [_word(rng) for _ in range(n)]
    return [rng.choice(pool) for _ in range(n)]


def _sentence(rng: random.Random, lo: int = 2, hi: int = 6, pool: Sequence[str] | None = None) -> str:
    return " ".join(_words(rng, lo, hi, pool))


def _mixed_text(rng: random.Random) -> str:
    """A short text with capitals, digits and punctuation."""
    parts = []
    for _ in range(rng.randint(1, 4)):
        word = _word(rng)
        if rng.random() < 0.4:
            word = word.capitalize()
        if rng.random() < 0.2:
            word = word.upper()
        if rng.random() < 0.25:
            word += str(rng.randint(0, 99))
        if rng.random() < 0.25:
            word += rng.choice(",.!?-")
        parts.append(word)
    return " ".join(parts)


def _ints(rng: random.Random, n_lo: int, n_hi: int, lo: int, hi: int) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(rng.randint(n_lo, n_hi))]


def _runs(rng: random.Random, alphabet: str, groups_hi: int = 6, run_hi: int = 4) -> str:
    """A string made of runs of repeated characters."""
    out = []
    last = ""
    for _ in range(rng.randint(1, groups_hi)):
        ch = rng.choice([c for c in alphabet if c != last])
        out.append(ch * rng.randint(1, run_hi))
        last = ch
    return "".join(out)


def _matrix(rng: random.Random, r_lo: int = 1, r_hi: int = 4, c_lo: int = 1, c_hi: int = 4,
            lo: int = 0, hi: int = 9) -> list[list[int]]:
    rows, cols = rng.randint(r_lo, r_hi), rng.randint(c_lo, c_hi)
    return [[rng.randint(lo, hi) for _ in range(cols)] for _ in range(rows)]


def _char_grid(rng: random.Random, rows: tuple[int, int], cols: tuple[int, int], density: float,
               on: str = "#", off: str = ".") -> list[str]:
    r, c = rng.randint(*rows), rng.randint(*cols)
    return ["".join(on if rng.random() < density else off for _ in range(c)) for _ in range(r)]


# ---------------------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------------------
@_family("caesar_shift")
def _caesar_shift(rng: random.Random) -> list[Variant]:
    plain = """
        def f(text):
            out = []
            for ch in text:
                if 'a' <= ch <= 'z':
                    out.append(chr((ord(ch) - ord('a') + $k) % 26 + ord('a')))
                elif 'A' <= ch <= 'Z':
                    out.append(chr((ord(ch) - ord('A') + $k) % 26 + ord('A')))
                else:
                    out.append(ch)
            return ''.join(out)
    """
    table = """
        import string

        def f(text):
            lower, upper, digits = string.ascii_lowercase, string.ascii_uppercase, string.digits
            table = str.maketrans(
                lower + upper + digits,
                lower[$k:] + lower[:$k] + upper[$k:] + upper[:$k] + digits[$d:] + digits[:$d],
            )
            return text.translate(table)
    """
    shifts = rng.sample([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 17, 19, 20, 23, 25], 6)
    out = []
    for k in shifts[:3]:
        out.append(Variant(
            f"caesar_shift_{k}", _code(plain, k=k),
            "Shift every letter a fixed number of places along the alphabet, wrapping around and "
            "keeping its case; all other characters are unchanged.",
            _one(_mixed_text)))
    for k in shifts[3:]:
        d = k % 9 + 1
        out.append(Variant(
            f"caesar_letters_digits_{k}_{d}", _code(table, k=k, d=d),
            "Rotate letters (keeping case) by one fixed amount and digits by another, "
            "wrapping around; punctuation and spaces pass through.",
            _one(_mixed_text)))
    return out


@_family("run_length_encode")
def _run_length_encode(rng: random.Random) -> list[Variant]:
    loop = """
        def f(s):
            if not s:
                return ''
            parts = []
            current, count = s[0], 1
            for ch in s[1:]:
                if ch == current:
                    count += 1
                else:
                    parts.append($piece)
                    current, count = ch, 1
            parts.append($piece)
            return '$sep'.join(parts)
    """
    alphabet = "".join(rng.sample("abcdxyz01", 4))
    gen = _one(lambda r: _runs(r, alphabet, 6, 4))
    return [
        Variant("rle_char_then_count", _code(loop, piece="current + str(count)", sep=""),
                "Run-length encode the string: each run of equal characters becomes the character "
                "followed by the run length.", gen),
        Variant("rle_count_then_char", _code(loop, piece="str(count) + current", sep=""),
                "Run-length encode the string, writing each run as its length followed by the character.",
                gen),
        Variant("rle_colon_pairs", _code(loop, piece="f'{current}:{count}'", sep=","),
                "Describe the runs of repeated characters as comma-separated 'character:length' entries.",
                gen),
        Variant("rle_tuples", _code("""
            from itertools import groupby

            def f(s):
                return [(ch, len(list(group))) for ch, group in groupby(s)]
        """), "List each run of equal characters as a pair of the character and how long the run is.", gen),
        Variant("rle_skip_single", _code("""
            from itertools import groupby

            def f(s):
                pieces = []
                for ch, group in groupby(s):
                    n = sum(1 for _ in group)
                    pieces.append(ch if n == 1 else f'{n}{ch}')
                return ''.join(pieces)
        """), "Compress runs of a repeated character into count-then-character, leaving lone characters as "
              "they are.", gen),
        Variant("rle_longest_run", _code("""
            def f(s):
                best_char, best_len = '', 0
                i = 0
                while i < len(s):
                    j = i
                    while j < len(s) and s[j] == s[i]:
                        j += 1
                    if j - i > best_len:
                        best_char, best_len = s[i], j - i
                    i = j
                return best_char, best_len
        """), "Find the longest run of one repeated character (the earliest on ties) and report the "
              "character with the run length.", gen),
    ]


def _encoded_runs(rng: random.Random, style: str) -> str:
    pairs = [(rng.choice("abcdefxyz"), rng.randint(1, 6)) for _ in range(rng.randint(1, 5))]
    if style == "char_count":
        return "".join(f"{c}{n}" for c, n in pairs)
    return "".join(f"{n}{c}" for c, n in pairs)


def _bracket_code(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 3 if depth == 0 else 2)):
        if depth < 2 and rng.random() < 0.5:
            parts.append(f"{rng.randint(1, 3)}[{_bracket_code(rng, depth + 1)}]")
        else:
            parts.append("".join(rng.choice("abcxy") for _ in range(rng.randint(1, 2))))
    return "".join(parts)


@_family("run_length_decode")
def _run_length_decode(rng: random.Random) -> list[Variant]:
    return [
        Variant("rld_char_then_count", _code("""
            import re

            def f(code):
                return ''.join(ch * int(n) for ch, n in re.findall(r'([a-z])(\\d+)', code))
        """), "Expand a run-length code in which each letter is followed by how many times it repeats.",
            _one(lambda r: _encoded_runs(r, "char_count"))),
        Variant("rld_count_then_char", _code("""
            def f(code):
                out = []
                digits = ''
                for ch in code:
                    if ch.isdigit():
                        digits += ch
                    else:
                        out.append(ch * int(digits or '1'))
                        digits = ''
                return ''.join(out)
        """), "Expand a run-length code in which a repeat count comes before each character "
              "(a missing count means once).", _one(lambda r: _encoded_runs(r, "count_char"))),
        Variant("rld_pairs_list", _code("""
            def f(pairs):
                return '$sep'.join(ch * n for ch, n in pairs if n > 0)
        """, sep="-"),
            "Turn a list of (character, count) pairs back into text, one group per pair, joining the "
            "groups with a separator and skipping non-positive counts.",
            _one(lambda r: [[r.choice("abxyz"), r.randint(-1, 4)] for _ in range(r.randint(1, 5))])),
        Variant("rld_brackets_flat", _code("""
            import re

            def f(code):
                return re.sub(r'(\\d)\\[([a-z]*)\\]', lambda m: m.group(2) * int(m.group(1)), code)
        """), "Expand every 'count[letters]' group by repeating the letters inside the brackets.",
            _one(lambda r: "".join(
                f"{r.randint(1, 4)}[{_word(r, 1, 1)}]" if r.random() < 0.6 else _word(r, 1, 1)
                for _ in range(r.randint(1, 4))))),
        Variant("rld_brackets_nested", _code("""
            def f(code):
                def expand(i):
                    out = ''
                    count = 0
                    while i < len(code):
                        ch = code[i]
                        if ch.isdigit():
                            count = count * 10 + int(ch)
                        elif ch == '[':
                            inner, i = expand(i + 1)
                            out += inner * count
                            count = 0
                        elif ch == ']':
                            return out, i
                        else:
                            out += ch
                        i += 1
                    return out, i
                return expand(0)[0]
        """), "Decode a string where 'n[...]' means the bracketed part repeated n times; groups can nest.",
            _one(_bracket_code)),
    ]


@_family("vowel_stats")
def _vowel_stats(rng: random.Random) -> list[Variant]:
    step = rng.choice([1, 2, 3])
    return [
        Variant("vowel_counts", _code("""
            def f(text):
                counts = {}
                for ch in text.lower():
                    if ch in 'aeiou':
                        counts[ch] = counts.get(ch, 0) + 1
                return {v: counts[v] for v in 'aeiou' if v in counts}
        """), "Count how many times each vowel appears (ignoring case); report only vowels that occur, "
              "in alphabetical order.", _one(_mixed_text)),
        Variant("vowel_consonant_split", _code("""
            def f(text):
                letters = [c for c in text.lower() if c.isalpha()]
                vowels = sum(1 for c in letters if c in 'aeiouy')
                return (vowels, len(letters) - vowels)
        """), "Count the letters that are vowels (y included) and the letters that are not.",
            _one(_mixed_text)),
        Variant("vowel_positions", _code("""
            def f(word):
                return [i for i, ch in enumerate(word) if ch.lower() in 'aeiou']
        """), "List the positions at which vowels occur.",
            _one(lambda r: "".join(r.choice("bcdklmrstaeiou") for _ in range(r.randint(2, 10))))),
        Variant(f"vowel_cycle_{step}", _code("""
            VOWELS = 'aeiou'

            def f(text):
                return ''.join(VOWELS[(VOWELS.index(c) + $step) % 5] if c in VOWELS else c for c in text)
        """, step=step), "Replace each lowercase vowel by the vowel a fixed number of steps later in the "
                         "vowel sequence, wrapping around.", _one(_sentence)),
        Variant("vowel_strip_inner", _code("""
            def f(sentence):
                words = []
                for word in sentence.split():
                    words.append(word[:1] + ''.join(c for c in word[1:] if c.lower() not in 'aeiou'))
                return ' '.join(words)
        """), "Drop vowels from each word except when the vowel is the word's first letter.",
            _one(_mixed_text)),
        Variant("vowel_heavy_words", _code("""
            def f(sentence):
                def score(word):
                    v = sum(ch in 'aeiou' for ch in word)
                    return v - (len(word) - v)
                return [w for w in sentence.split() if score(w) >= 0]
        """), "Keep the words that have at least as many vowels as other characters.",
            _one(lambda r: _sentence(r, 3, 7))),
    ]


def _maybe_palindrome(rng: random.Random) -> str:
    half = "".join(rng.choice("abcr") for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.5:
        core = half + rng.choice(["", rng.choice("xyz")]) + half[::-1]
    else:
        core = half + "".join(rng.choice("abcr") for _ in range(rng.randint(1, 4)))
    out = []
    for ch in core:
        out.append(ch.upper() if rng.random() < 0.3 else ch)
        if rng.random() < 0.2:
            out.append(rng.choice(" ,'!"))
    return "".join(out)


def _palindromic_sentence(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(2, 6)):
        if rng.random() < 0.4:
            half = _word(rng, 1, 1)
            words.append(half + rng.choice(["", rng.choice(VOWELS)]) + half[::-1])
        else:
            words.append(_word(rng))
    return " ".join(words)


@_family("palindromes")
def _palindromes(rng: random.Random) -> list[Variant]:
    min_len = rng.choice([2, 3])
    small = _one(lambda r: "".join(r.choice("abc") for _ in range(r.randint(2, 9))))
    return [
        Variant("palindrome_normalized", _code("""
            def f(text):
                cleaned = ''.join(ch.lower() for ch in text if ch.isalnum())
                return cleaned, cleaned == cleaned[::-1]
        """), "Normalise the text to lowercase letters and digits only, and say whether the result reads "
              "the same backwards.", _one(_maybe_palindrome)),
        Variant("longest_palindromic_substring", _code("""
            def f(s):
                best = ''
                for center in range(2 * len(s) - 1):
                    lo, hi = center // 2, (center + 1) // 2
                    while lo >= 0 and hi < len(s) and s[lo] == s[hi]:
                        lo -= 1
                        hi += 1
                    if hi - lo - 1 > len(best):
                        best = s[lo + 1:hi]
                return best
        """), "Return the longest contiguous piece of the string that is a palindrome (the leftmost if "
              "several tie).", small),
        Variant(f"count_palindromic_substrings_{min_len}", _code("""
            def f(s):
                count = 0
                for i in range(len(s)):
                    for j in range(i + $min_len, len(s) + 1):
                        piece = s[i:j]
                        if piece == piece[::-1]:
                            count += 1
                return count
        """, min_len=min_len), "Count the palindromic substrings (by position) that are at least a "
                               "certain length.", small),
        Variant("palindrome_completion", _code("""
            def f(s):
                for i in range(len(s) + 1):
                    tail = s[i:]
                    if tail == tail[::-1]:
                        return s + s[:i][::-1]
                return s
        """), "Append as few characters as possible to the end so that the string becomes a palindrome.",
            small),
        Variant("palindromic_words", _code("""
            def f(sentence):
                found = []
                for word in sentence.lower().split():
                    if len(word) > 1 and word == word[::-1] and word not in found:
                        found.append(word)
                return sorted(found, key=len), len(sentence.split()) - len(found)
        """), "Collect the distinct words of two or more letters that read the same backwards (shortest "
              "first), and count the remaining words.", _one(_palindromic_sentence)),
    ]


@_family("word_reorder")
def _word_reorder(rng: random.Random) -> list[Variant]:
    gen = _one(lambda r: _sentence(r, 2, 7))
    return [
        Variant("reverse_word_order", _code("""
            def f(sentence):
                return ' '.join(reversed(sentence.split()))
        """), "Reverse the order of the words.", gen),
        Variant("sort_words_by_length", _code("""
            def f(sentence):
                return ' '.join(sorted(sentence.split(), key=len))
        """), "Reorder the words from shortest to longest; words of equal length keep their order.", gen),
        Variant("sort_words_by_last_letter", _code("""
            def f(sentence):
                return sorted(sentence.split(), key=lambda w: (w[-1], w))
        """), "Sort the words by their final letter, breaking ties alphabetically.", gen),
        Variant("vowel_initial_words_last", _code("""
            def f(sentence):
                words = sentence.split()
                front = [w for w in words if w[0].lower() not in 'aeiou']
                back = [w for w in words if w[0].lower() in 'aeiou']
                return ' '.join(front + back)
        """), "Move the words that begin with a vowel to the end, keeping the relative order within "
              "both groups.",
            _one(lambda r: " ".join(r.choice("aeiou") + w if r.random() < 0.4 else w
                                    for w in _words(r, 2, 6)))),
        Variant("reverse_each_word", _code("""
            def f(sentence):
                return ' '.join(word[::-1] for word in sentence.split(' '))
        """), "Spell every word backwards but keep the words in place.", gen),
        Variant("rotate_words_by_arg", _code("""
            def f(sentence, k):
                words = sentence.split()
                if not words:
                    return ''
                k %= len(words)
                return ' '.join(words[-k:] + words[:-k]) if k else sentence
        """), "Move the last k words of the sentence to its front.",
            lambda r: (_sentence(r, 2, 6), r.randint(0, 7))),
    ]


def _snake(rng: random.Random) -> str:
    return "_".join(_words(rng, 1, 4))


def _camel(rng: random.Random) -> str:
    words = _words(rng, 1, 4)
    return words[0] + "".join(w.capitalize() for w in words[1:])


@_family("case_convert")
def _case_convert(rng: random.Random) -> list[Variant]:
    small = rng.sample(["of", "and", "the", "in", "on", "to", "a"], 4)
    small_pool = [*small, "x"]
    return [
        Variant("snake_to_camel", _code("""
            def f(name):
                head, *rest = name.split('_')
                return head + ''.join(part.capitalize() for part in rest)
        """), "Convert a snake_case identifier to camelCase.", _one(_snake)),
        Variant("camel_to_snake", _code("""
            def f(name):
                out = []
                for ch in name:
                    if ch.isupper():
                        out.append('_')
                    out.append(ch.lower())
                return ''.join(out)
        """), "Convert a camelCase identifier to snake_case.", _one(_camel)),
        Variant("camel_to_kebab_upper", _code("""
            import re

            def f(name):
                return '-'.join(part.upper() for part in re.findall(r'[a-z]+|[A-Z][a-z]*', name))
        """), "Split a camelCase name into its words and join them, upper-cased, with dashes.",
            _one(_camel)),
        Variant("title_case_small_words", _code("""
            SMALL = $small

            def f(title):
                words = title.lower().split()
                out = []
                for i, word in enumerate(words):
                    if i > 0 and word in SMALL:
                        out.append(word)
                    else:
                        out.append(word[:1].upper() + word[1:])
                return ' '.join(out)
        """, small=repr(tuple(small))),
            "Title-case the text, except that a few short words stay lowercase unless they come first.",
            _one(lambda r: " ".join(r.choice(small_pool) if r.random() < 0.4 else _word(r)
                                    for _ in range(r.randint(2, 6))))),
        Variant("alternating_case", _code("""
            def f(text):
                out = []
                upper = True
                for ch in text:
                    if ch.isalpha():
                        out.append(ch.upper() if upper else ch.lower())
                        upper = not upper
                    else:
                        out.append(ch)
                return ''.join(out)
        """), "Alternate upper and lower case over the letters, starting with upper; non-letters do not "
              "count.", _one(_mixed_text)),
    ]


def _brackets(rng: random.Random, pairs: str = "()[]{}") -> str:
    opens, closes = pairs[0::2], pairs[1::2]
    out: list[str] = []
    stack: list[int] = []
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if stack and roll < 0.45:
            out.append(closes[stack.pop()])
        elif roll < 0.9:
            i = rng.randrange(len(opens))
            stack.append(i)
            out.append(opens[i])
        else:
            out.append(rng.choice(pairs + "x"))
    if rng.random() < 0.5:
        out.extend(closes[i] for i in reversed(stack))
    return "".join(out)


def _parens(rng: random.Random, depth: int = 0) -> str:
    """Balanced parentheses (sometimes with one character dropped) of random depth."""
    inner = "".join(_parens(rng, depth + 1) for _ in range(rng.randint(0, 2))) if depth < 5 else ""
    text = "(" + inner + ")" + (_parens(rng, depth + 1) if depth < 4 and rng.random() < 0.3 else "")
    if depth == 0 and rng.random() < 0.25:
        cut = rng.randrange(len(text))
        text = text[:cut] + text[cut + 1:]
    return text


@_family("bracket_balance")
def _bracket_balance(rng: random.Random) -> list[Variant]:
    return [
        Variant("bracket_first_error", _code("""
            def f(text):
                pairs = {')': '(', ']': '[', '}': '{'}
                stack = []
                for i, ch in enumerate(text):
                    if ch in '([{':
                        stack.append((ch, i))
                    elif ch in pairs:
                        if not stack or stack[-1][0] != pairs[ch]:
                            return i
                        stack.pop()
                return stack[0][1] if stack else -1
        """), "Find where bracket matching first goes wrong: the index of an unmatched or mismatched "
              "closer, else of the earliest opener left unclosed, else -1.", _one(_brackets)),
        Variant("bracket_max_depth", _code("""
            def f(text):
                depth = best = 0
                for ch in text:
                    if ch == '(':
                        depth += 1
                        best = max(best, depth)
                    elif ch == ')':
                        depth -= 1
                        if depth < 0:
                            return None
                return best if depth == 0 else None
        """), "Report the deepest nesting of parentheses, or None when they are unbalanced.",
            _one(_parens)),
        Variant("bracket_depth_profile", _code("""
            def f(text):
                depth = 0
                profile = []
                for ch in text:
                    if ch in '([{':
                        depth += 1
                        profile.append(depth)
                    elif ch in ')]}':
                        profile.append(depth)
                        depth -= 1
                return profile
        """), "For every bracket, in order, give the nesting level it belongs to.", _one(_brackets)),
        Variant("bracket_minimal_fix", _code("""
            def f(text):
                open_needed = 0
                balance = 0
                for ch in text:
                    if ch == '(':
                        balance += 1
                    elif ch == ')':
                        if balance:
                            balance -= 1
                        else:
                            open_needed += 1
                return '(' * open_needed + text + ')' * balance
        """), "Make the parentheses balanced by adding the fewest openers at the front and closers at "
              "the back.",
            _one(lambda r: _brackets(r, "()")[::-1] if r.random() < 0.5 else _brackets(r, "()"))),
    ]


@_family("rotate_list")
def _rotate_list(rng: random.Random) -> list[Variant]:
    left = """
        def f(items):
            if not items:
                return []
            k = $k % len(items)
            return items[k:] + items[:k]
    """
    right = """
        from collections import deque

        def f(items):
            ring = deque(items)
            ring.rotate($k)
            return list(ring)
    """
    lk = rng.sample([1, 2, 3, 4, 5], 2)
    rk = rng.sample([1, 2, 3, 4, 5], 2)
    gen = _one(lambda r: _ints(r, 4, 9, -9, 20))
    out = [Variant(f"rotate_left_{k}", _code(left, k=k),
                   "Rotate the list to the left by a fixed number of positions.", gen) for k in lk]
    out += [Variant(f"rotate_right_{k}", _code(right, k=k),
                    "Rotate the list to the right by a fixed number of positions.", gen) for k in rk]
    out.append(Variant("rotate_by_arg", _code("""
        def f(items, k):
            n = len(items)
            return [items[(i + k) % n] for i in range(n)]
    """), "Rotate the list left by the given amount (a negative amount rotates right).",
        lambda r: (_ints(r, 1, 7, 0, 9), r.randint(-8, 8))))
    out.append(Variant("rotate_min_first", _code("""
        def f(items):
            if not items:
                return items
            start = items.index(min(items))
            return items[start:] + items[:start]
    """), "Rotate the list so that its smallest element (first occurrence) comes first.", gen))
    return out


@_family("running_ops")
def _running_ops(rng: random.Random) -> list[Variant]:
    acc = """
        from itertools import accumulate
        $imports
        def f(nums):
            return list(accumulate(nums, $op))
    """
    m = rng.choice([7, 10, 11, 13])
    gen = _one(lambda r: _ints(r, 1, 9, -5, 12))
    pos = _one(lambda r: _ints(r, 1, 8, 1, 9))
    return [
        Variant("running_sum", _code(acc, imports="import operator\n", op="operator.add"),
                "Give the running total at every position.", gen),
        Variant("running_max", _code(acc, imports="", op="max"),
                "Report the largest value seen so far at each position.", gen),
        Variant("running_min", _code(acc, imports="", op="min"),
                "Report the smallest value seen so far at each position.", gen),
        Variant(f"running_product_mod_{m}", _code(acc, imports="", op=f"lambda a, b: a * b % {m}"),
                "Keep a running product, reduced modulo a fixed number after every step.", pos),
        Variant("adjacent_differences", _code("""
            def f(nums):
                return [b - a for a, b in zip(nums, nums[1:])]
        """), "List the difference between each element and the one before it.", gen),
        Variant("prefix_range_sums", _code("""
            def f(nums, queries):
                prefix = [0]
                for x in nums:
                    prefix.append(prefix[-1] + x)
                return [prefix[hi] - prefix[lo] for lo, hi in queries if 0 <= lo <= hi <= len(nums)]
        """), "Answer each (start, stop) query with the sum of the slice it names; skip invalid queries.",
            lambda r: (_ints(r, 2, 8, -5, 9),
                       [sorted([r.randint(0, 8), r.randint(0, 8)]) for _ in range(r.randint(1, 4))])),
    ]


@_family("sliding_window")
def _sliding_window(rng: random.Random) -> list[Variant]:
    w_max, w_min, w_sum, w_distinct, w_range, w_best = (rng.choice([2, 3, 4]) for _ in range(6))
    mono = """
        from collections import deque

        def f(nums):
            window = deque()
            result = []
            for i, x in enumerate(nums):
                while window and nums[window[-1]] $cmp x:
                    window.pop()
                window.append(i)
                if window[0] <= i - $w:
                    window.popleft()
                if i >= $w - 1:
                    result.append(nums[window[0]])
            return result
    """
    gen = _one(lambda r: _ints(r, 3, 10, 0, 15))
    return [
        Variant(f"window_max_{w_max}", _code(mono, cmp="<=", w=w_max),
                "Slide a fixed-size window over the list and report the maximum of each full window.", gen),
        Variant(f"window_min_{w_min}", _code(mono, cmp=">=", w=w_min),
                "Slide a fixed-size window over the list and report the minimum of each full window.", gen),
        Variant(f"window_sum_{w_sum}", _code("""
            def f(nums):
                if len(nums) < $w:
                    return []
                total = sum(nums[:$w])
                sums = [total]
                for i in range($w, len(nums)):
                    total += nums[i] - nums[i - $w]
                    sums.append(total)
                return sums
        """, w=w_sum), "Give the sum of every run of a fixed number of consecutive elements.", gen),
        Variant(f"window_distinct_{w_distinct}", _code("""
            def f(items):
                return [len(set(items[i:i + $w])) for i in range(len(items) - $w + 1)]
        """, w=w_distinct), "For every window of a fixed length, count the distinct values inside it.",
            _one(lambda r: _ints(r, 3, 10, 0, 4))),
        Variant(f"window_spread_{w_range}", _code("""
            def f(nums):
                spans = []
                for i in range(len(nums) - $w + 1):
                    window = nums[i:i + $w]
                    spans.append(max(window) - min(window))
                return spans
        """, w=w_range), "For each window of consecutive elements of a fixed size, report the gap between "
                         "its largest and smallest values.", gen),
        Variant(f"best_window_{w_best}", _code("""
            def f(nums):
                best = None
                for i in range(len(nums) - $w + 1):
                    total = sum(nums[i:i + $w])
                    if best is None or total > best[1]:
                        best = (i, total)
                return best
        """, w=w_best), "Find the window of a fixed number of consecutive elements with the largest sum; "
                        "return its start index and sum (earliest on ties, None if the list is too short).",
            _one(lambda r: _ints(r, 2, 9, -6, 12))),
    ]


@_family("stable_partition")
def _stable_partition(rng: random.Random) -> list[Variant]:
    d = rng.choice([3, 4, 5])
    pivot = rng.randint(4, 8)
    gen = _one(lambda r: _ints(r, 2, 9, -6, 14))
    return [
        Variant("partition_even_first", _code("""
            def f(nums):
                evens = [n for n in nums if n % 2 == 0]
                odds = [n for n in nums if n % 2]
                return evens + odds
        """), "Put the even numbers before the odd ones, keeping the original order inside each group.", gen),
        Variant("partition_negatives_first", _code("""
            def f(nums):
                out = []
                rest = []
                for n in nums:
                    (out if n < 0 else rest).append(n)
                out.extend(rest)
                return out
        """), "Move the negative numbers to the front; otherwise the order is unchanged.", gen),
        Variant(f"partition_multiples_last_{d}", _code("""
            def f(nums):
                return sorted(nums, key=lambda n: n % $d == 0)
        """, d=d), "Move every multiple of a certain number to the end, keeping the relative order of the "
                   "others.", gen),
        Variant(f"partition_three_way_{pivot}", _code("""
            PIVOT = $pivot

            def f(nums):
                low = [n for n in nums if n < PIVOT]
                same = [n for n in nums if n == PIVOT]
                high = [n for n in nums if n > PIVOT]
                return low, same, high
        """, pivot=pivot), "Split the numbers into three groups, below, equal to and above a fixed pivot, "
                           "each in original order.", _one(lambda r: _ints(r, 2, 8, pivot - 4, pivot + 4))),
        Variant("partition_by_letter", _code("""
            def f(words, letter):
                has = [w for w in words if letter in w]
                return has + [w for w in words if letter not in w]
        """), "Bring the words that contain the given letter to the front, keeping order within both groups.",
            lambda r: (_words(r, 2, 6), r.choice("aeiou"))),
    ]


@_family("dedupe")
def _dedupe(rng: random.Random) -> list[Variant]:
    k = rng.choice([2, 3])
    gen = _one(lambda r: _ints(r, 2, 11, 0, 6))
    pool = [_word(rng, 1, 2) for _ in range(4)]

    def cased(r: random.Random) -> list[str]:
        return ["".join(c.upper() if r.random() < 0.3 else c for c in r.choice(pool))
                for _ in range(r.randint(2, 7))]

    return [
        Variant("dedupe_keep_first", _code("""
            def f(items):
                seen = set()
                out = []
                for x in items:
                    if x not in seen:
                        seen.add(x)
                        out.append(x)
                return out
        """), "Remove repeated values, keeping the first occurrence of each.", gen),
        Variant("dedupe_keep_last", _code("""
            def f(items):
                last = {x: i for i, x in enumerate(items)}
                return [x for i, x in enumerate(items) if last[x] == i]
        """), "Remove repeated values, keeping only the last occurrence of each.", gen),
        Variant("dedupe_case_insensitive", _code("""
            def f(words):
                seen = {}
                for w in words:
                    seen.setdefault(w.lower(), w)
                return list(seen.values())
        """),
            "Drop words that repeat an earlier word up to letter case; the first spelling wins.",
            _one(cased)),
        Variant("dedupe_adjacent", _code("""
            from itertools import groupby

            def f(items):
                return [key for key, _ in groupby(items)]
        """), "Collapse each run of equal neighbours into a single element.", gen),
        Variant("keep_unique_only", _code("""
            from collections import Counter

            def f(items):
                counts = Counter(items)
                return [x for x in items if counts[x] == 1]
        """), "Keep only the values that occur exactly once.", gen),
        Variant(f"cap_copies_{k}", _code("""
            def f(items):
                counts = {}
                out = []
                for x in items:
                    counts[x] = counts.get(x, 0) + 1
                    if counts[x] <= $k:
                        out.append(x)
                return out
        """, k=k), "Keep each value at most a fixed number of times, dropping later copies.",
            _one(lambda r: _ints(r, 3, 12, 0, 3))),
    ]


def _intervals(rng: random.Random) -> list[list[int]]:
    out = []
    for _ in range(rng.randint(1, 6)):
        a = rng.randint(0, 25)
        out.append([a, a + rng.randint(0, 6)])
    return out


@_family("merge_intervals")
def _merge_intervals(rng: random.Random) -> list[Variant]:
    merge = """
        def f(intervals):
            merged = []
            for start, end in sorted(intervals):
                if merged and start <= merged[-1][1] + $gap:
                    merged[-1][1] = max(merged[-1][1], end)
                else:
                    merged.append([start, end])
            return merged
    """
    gap = rng.choice([1, 2, 3])
    gen = _one(_intervals)
    return [
        Variant("merge_intervals", _code(merge, gap=0),
                "Merge overlapping closed intervals (sharing an endpoint counts) and return them sorted.",
                gen),
        Variant(f"merge_intervals_gap_{gap}", _code(merge, gap=gap),
                "Merge intervals that overlap or are separated by at most a small fixed gap.", gen),
        Variant("interval_coverage", _code("""
            def f(intervals):
                total = 0
                cur_start = cur_end = None
                for start, end in sorted(intervals):
                    if cur_end is None or start > cur_end:
                        if cur_end is not None:
                            total += cur_end - cur_start
                        cur_start, cur_end = start, end
                    else:
                        cur_end = max(cur_end, end)
                if cur_end is not None:
                    total += cur_end - cur_start
                return total
        """), "Compute the total length covered by the union of the intervals.", gen),
        Variant("interval_gaps", _code("""
            def f(intervals):
                gaps = []
                reach = None
                for start, end in sorted(intervals):
                    if reach is not None and start > reach:
                        gaps.append((reach, start))
                    reach = end if reach is None else max(reach, end)
                return gaps
        """), "List the uncovered stretches between the intervals, from left to right.", gen),
        Variant("interval_max_overlap", _code("""
            def f(intervals):
                events = []
                for start, end in intervals:
                    events.append((start, 0))
                    events.append((end, 1))
                depth = best = 0
                for _, kind in sorted(events):
                    depth += 1 if kind == 0 else -1
                    best = max(best, depth)
                return best, len(intervals)
        """), "Find the largest number of intervals that share a common point, alongside the number of "
              "intervals.", gen),
    ]


@_family("counting_sorts")
def _counting_sorts(rng: random.Random) -> list[Variant]:
    gen = _one(lambda r: _ints(r, 1, 8, 0, 20))
    return [
        Variant("bubble_sort_swaps", _code("""
            def f(nums):
                a = list(nums)
                swaps = 0
                for end in range(len(a) - 1, 0, -1):
                    for i in range(end):
                        if a[i] > a[i + 1]:
                            a[i], a[i + 1] = a[i + 1], a[i]
                            swaps += 1
                return a, swaps
        """), "Bubble-sort the numbers, returning the sorted list and how many swaps it took.", gen),
        Variant("insertion_sort_shifts_desc", _code("""
            def f(nums):
                a = []
                shifts = 0
                for x in nums:
                    i = len(a)
                    a.append(x)
                    while i > 0 and a[i - 1] < x:
                        a[i] = a[i - 1]
                        i -= 1
                        shifts += 1
                    a[i] = x
                return a, shifts
        """), "Insertion-sort the numbers into descending order, counting how many times an element was "
              "shifted.", gen),
        Variant("selection_sort_swaps", _code("""
            def f(nums):
                a = list(nums)
                swaps = 0
                for i in range(len(a)):
                    j = min(range(i, len(a)), key=lambda k: a[k])
                    if j != i:
                        a[i], a[j] = a[j], a[i]
                        swaps += 1
                return swaps, a
        """),
            "Selection-sort the numbers; report the number of swaps actually performed and the result.", gen),
        Variant("bubble_passes", _code("""
            def f(nums):
                a = list(nums)
                passes = 0
                changed = True
                while changed:
                    changed = False
                    passes += 1
                    for i in range(len(a) - 1):
                        if a[i] > a[i + 1]:
                            a[i], a[i + 1] = a[i + 1], a[i]
                            changed = True
                return passes
        """), "Count the passes an early-stopping bubble sort makes (the final pass with no swap included).",
            _one(lambda r: _ints(r, 3, 10, 0, 30))),
        Variant("inversion_count", _code("""
            def f(nums):
                def sort_count(seq):
                    if len(seq) <= 1:
                        return seq, 0
                    mid = len(seq) // 2
                    left, a = sort_count(seq[:mid])
                    right, b = sort_count(seq[mid:])
                    merged, count, i, j = [], a + b, 0, 0
                    while i < len(left) and j < len(right):
                        if left[i] <= right[j]:
                            merged.append(left[i])
                            i += 1
                        else:
                            merged.append(right[j])
                            j += 1
                            count += len(left) - i
                    merged += left[i:] + right[j:]
                    return merged, count
                return sort_count(list(nums))[1]
        """), "Count the pairs of positions whose values are out of order, using a merge sort.", gen),
    ]


@_family("chunking")
def _chunking(rng: random.Random) -> list[Variant]:
    ks = [rng.choice([2, 3]), rng.choice([3, 4]), rng.choice([2, 3]), rng.choice([3, 4])]
    gen = _one(lambda r: _ints(r, 3, 11, 0, 9))
    return [
        Variant(f"chunk_sums_{ks[0]}", _code("""
            def f(nums):
                return [sum(nums[i:i + $k]) for i in range(0, len(nums), $k)]
        """, k=ks[0]),
            "Cut the list into consecutive chunks of a fixed size (the last may be shorter) and sum "
            "each chunk.", gen),
        Variant(f"chunk_lists_{ks[1]}", _code("""
            def f(items):
                chunks = []
                for item in items:
                    if not chunks or len(chunks[-1]) == $k:
                        chunks.append([])
                    chunks[-1].append(item)
                return chunks
        """, k=ks[1]),
            "Group the items into consecutive chunks of a fixed size; the last chunk may be short.",
            gen),
        Variant(f"chunk_reverse_{ks[2]}", _code("""
            def f(items):
                out = []
                for i in range(0, len(items), $k):
                    out.extend(reversed(items[i:i + $k]))
                return out
        """, k=ks[2]), "Reverse the list chunk by chunk: each block of a fixed size is reversed in place.",
            gen),
        Variant(f"chunk_max_positions_{ks[3]}", _code("""
            def f(nums):
                result = []
                for start in range(0, len(nums), $k):
                    block = nums[start:start + $k]
                    result.append(start + block.index(max(block)))
                return result
        """, k=ks[3]),
            "Split the list into blocks of a fixed size and give, for each block, the index (in the "
            "whole list) of its largest value.", gen),
        Variant("chunk_by_arg", _code("""
            def f(text, width):
                return [text[i:i + width] for i in range(0, len(text), width)]
        """), "Split the text into pieces of the given width.",
            lambda r: (_word(r, 1, 5), r.randint(1, 5))),
    ]


@_family("pair_counting")
def _pair_counting(rng: random.Random) -> list[Variant]:
    def nums_target(r: random.Random) -> tuple[list[int], int]:
        nums = _ints(r, 4, 9, 0, 10)
        if r.random() < 0.8:
            return nums, sum(r.sample(nums, 2))
        return nums, r.randint(2, 20)

    return [
        Variant("pair_sum_count", _code("""
            def f(nums, target):
                count = 0
                for i in range(len(nums)):
                    for j in range(i + 1, len(nums)):
                        if nums[i] + nums[j] == target:
                            count += 1
                return count
        """), "Count the pairs of positions whose values add up to the target.", nums_target),
        Variant("pair_diff_count", _code("""
            from collections import Counter

            def f(nums, k):
                counts = Counter(nums)
                if k == 0:
                    return sum(c * (c - 1) // 2 for c in counts.values())
                return sum(counts[x] * counts[x + k] for x in counts)
        """), "Count the pairs of positions whose values differ by exactly k.",
            lambda r: (_ints(r, 3, 9, 0, 8), r.randint(0, 4))),
        Variant("two_sum_indices", _code("""
            def f(nums, target):
                seen = {}
                for j, x in enumerate(nums):
                    if target - x in seen:
                        return [seen[target - x], j]
                    seen.setdefault(x, j)
                return []
        """), "Find the first pair of positions (by the later position) whose values sum to the target; "
              "empty if none.", nums_target),
        Variant("closest_pair_sum", _code("""
            from itertools import combinations

            def f(nums, target):
                sums = sorted({a + b for a, b in combinations(nums, 2)})
                return min(sums, key=lambda s: (abs(s - target), s)) if sums else None
        """), "Among sums of two different elements, return the one closest to the target (the smaller on "
              "ties).", nums_target),
        Variant("pairs_product_below", _code("""
            def f(nums, limit):
                pairs = []
                for i, a in enumerate(nums):
                    for b in nums[i + 1:]:
                        if a * b < limit:
                            pairs.append((a, b))
                return len(pairs), pairs[:3]
        """), "Count pairs (in list order) whose product is below the limit and show the first three.",
            lambda r: (_ints(r, 3, 8, 1, 9), r.randint(5, 40))),
    ]


@_family("bisect_queries")
def _bisect_queries(rng: random.Random) -> list[Variant]:
    cuts = sorted(rng.sample(range(40, 100, 5), 4))
    d = rng.choice([1, 2, 3])

    def vq(r: random.Random) -> tuple[list[int], list[int]]:
        return _ints(r, 3, 9, 0, 30), _ints(r, 1, 5, -2, 32)

    return [
        Variant("count_at_most", _code("""
            import bisect

            def f(values, queries):
                ordered = sorted(values)
                return [bisect.bisect_right(ordered, q) for q in queries]
        """), "For each query, count how many values are less than or equal to it.", vq),
        Variant(f"count_near_{d}", _code("""
            from bisect import bisect_left, bisect_right

            def f(values, queries):
                ordered = sorted(values)
                return {q: bisect_right(ordered, q + $d) - bisect_left(ordered, q - $d) for q in queries}
        """, d=d), "For each query, count the values within a fixed distance of it (inclusive).", vq),
        Variant("insertion_points", _code("""
            import bisect

            def f(values, queries):
                ordered = sorted(set(values))
                return [(q, bisect.bisect_left(ordered, q)) for q in queries]
        """), "Pair each query with the position at which it would be inserted into the sorted distinct "
              "values.", vq),
        Variant("nearest_value", _code("""
            import bisect

            def f(values, queries):
                ordered = sorted(values)
                answers = []
                for q in queries:
                    i = bisect.bisect_left(ordered, q)
                    options = ordered[max(0, i - 1):i + 1]
                    answers.append(min(options, key=lambda v: (abs(v - q), v)))
                return answers
        """), "For each query, find the closest value in the list (the smaller one on ties).", vq),
        Variant("grade_lookup", _code("""
            import bisect

            CUTS = $cuts
            GRADES = 'EDCBA'

            def f(scores):
                return ''.join(GRADES[bisect.bisect_right(CUTS, s)] for s in scores)
        """, cuts=repr(cuts)), "Turn each score into a letter grade from fixed thresholds and concatenate "
                               "the grades.", _one(lambda r: _ints(r, 1, 8, 20, 100))),
    ]


@_family("heap_ops")
def _heap_ops(rng: random.Random) -> list[Variant]:
    k = rng.choice([2, 3, 4])
    machines = rng.choice([2, 3])
    gen = _one(lambda r: _ints(r, 2, 9, 0, 30))

    def sorted_lists(r: random.Random) -> list[list[int]]:
        return [sorted(_ints(r, 0, 4, 0, 20)) for _ in range(r.randint(2, 3))]

    return [
        Variant(f"k_smallest_{k}", _code("""
            import heapq

            def f(nums):
                return heapq.nsmallest($k, nums)
        """, k=k), "Return the few smallest values in ascending order (a fixed number of them, or all if "
                   "there are fewer).", gen),
        Variant("longest_words_top", _code("""
            import heapq

            def f(words):
                return heapq.nlargest(2, words, key=len)
        """), "Pick the two longest words (earlier words win ties).", _one(lambda r: _words(r, 2, 6))),
        Variant("merge_sorted_lists", _code("""
            import heapq

            def f(lists):
                return list(heapq.merge(*lists))
        """), "Merge several already-sorted lists into one sorted list.", _one(sorted_lists)),
        Variant("smash_stones", _code("""
            import heapq

            def f(stones):
                heap = [-s for s in stones]
                heapq.heapify(heap)
                while len(heap) > 1:
                    a = -heapq.heappop(heap)
                    b = -heapq.heappop(heap)
                    if a != b:
                        heapq.heappush(heap, -(a - b))
                return -heap[0] if heap else 0
        """), "Repeatedly smash the two heaviest stones together (the lighter is destroyed and the heavier "
              "loses its weight); return what is left, or 0.", gen),
        Variant("running_lower_median", _code("""
            import heapq

            def f(nums):
                low, high = [], []
                medians = []
                for x in nums:
                    heapq.heappush(low, -x)
                    heapq.heappush(high, -heapq.heappop(low))
                    if len(high) > len(low):
                        heapq.heappush(low, -heapq.heappop(high))
                    medians.append(-low[0])
                return medians
        """), "After each new number, report the lower median of the numbers seen so far.", gen),
        Variant(f"greedy_schedule_{machines}", _code("""
            import heapq

            def f(jobs):
                machines = [(0, m) for m in range($machines)]
                finish = []
                for length in jobs:
                    free_at, m = heapq.heappop(machines)
                    end = free_at + length
                    finish.append((m, end))
                    heapq.heappush(machines, (end, m))
                return finish
        """, machines=machines), "Assign each job in turn to the machine that frees up first (lowest number "
                                 "on ties) and report the machine and finishing time of every job.",
            _one(lambda r: _ints(r, 1, 7, 1, 9))),
    ]


@_family("increasing_runs")
def _increasing_runs(rng: random.Random) -> list[Variant]:
    gen = _one(lambda r: _ints(r, 1, 10, 0, 12))
    return [
        Variant("longest_increasing_run", _code("""
            def f(nums):
                best = cur = nums[:1]
                for prev, x in zip(nums, nums[1:]):
                    cur = cur + [x] if x > prev else [x]
                    if len(cur) > len(best):
                        best = cur
                return best
        """), "Return the longest stretch of consecutive, strictly increasing elements (the first if tied).",
            gen),
        Variant("lis_length", _code("""
            import bisect

            def f(nums):
                tails = []
                for x in nums:
                    i = bisect.bisect_left(tails, x)
                    if i == len(tails):
                        tails.append(x)
                    else:
                        tails[i] = x
                return len(tails), tails
        """), "Compute the length of the longest strictly increasing subsequence, with the table of "
              "smallest possible tails.", gen),
        Variant("longest_equal_run", _code("""
            from itertools import groupby

            def f(items):
                best = (None, 0)
                for key, group in groupby(items):
                    n = len(list(group))
                    if n > best[1]:
                        best = (key, n)
                return best
        """), "Find the value with the longest run of equal neighbours and the length of that run.",
            _one(lambda r: _ints(r, 1, 12, 0, 3))),
        Variant("count_ascents_descents", _code("""
            def f(nums):
                up = sum(1 for a, b in zip(nums, nums[1:]) if b > a)
                down = sum(1 for a, b in zip(nums, nums[1:]) if b < a)
                return {'up': up, 'down': down, 'flat': max(0, len(nums) - 1 - up - down)}
        """), "Count the steps between neighbours that go up, go down or stay level.", gen),
        Variant("peaks", _code("""
            def f(nums):
                return [i for i in range(1, len(nums) - 1) if nums[i - 1] < nums[i] > nums[i + 1]]
        """), "List the positions of elements that are strictly greater than both neighbours.", gen),
    ]


@_family("two_list_ops")
def _two_list_ops(rng: random.Random) -> list[Variant]:
    def two(r: random.Random) -> tuple[list[int], list[int]]:
        return _ints(r, 1, 6, 0, 6), _ints(r, 0, 6, 0, 6)

    return [
        Variant("dot_product_truncated", _code("""
            def f(a, b):
                return sum(x * y for x, y in zip(a, b))
        """), "Multiply the lists element by element (as far as the shorter goes) and add up the products.",
            two),
        Variant("elementwise_max_padded", _code("""
            from itertools import zip_longest

            def f(a, b):
                return [max(x, y) for x, y in zip_longest(a, b, fillvalue=0)]
        """), "Take the larger of the two values at each position, treating missing positions as zero.", two),
        Variant("interleave_lists", _code("""
            def f(a, b):
                out = []
                for i in range(max(len(a), len(b))):
                    if i < len(a):
                        out.append(a[i])
                    if i < len(b):
                        out.append(b[i])
                return out
        """), "Interleave the two lists, starting with the first; leftovers go at the end.", two),
        Variant("multiset_common", _code("""
            from collections import Counter

            def f(a, b):
                remaining = Counter(b)
                common = []
                for x in a:
                    if remaining[x] > 0:
                        remaining[x] -= 1
                        common.append(x)
                return common
        """), "Keep the elements of the first list that can be matched one-to-one with elements of the "
              "second, in the first list's order.", two),
        Variant("symmetric_difference_sorted", _code("""
            def f(a, b):
                return sorted(set(a) ^ set(b)), len(set(a) & set(b))
        """),
            "Return the sorted values that appear in exactly one of the lists, and how many appear in both.",
            two),
    ]


def _nested(rng: random.Random, depth: int = 0) -> list[Any]:
    """A list of small ints and lists, nested up to four levels."""
    out: list[Any] = []
    for _ in range(rng.randint(0 if depth else 2, 4)):
        if depth < 3 and rng.random() < 0.4:
            out.append(_nested(rng, depth + 1))
        else:
            out.append(rng.randint(0, 9))
    return out


def _deep_nested(rng: random.Random) -> list[Any]:
    """Like :func:`_nested`, sometimes wrapped a few more levels deep."""
    value = _nested(rng)
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        value = [rng.randint(0, 9), value] if rng.random() < 0.7 else [value]
    return value


@_family("nested_lists")
def _nested_lists(rng: random.Random) -> list[Variant]:
    depth = rng.choice([1, 2])
    gen = _one(_nested)
    return [
        Variant("flatten_all", _code("""
            def f(nested):
                out = []
                for item in nested:
                    if isinstance(item, list):
                        out.extend(f(item))
                    else:
                        out.append(item)
                return out
        """), "Flatten the nested lists completely, keeping the left-to-right order.", gen),
        Variant(f"flatten_depth_{depth}", _code("""
            def f(nested):
                def go(items, level):
                    out = []
                    for item in items:
                        if isinstance(item, list) and level < $depth:
                            out.extend(go(item, level + 1))
                        else:
                            out.append(item)
                    return out
                return go(nested, 0)
        """, depth=depth), "Flatten the nested lists, but only a fixed number of levels deep.", gen),
        Variant("depth_weighted_sum", _code("""
            def f(nested, depth=1):
                return sum(f(x, depth + 1) if isinstance(x, list) else x * depth for x in nested)
        """), "Add up all the numbers, each multiplied by how deeply it is nested (the top level counts 1).",
            gen),
        Variant("max_nesting", _code("""
            def f(nested):
                if not isinstance(nested, list):
                    return 0
                return 1 + max((f(x) for x in nested), default=0)
        """), "Report how many levels of list nesting there are.", _one(_deep_nested)),
        Variant("leaves_per_level", _code("""
            def f(nested):
                counts = {}
                stack = [(nested, 0)]
                while stack:
                    items, level = stack.pop()
                    for item in items:
                        if isinstance(item, list):
                            stack.append((item, level + 1))
                        else:
                            counts[level] = counts.get(level, 0) + item
                return dict(sorted(counts.items()))
        """), "Sum the numbers found at each nesting level and report the totals by level.", gen),
    ]


@_family("histogram")
def _histogram(rng: random.Random) -> list[Variant]:
    w1, w2 = rng.sample([3, 4, 5, 10], 2)
    gen = _one(lambda r: _ints(r, 2, 10, 0, 29))
    return [
        Variant(f"bucket_counts_{w1}", _code("""
            def f(nums):
                buckets = {}
                for n in nums:
                    start = n // $w * $w
                    buckets[start] = buckets.get(start, 0) + 1
                return dict(sorted(buckets.items()))
        """, w=w1), "Count how many numbers fall into each fixed-width bucket, keyed by the bucket's lower "
                    "bound in increasing order.", gen),
        Variant(f"text_histogram_{w2}", _code("""
            def f(nums):
                if not nums:
                    return []
                lines = []
                for start in range(min(nums) // $w * $w, max(nums) + 1, $w):
                    count = sum(start <= n < start + $w for n in nums)
                    lines.append(f'{start:>2}-{start + $w - 1:<2}|' + '*' * count)
                return lines
        """, w=w2), "Draw a text histogram with one line per fixed-width range, from the lowest to the "
                    "highest occupied range, using stars for counts.", _one(lambda r: _ints(r, 2, 7, 0, 29))),
        Variant("mode_values", _code("""
            from collections import Counter

            def f(nums):
                counts = Counter(nums)
                top = max(counts.values(), default=0)
                return sorted(n for n, c in counts.items() if c == top), top
        """), "Find every value that occurs most often (sorted) together with that count.",
            _one(lambda r: _ints(r, 1, 9, 0, 6))),
        Variant("digit_histogram", _code("""
            def f(nums):
                counts = [0] * 10
                for n in nums:
                    for d in str(abs(n)):
                        counts[int(d)] += 1
                return {d: c for d, c in enumerate(counts) if c}
        """), "Tally how often each decimal digit appears across all the numbers.",
            _one(lambda r: _ints(r, 1, 5, -300, 999))),
    ]


def _word_pool(rng: random.Random, n: int = 6) -> list[str]:
    pool: list[str] = []
    while len(pool) < n:
        word = _word(rng, 1, 2)
        if word not in pool:
            pool.append(word)
    return pool


def _str_int_dict(rng: random.Random, pool: Sequence[str], lo: int = 0, hi: int = 9) -> dict[str, int]:
    keys = rng.sample(list(pool), rng.randint(1, min(5, len(pool))))
    return {k: rng.randint(lo, hi) for k in keys}


@_family("word_frequency")
def _word_frequency(rng: random.Random) -> list[Variant]:
    pool = _word_pool(rng, 5)
    k = rng.choice([2, 3])
    gen = _one(lambda r: _sentence(r, 3, 9, pool))

    def punctuated(r: random.Random) -> str:
        words = []
        for w in _words(r, 3, 8, pool):
            w = w.capitalize() if r.random() < 0.3 else w
            words.append(w + r.choice(["", "", ",", ".", "!"]))
        return " ".join(words)

    return [
        Variant("word_counts_in_order", _code("""
            def f(text):
                counts = {}
                for word in text.split():
                    counts[word] = counts.get(word, 0) + 1
                return counts
        """), "Count each word's occurrences, listing words in the order they first appear.", gen),
        Variant("repeated_words_sorted", _code("""
            from collections import Counter

            def f(text):
                return sorted(w for w, c in Counter(text.split()).items() if c >= 2)
        """), "List, alphabetically, the words that occur more than once.", gen),
        Variant(f"top_words_{k}", _code("""
            from collections import Counter

            def f(text):
                counts = Counter(text.split())
                ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
                return ranked[:$k]
        """, k=k), "Report the most frequent words with their counts, most frequent first and alphabetical "
                   "among ties, keeping only a fixed number.", gen),
        Variant("word_length_frequency", _code("""
            from collections import defaultdict

            def f(text):
                by_length = defaultdict(set)
                for word in text.split():
                    by_length[len(word)].add(word)
                return {n: sorted(ws) for n, ws in sorted(by_length.items())}
        """), "Group the distinct words by length, shortest first, each group sorted.", gen),
        Variant("normalized_word_counts", _code("""
            import re
            from collections import Counter

            def f(text):
                words = re.findall(r'[a-z]+', text.lower())
                return dict(Counter(words).most_common(2))
        """), "Lowercase the text, ignore punctuation, and report the two most common words with their "
              "counts (earlier first appearance wins ties).", _one(punctuated)),
    ]


@_family("dict_transform")
def _dict_transform(rng: random.Random) -> list[Variant]:
    pool = _word_pool(rng, 7)
    threshold = rng.randint(3, 6)
    gen = _one(lambda r: _str_int_dict(r, pool, 0, 9))
    return [
        Variant("invert_dict_grouped", _code("""
            def f(mapping):
                inverted = {}
                for key, value in mapping.items():
                    inverted.setdefault(value, []).append(key)
                return {v: sorted(keys) for v, keys in sorted(inverted.items())}
        """), "Invert the mapping: for every value list the keys that map to it, sorted, with values in "
              "increasing order.", _one(lambda r: _str_int_dict(r, pool, 0, 3))),
        Variant(f"filter_at_least_{threshold}", _code("""
            def f(mapping):
                return {k: v for k, v in mapping.items() if v >= $t}
        """, t=threshold), "Keep only the entries whose value reaches a fixed threshold.", gen),
        Variant("rank_by_value", _code("""
            def f(mapping):
                return [k for k, _ in sorted(mapping.items(), key=lambda kv: (-kv[1], kv[0]))]
        """), "List the keys from the largest value to the smallest, ties in alphabetical order.", gen),
        Variant("swap_keys_values", _code("""
            def f(mapping):
                return {v: k for k, v in mapping.items()}
        """), "Swap keys and values; when values repeat, the later key wins.",
            _one(lambda r: _str_int_dict(r, pool, 0, 4))),
        Variant("sum_by_initial", _code("""
            def f(mapping):
                totals = {}
                for key in sorted(mapping):
                    totals[key[0]] = totals.get(key[0], 0) + mapping[key]
                return totals
        """), "Add up the values of keys that share a first letter; report the sums by letter.", gen),
    ]


@_family("merge_counts")
def _merge_counts(rng: random.Random) -> list[Variant]:
    pool = _word_pool(rng, 6)

    def two(r: random.Random) -> tuple[dict[str, int], dict[str, int]]:
        return _str_int_dict(r, pool, 1, 6), _str_int_dict(r, pool, 1, 6)

    return [
        Variant("merge_add", _code("""
            def f(a, b):
                merged = dict(a)
                for key, value in b.items():
                    merged[key] = merged.get(key, 0) + value
                return dict(sorted(merged.items()))
        """), "Combine the two tallies by adding counts of equal keys; keys sorted.", two),
        Variant("merge_max", _code("""
            def f(a, b):
                return {k: max(a.get(k, 0), b.get(k, 0)) for k in sorted(a.keys() | b.keys())}
        """), "Combine the two tallies keeping, for each key, the larger count.", two),
        Variant("counter_subtract", _code("""
            from collections import Counter

            def f(a, b):
                return dict(sorted((Counter(a) - Counter(b)).items()))
        """), "Subtract the second tally from the first, dropping keys that reach zero or below.", two),
        Variant("common_min", _code("""
            def f(a, b):
                return {k: min(a[k], b[k]) for k in sorted(a) if k in b}
        """), "For keys present in both tallies, keep the smaller count.", two),
        Variant("tally_diff_report", _code("""
            def f(old, new):
                report = []
                for key in sorted(old.keys() | new.keys()):
                    before, after = old.get(key, 0), new.get(key, 0)
                    if before != after:
                        report.append(f'{key}{after - before:+d}')
                return ' '.join(report)
        """), "Describe how the counts changed from the first tally to the second, one signed change per key "
              "that changed, in key order.", two),
    ]


@_family("group_records")
def _group_records(rng: random.Random) -> list[Variant]:
    names = _word_pool(rng, 6)
    cats = rng.sample(["red", "blue", "green", "gold", "gray"], 3)

    def records(r: random.Random) -> list[tuple[str, str, int]]:
        return [(r.choice(names), r.choice(cats), r.randint(1, 20)) for _ in range(r.randint(1, 6))]

    gen = _one(records)
    return [
        Variant("group_names_by_category", _code("""
            def f(records):
                groups = {}
                for name, category, _ in records:
                    groups.setdefault(category, set()).add(name)
                return {c: sorted(ns) for c, ns in sorted(groups.items())}
        """), "Group the names (without repeats, sorted) under each category.", gen),
        Variant("sum_by_category", _code("""
            from collections import defaultdict

            def f(records):
                totals = defaultdict(int)
                for _, category, amount in records:
                    totals[category] += amount
                return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        """), "Total the amounts per category and rank the categories from the largest total.", gen),
        Variant("best_per_category", _code("""
            def f(records):
                best = {}
                for name, category, score in records:
                    if category not in best or score > best[category][1]:
                        best[category] = (name, score)
                return dict(sorted(best.items()))
        """), "For each category, find the record with the highest amount (the first one on ties).", gen),
        Variant("nested_totals", _code("""
            def f(records):
                table = {}
                for name, category, amount in records:
                    row = table.setdefault(category, {})
                    row[name] = row.get(name, 0) + amount
                return table
        """), "Build a two-level table: category, then name, then the total amount.", gen),
        Variant("category_share", _code("""
            def f(records):
                total = sum(amount for *_, amount in records)
                shares = {}
                for _, category, amount in records:
                    shares[category] = shares.get(category, 0) + amount
                return {c: round(100 * v / total) for c, v in sorted(shares.items())}
        """), "Give each category's share of the grand total as a whole-number percentage.", gen),
    ]


def _nested_data(rng: random.Random, keys: Sequence[str], depth: int = 0) -> Any:
    if depth >= 3 or rng.random() < 0.25 * depth:
        return rng.randint(0, 9)
    if rng.random() < 0.25:
        return [_nested_data(rng, keys, depth + 1) for _ in range(rng.randint(1, 3))]
    chosen = rng.sample(list(keys), rng.randint(1, 3))
    return {k: _nested_data(rng, keys, depth + 1) for k in chosen}


def _leaf_path(rng: random.Random, data: Any) -> list[str]:
    path = []
    while isinstance(data, (dict, list)) and data and rng.random() < 0.85:
        if isinstance(data, dict):
            key = rng.choice(list(data))
        else:
            key = rng.randrange(len(data))
        path.append(str(key))
        data = data[key]
    if rng.random() < 0.15:
        path.append(rng.choice(["x", "9"]))
    return path


@_family("nested_lookup")
def _nested_lookup(rng: random.Random) -> list[Variant]:
    keys = _word_pool(rng, 4)
    sep = rng.choice(["/", ".", ":"])
    default = rng.choice([-1, None, "missing"])

    def data_path(r: random.Random) -> tuple[Any, str]:
        data = {k: _nested_data(r, keys, 1) for k in r.sample(keys, 2)}
        return data, sep.join(_leaf_path(r, data))

    data_gen = _one(lambda r: {k: _nested_data(r, keys, 1) for k in r.sample(keys, 2)})
    return [
        Variant("path_lookup", _code("""
            def f(data, path):
                node = data
                for part in path.split('$sep') if path else []:
                    if isinstance(node, dict) and part in node:
                        node = node[part]
                    elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                        node = node[int(part)]
                    else:
                        return $default
                return node
        """, sep=sep, default=repr(default)),
            "Follow a separator-delimited path of keys and list indices into nested data; return a fixed "
            "default when the path breaks.", data_path),
        Variant("leaf_paths", _code("""
            def f(data):
                paths = []

                def walk(node, prefix):
                    if isinstance(node, dict):
                        for key in sorted(node):
                            walk(node[key], prefix + [key])
                    elif isinstance(node, list):
                        for i, item in enumerate(node):
                            walk(item, prefix + [str(i)])
                    else:
                        paths.append('$sep'.join(prefix))

                walk(data, [])
                return paths
        """, sep=sep),
            "List the path to every leaf value of the nested data, keys in sorted order.", data_gen),
        Variant("leaf_sum_and_count", _code("""
            def f(data):
                if isinstance(data, dict):
                    parts = [f(v) for v in data.values()]
                elif isinstance(data, list):
                    parts = [f(v) for v in data]
                else:
                    return (data, 1)
                return (sum(p[0] for p in parts), sum(p[1] for p in parts))
        """), "Add up every number in the nested data and count them.", data_gen),
        Variant("flatten_keys", _code("""
            def f(data, prefix=''):
                flat = {}
                for key, value in data.items():
                    name = prefix + '$sep' + key if prefix else key
                    if isinstance(value, dict):
                        flat.update(f(value, name))
                    else:
                        flat[name] = value
                return flat
        """, sep=sep), "Flatten nested dictionaries into one level, joining the keys along each path with a "
                       "separator; lists count as values.", data_gen),
    ]


@_family("bank_ledger")
def _bank_ledger(rng: random.Random) -> list[Variant]:
    fee = rng.choice([1, 2])
    limit = rng.choice([5, 10])
    rate = rng.choice([10, 20])
    cls = """
        class Account:
            def __init__(self, balance=0):
                self.balance = balance
                self.history = []
                self.rejected = 0

            def deposit(self, amount):
                self.balance += amount
                self.history.append(('dep', amount))

            def withdraw(self, amount):
                cost = amount + $fee
                if cost > self.balance + $limit:
                    self.rejected += 1
                    return False
                self.balance -= cost
                self.history.append(('wd', amount))
                return True
    """

    def ops(r: random.Random) -> list[tuple[str, int]]:
        return [(r.choice(["dep", "wd", "wd"]), r.randint(1, 15)) for _ in range(r.randint(1, 6))]

    return [
        Variant(f"ledger_balance_fee{fee}_limit{limit}", _code(cls, """
            def f(ops):
                acct = Account()
                for kind, amount in ops:
                    if kind == 'dep':
                        acct.deposit(amount)
                    else:
                        acct.withdraw(amount)
                return acct.balance, acct.rejected
        """, fee=fee, limit=limit),
            "Run deposits and withdrawals on an account that charges a fee per withdrawal and allows a "
            "limited overdraft; report the final balance and how many withdrawals were refused.", _one(ops)),
        Variant(f"ledger_history_fee{fee}", _code(cls, """
            def f(ops, opening):
                acct = Account(opening)
                for kind, amount in ops:
                    (acct.deposit if kind == 'dep' else acct.withdraw)(amount)
                return acct.history
        """, fee=fee, limit=0),
            "Starting from an opening balance, apply the operations to an account that charges a withdrawal "
            "fee and never goes negative; return the log of accepted operations.",
            lambda r: (ops(r), r.randint(0, 20))),
        Variant(f"ledger_interest_{rate}", _code("""
            class Savings:
                def __init__(self):
                    self.balance = 0
                    self.months = 0

                def apply(self, op):
                    if op == 'month':
                        self.months += 1
                        self.balance += self.balance * $rate // 100
                    else:
                        self.balance = max(0, self.balance + op)

            def f(ops):
                acct = Savings()
                for op in ops:
                    acct.apply(op)
                return acct.balance, acct.months
        """, rate=rate), "Track a savings balance: numbers are deposits (negative ones withdrawals, never "
                         "below zero) and 'month' adds whole-number interest at a fixed rate; report the "
                         "balance and the months elapsed.",
            _one(lambda r: [r.choice(["month", r.randint(-10, 30)]) for _ in range(r.randint(1, 6))])),
        Variant("ledger_transfers", _code("""
            class Bank:
                def __init__(self, names):
                    self.accounts = {name: 10 for name in names}

                def transfer(self, src, dst, amount):
                    if self.accounts.get(src, 0) < amount or dst not in self.accounts:
                        return False
                    self.accounts[src] -= amount
                    self.accounts[dst] += amount
                    return True

            def f(names, transfers):
                bank = Bank(names)
                ok = [bank.transfer(*t) for t in transfers]
                return bank.accounts, ok.count(False)
        """), "Open accounts holding 10 each, apply the transfers that are covered, and return the balances "
              "and the number of failed transfers.",
            lambda r: (["ann", "bo", "cy"],
                       [(r.choice(["ann", "bo", "cy", "dee"]), r.choice(["ann", "bo", "cy", "dee"]),
                         r.randint(1, 12)) for _ in range(r.randint(1, 5))])),
        Variant("ledger_min_balance", _code("""
            def f(ops):
                balance = lowest = 0
                for kind, amount in ops:
                    balance += amount if kind == 'dep' else -amount
                    lowest = min(lowest, balance)
                return {'final': balance, 'lowest': lowest, 'needed': -lowest}
        """), "Replay deposits and withdrawals from zero; report the final balance, the lowest point, and "
              "the opening balance that would have avoided going negative.", _one(ops)),
    ]


def _postfix(rng: random.Random) -> str:
    """A well-formed postfix expression, sometimes with extra operands left over."""
    tokens: list[str] = []
    depth = 0
    for _ in range(rng.randint(2, 9)):
        if depth >= 2 and rng.random() < 0.5:
            tokens.append(rng.choice(["+", "-", "*", "//"]))
            depth -= 1
        else:
            tokens.append(str(rng.randint(0, 9)))
            depth += 1
    return " ".join(tokens)


@_family("stack_machine")
def _stack_machine(rng: random.Random) -> list[Variant]:
    machine = """
        class Machine:
            def __init__(self):
                self.stack = []

            def run(self, program):
                for line in program:
                    op, *arg = line.split()
                    if op == 'push':
                        self.stack.append(int(arg[0]))
                    elif op == 'pop':
                        self.stack.pop()
                    elif op == 'dup':
                        self.stack.append(self.stack[-1])
                    elif op == 'swap':
                        self.stack[-1], self.stack[-2] = self.stack[-2], self.stack[-1]
                    elif op in ('add', 'sub', 'mul'):
                        b, a = self.stack.pop(), self.stack.pop()
                        self.stack.append(a + b if op == 'add' else a - b if op == 'sub' else a * b)
                return self.stack
    """

    def program(r: random.Random) -> list[str]:
        depth = 0
        lines = []
        for _ in range(r.randint(2, 8)):
            choices = ["push"]
            if depth >= 1:
                choices += ["dup", "pop"]
            if depth >= 2:
                choices += ["swap", "add", "sub", "mul", "add", "mul"]
            op = r.choice(choices)
            if op == "push":
                lines.append(f"push {r.randint(0, 9)}")
                depth += 1
            else:
                lines.append(op)
                depth += {"dup": 1, "pop": -1, "swap": 0}.get(op, -1)
        return lines

    def risky(r: random.Random) -> list[str]:
        lines = program(r)
        if r.random() < 0.4:
            lines.insert(r.randrange(len(lines) + 1), r.choice(["add", "pop", "swap"]))
        return lines

    return [
        Variant("stack_machine_final", _code(machine, """
            def f(program):
                return Machine().run(program)
        """), "Interpret a small stack language (push, pop, dup, swap, add, sub, mul) and return the final "
              "stack, bottom first.", _one(program)),
        Variant("stack_machine_errors", _code(machine, """
            def f(program):
                try:
                    stack = Machine().run(program)
                except IndexError:
                    return 'underflow'
                return stack[-1] if stack else None
        """), "Interpret a small stack language and return the top value, None for an empty stack, or "
              "'underflow' when an instruction lacks operands.", _one(risky)),
        Variant("rpn_eval", _code("""
            import operator

            OPS = {'+': operator.add, '-': operator.sub, '*': operator.mul, '//': operator.floordiv}

            def f(expression):
                stack = []
                for token in expression.split():
                    if token in OPS:
                        b, a = stack.pop(), stack.pop()
                        stack.append(OPS[token](a, b) if token != '//' or b else 0)
                    else:
                        stack.append(int(token))
                return stack
        """), "Evaluate a postfix arithmetic expression (integer division by zero gives 0) and return the "
              "stack that remains.",
            _one(_postfix)),
        Variant("register_machine", _code("""
            class Registers:
                def __init__(self):
                    self.regs = {'a': 0, 'b': 0}
                    self.steps = 0

                def execute(self, code, limit=50):
                    pc = 0
                    while 0 <= pc < len(code) and self.steps < limit:
                        op, reg, *rest = code[pc].split()
                        self.steps += 1
                        if op == 'inc':
                            self.regs[reg] += 1
                        elif op == 'dec':
                            self.regs[reg] -= 1
                        elif op == 'jnz' and self.regs[reg] != 0:
                            pc += int(rest[0])
                            continue
                        pc += 1
                    return self.regs

            def f(code):
                machine = Registers()
                return machine.execute(code), machine.steps
        """), "Run a tiny register program (inc, dec, jump-if-not-zero by an offset) for at most a fixed "
              "number of steps; return the registers and the steps used.",
            _one(lambda r: [r.choice([f"inc {x}", f"dec {x}", f"jnz {x} {r.choice([-2, -1, 2])}"])
                            for x in (r.choice("ab") for _ in range(r.randint(2, 6)))])),
        Variant("stack_depth_trace", _code(machine, """
            def f(program):
                machine = Machine()
                depths = []
                for line in program:
                    machine.run([line])
                    depths.append(len(machine.stack))
                return depths
        """), "Interpret a small stack language one instruction at a time and record the stack height after "
              "each.", _one(program)),
    ]


def _csv_line(rng: random.Random) -> tuple[str, str]:
    sep = rng.choice([",", ";"])
    fields = []
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        if roll < 0.3:
            fields.append(f'"{_word(rng)}{rng.choice([" ", ",", ";"])}{_word(rng)}"')
        elif roll < 0.5:
            fields.append(f" {_word(rng)} ")
        else:
            fields.append(_word(rng))
    return sep.join(fields), sep


@_family("tokenizer")
def _tokenizer(rng: random.Random) -> list[Variant]:
    tok = """
        class Tokenizer:
            def __init__(self, text):
                self.text = text
                self.pos = 0

            def tokens(self):
                out = []
                while self.pos < len(self.text):
                    ch = self.text[self.pos]
                    if ch.isspace():
                        self.pos += 1
                    elif ch.isdigit():
                        out.append(('NUM', self._take(str.isdigit)))
                    elif ch.isalpha() or ch == '_':
                        out.append(('NAME', self._take(lambda c: c.isalnum() or c == '_')))
                    else:
                        out.append(('OP', ch))
                        self.pos += 1
                return out

            def _take(self, pred):
                start = self.pos
                while self.pos < len(self.text) and pred(self.text[self.pos]):
                    self.pos += 1
                return self.text[start:self.pos]
    """

    def expr(r: random.Random) -> str:
        parts = []
        for i in range(r.randint(1, 4)):
            if i:
                parts.append(r.choice([" + ", "-", " * ", "=", " (", ") ", ","]))
            if r.random() < 0.5:
                parts.append(str(r.randint(0, 120)))
            else:
                parts.append(_word(r, 1, 2) + r.choice(["", "_1", "2"]))
        return "".join(parts)

    gen = _one(expr)
    return [
        Variant("tokenize_expression", _code(tok, """
            def f(text):
                return Tokenizer(text).tokens()
        """), "Split the text into number, name and single-character operator tokens, tagging each token "
              "with its kind.", gen),
        Variant("token_kind_counts", _code(tok, """
            def f(text):
                counts = {}
                for kind, _ in Tokenizer(text).tokens():
                    counts[kind] = counts.get(kind, 0) + 1
                return counts
        """), "Tokenise the text into numbers, names and operators and count the tokens of each kind.", gen),
        Variant("token_numbers_sum", _code(tok, """
            def f(text):
                tokens = Tokenizer(text).tokens()
                return sum(int(v) for k, v in tokens if k == 'NUM'), [v for k, v in tokens if k == 'NAME']
        """), "Tokenise the text; add up the numbers and list the names in order.", gen),
        Variant("regex_tokenize", _code("""
            import re

            TOKEN = re.compile(r'\\s*(?:(\\d+)|([A-Za-z_]\\w*)|(\\S))')

            def f(text):
                out = []
                for number, name, other in TOKEN.findall(text):
                    out.append(int(number) if number else name.upper() if name else other)
                return out
        """), "Tokenise the text: numbers become integers, names are upper-cased, anything else stays a "
              "one-character string.", gen),
        Variant("csv_fields", _code("""
            def f(line, sep):
                fields, current, quoted = [], '', False
                for ch in line:
                    if ch == '"':
                        quoted = not quoted
                    elif ch == sep and not quoted:
                        fields.append(current.strip())
                        current = ''
                    else:
                        current += ch
                fields.append(current.strip())
                return fields
        """), "Split a line into fields at the separator, except inside double quotes (which are removed); "
              "strip spaces around fields.",
            _csv_line),
    ]


@_family("round_robin")
def _round_robin(rng: random.Random) -> list[Variant]:
    q1, q2 = rng.sample([1, 2, 3], 2)

    def tasks(r: random.Random) -> list[tuple[str, int]]:
        names = r.sample(["a", "b", "c", "d", "e"], r.randint(1, 4))
        return [(n, r.randint(1, 6)) for n in names]

    rr = """
        from collections import deque

        def f(tasks):
            queue = deque(tasks)
            clock = 0
            $state
            while queue:
                name, left = queue.popleft()
                run = min($q, left)
                clock += run
                if left > run:
                    queue.append((name, left - run))
                else:
                    $record
            return $result
    """
    return [
        Variant(f"round_robin_order_q{q1}", _code(rr, q=q1, state="order = []", record="order.append(name)",
                                                  result="order"),
                "Simulate round-robin scheduling with a fixed time slice and return the order in which the "
                "tasks finish.", _one(tasks)),
        Variant(f"round_robin_times_q{q2}", _code(rr, q=q2, state="done = {}", record="done[name] = clock",
                                                  result="dict(sorted(done.items()))"),
                "Simulate round-robin scheduling with a fixed time slice and report when each task finishes.",
                _one(tasks)),
        Variant("priority_order", _code("""
            import heapq

            def f(tasks):
                heap = [(-priority, i, name) for i, (name, priority) in enumerate(tasks)]
                heapq.heapify(heap)
                return [heapq.heappop(heap)[2] for _ in range(len(heap))]
        """), "Order the tasks by priority, highest first, keeping input order among equal priorities.",
            _one(tasks)),
        Variant("josephus_order", _code("""
            from collections import deque

            def f(n, k):
                circle = deque(range(1, n + 1))
                out = []
                while circle:
                    circle.rotate(-(k - 1))
                    out.append(circle.popleft())
                return out
        """), "People numbered from 1 stand in a circle; every k-th person is removed. Return the removal "
              "order.", lambda r: (r.randint(1, 9), r.randint(1, 5))),
    ]


def _token_soup(rng: random.Random) -> str:
    """Words, numbers and tokens that mix letters and digits, separated by spaces."""
    pieces = []
    for _ in range(rng.randint(1, 7)):
        pieces.append(rng.choice([
            _word(rng), str(rng.randint(0, 99)), f"{rng.randint(1, 9)}{_word(rng, 1, 1)}",
            _word(rng, 1, 1) + str(rng.randint(0, 9)), "-", "+",
        ]))
    return " ".join(pieces)


@_family("state_machine")
def _state_machine(rng: random.Random) -> list[Variant]:
    price = rng.choice([3, 4, 5])
    return [
        Variant("turnstile", _code("""
            TRANSITIONS = {
                ('locked', 'coin'): 'open',
                ('locked', 'push'): 'locked',
                ('open', 'push'): 'locked',
                ('open', 'coin'): 'open',
            }

            def f(events):
                state = 'locked'
                passes = 0
                for event in events:
                    new = TRANSITIONS[(state, event)]
                    if state == 'open' and event == 'push':
                        passes += 1
                    state = new
                return state, passes
        """), "Simulate a coin-operated turnstile and report its final state and how many people passed.",
            _one(lambda r: [r.choice(["coin", "push"]) for _ in range(r.randint(1, 9))])),
        Variant(f"vending_machine_{price}", _code("""
            from enum import Enum

            class State(Enum):
                IDLE = 0
                PAYING = 1

            def f(coins):
                state, credit, sold = State.IDLE, 0, 0
                for coin in coins:
                    credit += coin
                    state = State.PAYING
                    if credit >= $price:
                        sold += 1
                        credit -= $price
                        state = State.IDLE if credit == 0 else State.PAYING
                return sold, credit, state.name
        """, price=price), "A vending machine takes coins and dispenses an item whenever the credit covers a "
                           "fixed price; report items sold, remaining credit and the machine's state.",
            _one(lambda r: _ints(r, 1, 7, 1, 3))),
        Variant("traffic_light_ticks", _code("""
            CYCLE = [('green', 3), ('yellow', 1), ('red', 2)]

            def f(ticks):
                phase, left = 0, CYCLE[0][1]
                seen = []
                for _ in range(ticks):
                    left -= 1
                    if left == 0:
                        phase = (phase + 1) % len(CYCLE)
                        left = CYCLE[phase][1]
                    seen.append(CYCLE[phase][0][0])
                return ''.join(seen)
        """), "Advance a traffic light with fixed phase lengths tick by tick and record the initial of the "
              "colour after each tick.", _one(lambda r: r.randint(0, 14))),
        Variant("parse_states_count", _code("""
            def f(text):
                state = 'space'
                words = numbers = 0
                for ch in text + ' ':
                    if ch.isdigit():
                        if state == 'space':
                            numbers += 1
                        state = 'number' if state != 'word' else 'word'
                    elif ch.isalpha():
                        if state == 'space':
                            words += 1
                        state = 'word' if state != 'number' else 'number'
                    else:
                        state = 'space'
                return words, numbers
        """), "Scan the text with a small state machine and count the tokens that start with a letter and "
              "those that start with a digit.",
            _one(_token_soup)),
    ]


@_family("digits_in_base")
def _digits_in_base(rng: random.Random) -> list[Variant]:
    bases = rng.sample([2, 3, 5, 6, 7, 8, 9, 12, 16], 5)
    digit_sum = """
        def f(n):
            total = 0
            while n > 0:
                n, d = divmod(n, $b)
                total += d
            return total
    """
    gen = _one(lambda r: r.randint(0, 5000))
    return [
        Variant(f"digit_sum_base_{bases[0]}", _code(digit_sum, b=bases[0]),
                "Sum the digits of the number written in a fixed base.", gen),
        Variant(f"digital_root_base_{bases[1]}", _code("""
            def f(n):
                def digit_sum(m):
                    return m if m < $b else digit_sum(m // $b) + m % $b
                while n >= $b:
                    n = digit_sum(n)
                return n
        """, b=bases[1]),
            "Repeatedly replace the number by the sum of its digits in a fixed base until a single "
            "digit remains.", gen),
        Variant(f"digit_count_base_{bases[2]}", _code("""
            def f(n):
                count = 1
                while n >= $b:
                    n //= $b
                    count += 1
                return count
        """, b=bases[2]), "Count how many digits the number needs in a fixed base.",
            _one(lambda r: r.randint(0, 10 ** r.randint(1, 6)))),
        Variant(f"digit_product_base_{bases[3]}", _code("""
            from functools import reduce

            def f(n):
                digits = []
                while n:
                    n, d = divmod(n, $b)
                    digits.append(d)
                return reduce(lambda a, b: a * b, [d for d in digits if d], 1), len(digits)
        """, b=bases[3]),
            "Multiply together the non-zero digits of the number in a fixed base; also give the "
            "number of digits.",
            gen),
        Variant(f"max_digit_base_{bases[4]}", _code("""
            def f(numbers):
                def top(n):
                    best = 0
                    while n:
                        best = max(best, n % $b)
                        n //= $b
                    return best
                return [top(n) for n in numbers]
        """, b=bases[4]), "For each number, report its largest digit in a fixed base.",
            _one(lambda r: _ints(r, 1, 5, 0, 999))),
    ]


@_family("base_convert")
def _base_convert(rng: random.Random) -> list[Variant]:
    b1, b2, b3 = rng.sample([2, 3, 4, 5, 7, 8, 11, 13, 16, 20, 36], 3)
    to_base = """
        DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'

        def f(n):
            if n == 0:
                return '0'
            sign = '-' if n < 0 else ''
            n = abs(n)
            out = ''
            while n:
                n, d = divmod(n, $b)
                out = DIGITS[d] + out
            return sign + out
    """
    signed = _one(lambda r: r.randint(-2000, 5000))
    to_base_hint = ("Write the integer in a fixed base (lowercase letters for digits above nine, a minus "
                    "sign for negatives).")
    return [
        Variant(f"to_base_{b1}", _code(to_base, b=b1), to_base_hint, signed),
        Variant(f"to_base_{b2}", _code(to_base, b=b2), to_base_hint, signed),
        Variant("from_base_arg", _code("""
            def f(text, base):
                return int(text, base)
        """), "Read the digit string as a number in the given base.",
            lambda r: _from_base_args(r)),
        Variant(f"base_{b3}_round_trip_sum", _code("""
            def f(a, b):
                def parse(s):
                    value = 0
                    for ch in s:
                        value = value * $b + int(ch, 36)
                    return value
                total = parse(a) + parse(b)
                digits = []
                while True:
                    total, d = divmod(total, $b)
                    digits.append('0123456789abcdefghijklmnopqrstuvwxyz'[d])
                    if total == 0:
                        return ''.join(reversed(digits))
        """, b=b3), "Add two numbers written in a fixed base and write the sum in that base.",
            lambda r: (_to_base(r.randint(0, 999), b3), _to_base(r.randint(0, 999), b3))),
        Variant("binary_padded", _code("""
            def f(values, width):
                return [format(v, f'0{width}b') for v in values]
        """), "Write each value in binary, zero-padded to the given width.",
            lambda r: (_ints(r, 1, 4, 0, 63), r.randint(3, 8))),
    ]


def _to_base(n: int, base: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, d = divmod(n, base)
        out = digits[d] + out
        if n == 0:
            return out


def _from_base_args(rng: random.Random) -> tuple[str, int]:
    base = rng.choice([2, 3, 8, 12, 16, 36])
    return _to_base(rng.randint(0, 4000), base), base


@_family("gcd_lcm")
def _gcd_lcm(rng: random.Random) -> list[Variant]:
    gen = _one(lambda r: [r.choice([2, 3, 4, 6, 8, 9, 10, 12, 15, 18, 20, 24, 30]) * r.randint(1, 4)
                          for _ in range(r.randint(2, 6))])
    return [
        Variant("gcd_of_neighbours", _code("""
            import math

            def f(nums):
                return [math.gcd(a, b) for a, b in zip(nums, nums[1:])]
        """), "Give the greatest common divisor of each pair of neighbouring numbers.", gen),
        Variant("lcm_of_all", _code("""
            from functools import reduce

            def f(nums):
                def gcd(a, b):
                    while b:
                        a, b = b, a % b
                    return a
                return reduce(lambda a, b: a * b // gcd(a, b), nums, 1)
        """), "Compute the least common multiple of all the numbers.", gen),
        Variant("gcd_reduce_fraction", _code("""
            from math import gcd

            def f(num, den):
                g = gcd(num, den)
                num, den = num // g, den // g
                if den < 0:
                    num, den = -num, -den
                return f'{num}/{den}' if den != 1 else str(num)
        """), "Reduce the fraction to lowest terms and write it as text, dropping a denominator of one.",
            lambda r: (r.randint(-40, 60), r.choice([-1, 1]) * r.randint(1, 24))),
        Variant("coprime_pairs", _code("""
            from itertools import combinations
            from math import gcd

            def f(nums):
                return [(a, b) for a, b in combinations(nums, 2) if gcd(a, b) == 1]
        """), "List the pairs (in order of position) whose members share no common factor above one.",
            _one(lambda r: _ints(r, 2, 5, 1, 30))),
        Variant("extended_gcd", _code("""
            def f(a, b):
                if b == 0:
                    return (a, 1, 0)
                g, x, y = f(b, a % b)
                return (g, y, x - (a // b) * y)
        """), "Return the greatest common divisor of the two numbers together with coefficients that "
              "combine them into it.", lambda r: (r.randint(1, 200), r.randint(0, 200))),
    ]


@_family("collatz")
def _collatz(rng: random.Random) -> list[Variant]:
    cap = rng.choice([30, 40, 50])
    mult = rng.choice([5, 7])
    gen = _one(lambda r: r.randint(1, 300))
    return [
        Variant(f"collatz_steps_cap_{cap}", _code("""
            def f(n):
                steps = 0
                while n != 1 and steps < $cap:
                    n = n // 2 if n % 2 == 0 else 3 * n + 1
                    steps += 1
                return steps
        """, cap=cap),
            "Count the halve-or-triple-plus-one steps needed to reach 1, giving up at a fixed cap.",
            gen),
        Variant("collatz_peak", _code("""
            def f(n):
                peak = n
                while n != 1:
                    n = n // 2 if n % 2 == 0 else 3 * n + 1
                    peak = max(peak, n)
                return peak
        """), "Find the highest value reached on the halve-or-triple-plus-one path down to 1.", gen),
        Variant("collatz_prefix", _code("""
            def f(n, length):
                seq = [n]
                while len(seq) < length and seq[-1] != 1:
                    x = seq[-1]
                    seq.append(x // 2 if x % 2 == 0 else 3 * x + 1)
                return seq
        """), "List the first values of the halve-or-triple-plus-one sequence starting at n, stopping at 1 "
              "or at the requested length.", lambda r: (r.randint(1, 100), r.randint(1, 8))),
        Variant(f"generalized_collatz_{mult}", _code("""
            def f(n):
                seen = []
                while n not in seen and len(seen) < 25:
                    seen.append(n)
                    if n % 2 == 0:
                        n //= 2
                    elif n % 3 == 0:
                        n //= 3
                    else:
                        n = $mult * n + 1
                return len(seen), n
        """, mult=mult),
            "Iterate a halving/thirding/multiply-plus-one rule until a value repeats (or a fixed "
            "number of steps pass); report the steps and where it stopped.", gen),
        Variant("collatz_longest_below", _code("""
            from functools import lru_cache

            @lru_cache(maxsize=None)
            def steps(n):
                if n == 1:
                    return 0
                return 1 + steps(n // 2 if n % 2 == 0 else 3 * n + 1)

            def f(limit):
                return max(range(1, limit + 1), key=lambda n: (steps(n), -n))
        """),
            "Among the numbers from 1 to the limit, find the one that takes the most "
            "halve-or-triple-plus-one "
            "steps to reach 1 (the smallest on ties).", _one(lambda r: r.randint(1, 120))),
    ]


@_family("primes")
def _primes(rng: random.Random) -> list[Variant]:
    sieve = """
        def sieve(n):
            flags = [True] * (n + 1)
            flags[:2] = [False] * min(2, n + 1)
            for p in range(2, int(n ** 0.5) + 1):
                if flags[p]:
                    for q in range(p * p, n + 1, p):
                        flags[q] = False
            return [i for i, ok in enumerate(flags) if ok]
    """
    k = rng.choice([3, 4])
    m, r0 = rng.choice([(4, 1), (4, 3), (6, 1), (6, 5), (10, 3), (10, 7)])
    small = _one(lambda r: r.randint(0, 80))
    big = _one(lambda r: r.randint(0, 400))
    return [
        Variant("primes_up_to", _code(sieve, """
            def f(n):
                return sieve(n)
        """), "List the primes up to n (inclusive).", small),
        Variant("prime_count_and_sum", _code(sieve, """
            def f(n):
                ps = sieve(n)
                return len(ps), sum(ps)
        """), "Count the primes up to n and add them up.", big),
        Variant(f"last_primes_{k}", _code(sieve, """
            def f(n):
                return sieve(n)[-$k:]
        """, k=k), "Give the largest few primes not exceeding n (a fixed number of them), ascending.", big),
        Variant("twin_primes", _code(sieve, """
            def f(n):
                ps = sieve(n)
                return [(p, q) for p, q in zip(ps, ps[1:]) if q - p == 2]
        """), "List the pairs of primes up to n that differ by two.", _one(lambda r: r.randint(0, 110))),
        Variant(f"primes_mod_{m}_{r0}", _code(sieve, """
            def f(n):
                return [p for p in sieve(n) if p % $m == $r]
        """, m=m, r=r0), "List the primes up to n that leave a particular remainder for a fixed modulus.",
            _one(lambda r: r.randint(0, 150))),
        Variant("prime_gaps", _code("""
            def f(lo, hi):
                def is_prime(n):
                    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))
                ps = [n for n in range(lo, hi + 1) if is_prime(n)]
                return max((q - p for p, q in zip(ps, ps[1:])), default=0), len(ps)
        """), "Among the primes in a range, find the largest gap between consecutive ones and the number of "
              "primes.", lambda r: (lambda a: (a, a + r.randint(5, 60)))(r.randint(0, 200))),
    ]


@_family("factorization")
def _factorization(rng: random.Random) -> list[Variant]:
    gen = _one(lambda r: r.randint(2, 3000))
    return [
        Variant("prime_factor_list", _code("""
            def f(n):
                factors = []
                d = 2
                while d * d <= n:
                    while n % d == 0:
                        factors.append(d)
                        n //= d
                    d += 1
                if n > 1:
                    factors.append(n)
                return factors
        """), "Break the number into its prime factors, smallest first, with repetition.", gen),
        Variant("prime_factor_powers", _code("""
            from collections import Counter

            def f(n):
                counts = Counter()
                p = 2
                while n > 1 and p * p <= n:
                    while n % p == 0:
                        counts[p] += 1
                        n //= p
                    p += 1 if p == 2 else 2
                if n > 1:
                    counts[n] += 1
                return ' * '.join(f'{p}^{e}' if e > 1 else str(p) for p, e in sorted(counts.items()))
        """), "Write the prime factorisation as text, using exponents for repeated primes.", gen),
        Variant("divisor_count_and_sum", _code("""
            def f(n):
                divisors = [d for d in range(1, n + 1) if n % d == 0]
                return len(divisors), sum(divisors) - n
        """), "Count the divisors of the number and add up its proper divisors.",
            _one(lambda r: r.randint(1, 500))),
        Variant("classify_by_divisors", _code("""
            def f(numbers):
                labels = []
                for n in numbers:
                    s = sum(d for d in range(1, n) if n % d == 0)
                    labels.append('perfect' if s == n else 'abundant' if s > n else 'deficient')
                return labels
        """), "Label each number perfect, abundant or deficient by comparing it with the sum of its proper "
              "divisors.", _one(lambda r: [r.choice([6, 28, 12, 18, 20, 24, 7, 9, 10, 15, 30, 36, 40, 496])
                                          if r.random() < 0.5 else r.randint(1, 60)
                                          for _ in range(r.randint(1, 4))])),
        Variant("smallest_prime_factors", _code("""
            def f(numbers):
                def spf(n):
                    for d in range(2, int(n ** 0.5) + 1):
                        if n % d == 0:
                            return d
                    return n
                return {n: spf(n) for n in numbers if n > 1}
        """),
            "Map each number above one to its smallest prime factor.",
            _one(lambda r: _ints(r, 1, 5, 0, 200))),
    ]


@_family("recurrences")
def _recurrences(rng: random.Random) -> list[Variant]:
    c1, c2 = rng.choice([(1, 1), (1, 2), (2, 1), (3, 1), (1, 3)])
    m = rng.choice([97, 100, 1000, 101])
    a0, a1 = rng.randint(0, 3), rng.randint(1, 4)
    return [
        Variant(f"linear_recurrence_{c1}_{c2}_mod_{m}", _code("""
            from functools import lru_cache

            @lru_cache(maxsize=None)
            def term(n):
                if n == 0:
                    return $a0
                if n == 1:
                    return $a1
                return ($c1 * term(n - 1) + $c2 * term(n - 2)) % $m

            def f(n):
                return term(n)
        """, c1=c1, c2=c2, m=m, a0=a0, a1=a1),
            "Compute the n-th term of a fixed second-order linear recurrence "
            "taken modulo a fixed number.", _one(lambda r: r.randint(0, 60))),
        Variant("tribonacci_prefix", _code("""
            def f(n, seed):
                seq = list(seed)
                while len(seq) < n:
                    seq.append(sum(seq[-3:]))
                return seq[:n]
        """), "Extend the sequence so that each new term is the sum of the previous three; return the first "
              "n terms.", lambda r: (r.randint(0, 10), [r.randint(0, 2) for _ in range(3)])),
        Variant("pisano_period", _code("""
            def f(m):
                a, b = 0, 1
                for i in range(1, 6 * m + 1):
                    a, b = b, (a + b) % m
                    if (a, b) == (0, 1):
                        return i
                return None
        """), "Find after how many steps the Fibonacci numbers taken modulo m start repeating.",
            _one(lambda r: r.randint(2, 60))),
        Variant("catalan_numbers", _code("""
            def f(n):
                cat = [1]
                for i in range(1, n + 1):
                    cat.append(sum(cat[j] * cat[i - 1 - j] for j in range(i)))
                return cat[n], sum(cat) % 1000
        """), "Compute the n-th Catalan number (ways to balance n pairs of brackets) and the last three "
              "digits of the sum of the Catalan numbers up to it.", _one(lambda r: r.randint(0, 25))),
        Variant("stairs_ways", _code("""
            from functools import lru_cache

            def f(n, steps):
                @lru_cache(maxsize=None)
                def ways(k):
                    if k == 0:
                        return 1
                    return sum(ways(k - s) for s in steps if s <= k)
                return ways(n)
        """), "Count the ordered ways to climb n stairs when each move covers one of the allowed step sizes.",
            lambda r: (r.randint(0, 20), sorted(r.sample([1, 2, 3, 4, 5], r.randint(1, 3))))),
    ]


@_family("digit_tricks")
def _digit_tricks(rng: random.Random) -> list[Variant]:
    d = rng.randint(0, 9)
    gen = _one(lambda r: r.randint(0, 10 ** r.randint(1, 7)))
    return [
        Variant("reverse_digits_signed", _code("""
            def f(n):
                sign = -1 if n < 0 else 1
                return sign * int(str(abs(n))[::-1])
        """), "Reverse the decimal digits of the number, keeping its sign.",
            _one(lambda r: r.randint(-99999, 99999))),
        Variant("armstrong_check", _code("""
            def f(n):
                digits = [int(c) for c in str(n)]
                total = sum(d ** len(digits) for d in digits)
                return total, total == n
        """), "Raise each digit to the power of the number of digits, add them up, and say whether the sum "
              "equals the number.", _one(lambda r: r.choice([153, 370, 371, 407, 9474, 5, 1634])
                                         if r.random() < 0.3 else r.randint(0, 9999))),
        Variant("largest_digit_arrangement", _code("""
            def f(n):
                digits = sorted(str(n), reverse=True)
                return int(''.join(digits)), int(''.join(sorted(digits)))
        """), "Rearrange the digits into the largest and the smallest possible numbers.", gen),
        Variant(f"count_digit_{d}", _code("""
            def f(start, stop):
                return sum(str(n).count('$d') for n in range(start, stop))
        """, d=d),
            "Count how many times one particular decimal digit is written when listing every number in "
            "a range.", lambda r: (lambda a: (a, a + r.randint(1, 120)))(r.randint(0, 300))),
        Variant("alternating_digit_sum", _code("""
            def f(n):
                total = 0
                for i, ch in enumerate(reversed(str(n))):
                    total += int(ch) if i % 2 == 0 else -int(ch)
                return total, total % 11 == 0
        """), "Add and subtract the digits alternately from the right and say whether the result is a "
              "multiple of 11.", _one(lambda r: r.randint(1, 90000) * (11 if r.random() < 0.4 else 1))),
        Variant("kaprekar_steps", _code("""
            def f(n):
                steps = 0
                while n not in (0, 6174) and steps < 10:
                    s = f'{n:04d}'
                    n = int(''.join(sorted(s, reverse=True))) - int(''.join(sorted(s)))
                    steps += 1
                return steps, n
        """), "Repeatedly subtract the smallest four-digit arrangement of the digits from the largest until "
              "reaching a fixed point; return the step count and where it ended.",
            _one(lambda r: r.randint(1000, 9999))),
    ]


@_family("bit_tricks")
def _bit_tricks(rng: random.Random) -> list[Variant]:
    width = rng.choice([4, 6, 8])
    gen = _one(lambda r: r.randint(0, 1023))
    return [
        Variant("popcount_list", _code("""
            def f(nums):
                return [bin(n).count('1') for n in nums]
        """),
            "Count the one bits in the binary form of each number.", _one(lambda r: _ints(r, 1, 6, 0, 255))),
        Variant("gray_code", _code("""
            def f(n):
                return n ^ (n >> 1), format(n ^ (n >> 1), 'b')
        """), "Convert the number to its reflected Gray code, as an integer and as a binary string.", gen),
        Variant(f"bit_reverse_{width}", _code("""
            def f(n):
                out = 0
                for _ in range($w):
                    out = (out << 1) | (n & 1)
                    n >>= 1
                return out
        """, w=width), "Reverse the order of the lowest bits of the number within a fixed width.",
            _one(lambda r: r.randint(0, 2 ** width - 1))),
        Variant("trailing_zeros", _code("""
            def f(n):
                if n == 0:
                    return -1
                count = 0
                while n & 1 == 0:
                    n >>= 1
                    count += 1
                return count
        """), "Count the zero bits at the low end of the number (-1 for zero).",
            _one(lambda r: r.randint(0, 64) << r.randint(0, 6))),
        Variant("set_bit_positions", _code("""
            def f(n):
                return [i for i in range(n.bit_length()) if n >> i & 1]
        """), "List the positions of the one bits, lowest first.", gen),
        Variant("toggle_bit_range", _code("""
            def f(n, lo, hi):
                mask = ((1 << (hi - lo + 1)) - 1) << lo
                return n ^ mask
        """), "Flip every bit of the number between two positions, inclusive.",
            lambda r: (lambda lo: (r.randint(0, 255), lo, lo + r.randint(0, 4)))(r.randint(0, 5))),
    ]


@_family("grid_paths")
def _grid_paths(rng: random.Random) -> list[Variant]:
    m = rng.choice([7, 13, 1000])
    blocked = _one(lambda r: _char_grid(r, (1, 5), (1, 5), 0.2))

    def numbers(r: random.Random) -> list[list[int]]:
        return _matrix(r, 1, 4, 1, 4, 0, 9)

    return [
        Variant("monotone_paths_blocked", _code("""
            from functools import lru_cache

            def f(grid):
                rows, cols = len(grid), len(grid[0])

                @lru_cache(maxsize=None)
                def paths(r, c):
                    if r >= rows or c >= cols or grid[r][c] == '#':
                        return 0
                    if (r, c) == (rows - 1, cols - 1):
                        return 1
                    return paths(r + 1, c) + paths(r, c + 1)

                return paths(0, 0)
        """), "Count the paths from the top-left to the bottom-right cell moving only right or down and "
              "avoiding '#' cells.", blocked),
        Variant(f"king_paths_mod_{m}", _code("""
            def f(grid):
                rows, cols = len(grid), len(grid[0])
                memo = {}

                def paths(r, c):
                    if r >= rows or c >= cols or grid[r][c] == '#':
                        return 0
                    if r == rows - 1 and c == cols - 1:
                        return 1
                    if (r, c) not in memo:
                        memo[(r, c)] = (paths(r + 1, c) + paths(r, c + 1) + paths(r + 1, c + 1)) % $m
                    return memo[(r, c)]

                return paths(0, 0)
        """, m=m), "Count paths from the top-left to the bottom-right cell using right, down and diagonal "
                   "down-right steps, avoiding '#', modulo a fixed number.", blocked),
        Variant("min_path_sum", _code("""
            def f(grid):
                rows, cols = len(grid), len(grid[0])
                best = [[0] * cols for _ in range(rows)]
                for r in range(rows):
                    for c in range(cols):
                        above = best[r - 1][c] if r else None
                        left = best[r][c - 1] if c else None
                        options = [v for v in (above, left) if v is not None]
                        best[r][c] = grid[r][c] + (min(options) if options else 0)
                return best[-1][-1]
        """), "Find the smallest total of cell values along a right/down path from the top-left to the "
              "bottom-right corner.", _one(numbers)),
        Variant("max_path_with_route", _code("""
            from functools import lru_cache

            def f(grid):
                rows, cols = len(grid), len(grid[0])

                @lru_cache(maxsize=None)
                def best(r, c):
                    here = grid[r][c]
                    if r == rows - 1 and c == cols - 1:
                        return here, 'E'
                    options = []
                    if r + 1 < rows:
                        total, route = best(r + 1, c)
                        options.append((total, 'D' + route))
                    if c + 1 < cols:
                        total, route = best(r, c + 1)
                        options.append((total, 'R' + route))
                    total, route = max(options)
                    return here + total, route

                return best(0, 0)
        """), "Find the largest total along a right/down path through the grid and describe the route as "
              "moves (ties resolved toward the lexicographically larger route).", _one(numbers)),
        Variant("reachable_cells", _code("""
            def f(grid, start):
                seen = set()

                def visit(r, c):
                    if not (0 <= r < len(grid) and 0 <= c < len(grid[0])):
                        return
                    if grid[r][c] == '#' or (r, c) in seen:
                        return
                    seen.add((r, c))
                    for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                        visit(r + dr, c + dc)

                visit(*start)
                return len(seen), max(seen, default=None)
        """), "Starting from a cell, count the open cells reachable by stepping up, down, left or right, and "
              "report the bottom-most (then right-most) of them.",
            lambda r: (lambda g: (g, (r.randrange(len(g)), r.randrange(len(g[0])))))(
                _char_grid(r, (2, 5), (2, 6), 0.3))),
    ]


@_family("subsets")
def _subsets(rng: random.Random) -> list[Variant]:
    k = rng.choice([2, 3])
    small = _one(lambda r: sorted(r.sample(range(1, 10), r.randint(1, 4))))
    return [
        Variant("power_set_recursive", _code("""
            def f(items):
                if not items:
                    return [[]]
                rest = f(items[1:])
                return rest + [[items[0]] + subset for subset in rest]
        """), "List every subset of the items, built recursively (subsets without the first item first).",
            _one(lambda r: r.sample(range(1, 10), r.randint(0, 3)))),
        Variant("subsets_with_sum", _code("""
            from itertools import combinations

            def f(items, target):
                found = []
                for size in range(len(items) + 1):
                    for combo in combinations(items, size):
                        if sum(combo) == target:
                            found.append(list(combo))
                return found
        """), "Find every subset (by size, then position order) whose elements add up to the target.",
            lambda r: (lambda xs: (xs, sum(r.sample(xs, r.randint(1, len(xs)))) if r.random() < 0.8
                                   else r.randint(3, 15)))(_ints(r, 2, 6, 1, 9))),
        Variant("count_subsets_at_most", _code("""
            def f(items, limit):
                def count(i, total):
                    if total > limit:
                        return 0
                    if i == len(items):
                        return 1
                    return count(i + 1, total) + count(i + 1, total + items[i])
                return count(0, 0)
        """), "Count the subsets whose sum does not exceed the limit (the empty subset included).",
            lambda r: (_ints(r, 1, 7, 1, 9), r.randint(0, 20))),
        Variant(f"combinations_of_{k}", _code("""
            from itertools import combinations

            def f(letters):
                return [''.join(c) for c in combinations(sorted(set(letters)), $k)]
        """, k=k), "Form every combination of a fixed number of distinct letters from the text, in sorted "
                   "order.", _one(lambda r: "".join(r.sample("abcdef", r.randint(k, 5))))),
        Variant("distinct_subset_sums", _code("""
            def f(items):
                sums = {0}
                for x in items:
                    sums |= {s + x for s in sums}
                return sorted(sums)
        """),
            "List every distinct total that some subset of the items can reach, in increasing order.", small),
    ]


@_family("permutations")
def _permutations(rng: random.Random) -> list[Variant]:
    return [
        Variant("count_no_equal_neighbours", _code("""
            from itertools import permutations

            def f(items):
                arrangements = set(permutations(items))
                good = [p for p in arrangements if all(a != b for a, b in zip(p, p[1:]))]
                return len(good), len(arrangements)
        """), "Among the distinct orderings of the items, count those with no two equal neighbours, and the "
              "total number of distinct orderings.", _one(lambda r: _ints(r, 1, 6, 0, 2))),
        Variant("kth_permutation", _code("""
            import math

            def f(letters, k):
                pool = sorted(letters)
                out = ''
                k %= math.factorial(len(pool))
                while pool:
                    block = math.factorial(len(pool) - 1)
                    index, k = divmod(k, block)
                    out += pool.pop(index)
                return out
        """), "Return the arrangement at a given zero-based position in the alphabetical list of all "
              "arrangements of the letters (wrapping around).",
            lambda r: ("".join(r.sample("abcdefg", r.randint(1, 5))), r.randint(0, 130))),
        Variant("next_permutation", _code("""
            def f(nums):
                a = list(nums)
                i = len(a) - 2
                while i >= 0 and a[i] >= a[i + 1]:
                    i -= 1
                if i < 0:
                    return sorted(a)
                j = len(a) - 1
                while a[j] <= a[i]:
                    j -= 1
                a[i], a[j] = a[j], a[i]
                a[i + 1:] = reversed(a[i + 1:])
                return a
        """), "Rearrange the numbers into the next larger ordering in lexicographic order (wrapping to the "
              "smallest).", _one(lambda r: _ints(r, 1, 6, 0, 5))),
        Variant("fixed_point_count", _code("""
            from itertools import permutations

            def f(n, fixed):
                return sum(sum(p[i] == i for i in range(n)) == fixed for p in permutations(range(n)))
        """), "Count the orderings of n items in which exactly the given number of items stay in their "
              "original positions.", lambda r: (r.randint(0, 7), r.randint(0, 3))),
        Variant("permutation_cycles", _code("""
            def f(perm):
                seen = set()
                cycles = []
                for start in range(len(perm)):
                    if start in seen:
                        continue
                    cycle = []
                    i = start
                    while i not in seen:
                        seen.add(i)
                        cycle.append(i)
                        i = perm[i]
                    cycles.append(cycle)
                return sorted(cycles, key=len, reverse=True)
        """), "Decompose the permutation (a list mapping each position to another) into cycles, longest "
              "first.", _one(lambda r: _shuffled_range(r, r.randint(1, 8)))),
    ]


def _shuffled_range(rng: random.Random, n: int) -> list[int]:
    return rng.sample(range(n), n)


def _tree(rng: random.Random, depth: int = 0) -> list[Any]:
    children = [] if depth >= 3 else [_tree(rng, depth + 1) for _ in range(rng.randint(0, 3 - depth))]
    return [rng.randint(0, 9), children]


@_family("tree_walks")
def _tree_walks(rng: random.Random) -> list[Variant]:
    gen = _one(_tree)
    return [
        Variant("tree_level_sums", _code("""
            def f(tree):
                sums = []
                level = [tree]
                while level:
                    sums.append(sum(value for value, _ in level))
                    level = [child for _, children in level for child in children]
                return sums
        """), "The tree is [value, [children...]]; add up the values on each level from the root down.", gen),
        Variant("tree_height_and_size", _code("""
            def f(tree):
                value, children = tree
                if not children:
                    return (1, 1)
                parts = [f(child) for child in children]
                return (1 + max(h for h, _ in parts), 1 + sum(n for _, n in parts))
        """), "The tree is [value, [children...]]; report its height and number of nodes.", gen),
        Variant("tree_leaves", _code("""
            def f(tree):
                value, children = tree
                if not children:
                    return [value]
                return [leaf for child in children for leaf in f(child)]
        """), "The tree is [value, [children...]]; list the values of the leaves from left to right.", gen),
        Variant("tree_max_root_path", _code("""
            def f(tree):
                value, children = tree
                if not children:
                    return value, [value]
                best_total, best_path = max(f(child) for child in children)
                return value + best_total, [value] + best_path
        """), "The tree is [value, [children...]]; find the root-to-leaf path with the largest sum (ties "
              "resolved by the larger path) and return the sum and the path.", gen),
        Variant("tree_preorder_postorder", _code("""
            def f(tree):
                pre, post = [], []

                def walk(node):
                    value, children = node
                    pre.append(value)
                    for child in children:
                        walk(child)
                    post.append(value)

                walk(tree)
                return pre, post
        """), "The tree is [value, [children...]]; list the values in pre-order and in post-order.", gen),
    ]


def _maybe_balanced(rng: random.Random) -> list[int]:
    """Small positive numbers that, half of the time, can be split into two equal-sum groups."""
    left = _ints(rng, 1, 3, 1, 12)
    if rng.random() < 0.5:
        return _ints(rng, 1, 6, 1, 12)
    total = sum(left)
    right = []
    while total > 0:
        right.append(rng.randint(1, total))
        total -= right[-1]
    items = left + right
    rng.shuffle(items)
    return items


@_family("knapsack_dp")
def _knapsack_dp(rng: random.Random) -> list[Variant]:
    coins = sorted(rng.sample([1, 2, 3, 5, 7, 10, 25], 3))
    cap = rng.choice([8, 10, 12, 15])

    def items(r: random.Random) -> list[tuple[int, int]]:
        return [(r.randint(1, 8), r.randint(1, 20)) for _ in range(r.randint(1, 5))]

    return [
        Variant(f"coin_change_ways_{'_'.join(map(str, coins))}", _code("""
            COINS = $coins

            def f(amount):
                ways = [1] + [0] * amount
                for coin in COINS:
                    for total in range(coin, amount + 1):
                        ways[total] += ways[total - coin]
                return ways[amount]
        """, coins=repr(coins)),
            "Count the ways to make the amount from a fixed set of coin values (order does "
                                  "not matter).", _one(lambda r: r.randint(0, 60))),
        Variant("min_coins", _code("""
            def f(amount, coins):
                INF = float('inf')
                best = [0] + [INF] * amount
                for total in range(1, amount + 1):
                    for coin in coins:
                        if coin <= total and best[total - coin] + 1 < best[total]:
                            best[total] = best[total - coin] + 1
                return best[amount] if best[amount] != INF else -1
        """), "Find the fewest coins from the given values that add up to the amount (-1 if impossible).",
            lambda r: (r.randint(0, 40), sorted(r.sample([2, 3, 4, 5, 6, 9, 10], r.randint(1, 3))))),
        Variant(f"knapsack_01_cap_{cap}", _code("""
            def f(items):
                best = [0] * ($cap + 1)
                for weight, value in items:
                    for c in range($cap, weight - 1, -1):
                        best[c] = max(best[c], best[c - weight] + value)
                return best[$cap]
        """, cap=cap),
            "Given (weight, value) items, each usable once, find the largest total value that fits "
            "under a fixed weight capacity.", _one(items)),
        Variant("knapsack_chosen_items", _code("""
            from functools import lru_cache

            def f(items, capacity):
                @lru_cache(maxsize=None)
                def best(i, room):
                    if i == len(items):
                        return (0, ())
                    skip = best(i + 1, room)
                    weight, value = items[i]
                    if weight <= room:
                        total, chosen = best(i + 1, room - weight)
                        take = (total + value, (i,) + chosen)
                        return max(skip, take)
                    return skip
                total, chosen = best(0, capacity)
                return total, list(chosen)
        """), "Choose items (weight, value) under the capacity to maximise total value; return the value and "
              "the chosen positions.", lambda r: (tuple(items(r)), r.randint(3, 15))),
        Variant("partition_equal_sum", _code("""
            def f(nums):
                total = sum(nums)
                if total % 2:
                    return False, total
                reachable = {0}
                for x in nums:
                    reachable |= {s + x for s in reachable}
                return total // 2 in reachable, total
        """),
            "Say whether the numbers can be split into two groups with equal sums, and give the overall sum.",
            _one(_maybe_balanced)),
    ]


@_family("string_distance")
def _string_distance(rng: random.Random) -> list[Variant]:
    def pair(r: random.Random) -> tuple[str, str]:
        a = "".join(r.choice("abcd") for _ in range(r.randint(0, 7)))
        b = list(a)
        for _ in range(r.randint(0, 4)):
            op = r.random()
            if op < 0.33 and b:
                del b[r.randrange(len(b))]
            elif op < 0.66:
                b.insert(r.randint(0, len(b)), r.choice("abcd"))
            elif b:
                b[r.randrange(len(b))] = r.choice("abcd")
        return a, "".join(b)

    sub = rng.choice([1, 2])
    return [
        Variant("lcs_length", _code("""
            def f(a, b):
                prev = [0] * (len(b) + 1)
                for ch in a:
                    cur = [0]
                    for j, other in enumerate(b):
                        cur.append(prev[j] + 1 if ch == other else max(prev[j + 1], cur[j]))
                    prev = cur
                return prev[-1]
        """), "Find the length of the longest common subsequence of the two strings.", pair),
        Variant(f"edit_distance_sub_{sub}", _code("""
            def f(a, b):
                dist = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
                for i in range(len(a) + 1):
                    dist[i][0] = i
                for j in range(len(b) + 1):
                    dist[0][j] = j
                for i in range(1, len(a) + 1):
                    for j in range(1, len(b) + 1):
                        cost = 0 if a[i - 1] == b[j - 1] else $sub
                        dist[i][j] = min(dist[i - 1][j] + 1, dist[i][j - 1] + 1, dist[i - 1][j - 1] + cost)
                return dist[-1][-1]
        """, sub=sub),
            "Compute the edit distance between the strings, where inserting or deleting costs one and "
            "substituting has a fixed cost.", pair),
        Variant("hamming_padded", _code("""
            from itertools import zip_longest

            def f(a, b):
                return sum(x != y for x, y in zip_longest(a, b, fillvalue='_'))
        """), "Count the positions at which the strings differ, treating the shorter one as padded.", pair),
        Variant("common_prefix", _code("""
            def f(words):
                prefix = ''
                for chars in zip(*words):
                    if len(set(chars)) != 1:
                        break
                    prefix += chars[0]
                return prefix, len(words)
        """), "Find the longest prefix shared by all the words, and how many words there are.",
            _one(lambda r: (lambda stem: [stem + _word(r, 0, 1) for _ in range(r.randint(1, 4))])(
                "".join(r.choice("abc") for _ in range(r.randint(0, 4)))))),
        Variant("lcs_string", _code("""
            from functools import lru_cache

            def f(a, b):
                @lru_cache(maxsize=None)
                def best(i, j):
                    if i == len(a) or j == len(b):
                        return ''
                    if a[i] == b[j]:
                        return a[i] + best(i + 1, j + 1)
                    x, y = best(i + 1, j), best(i, j + 1)
                    return x if (len(x), x) >= (len(y), y) else y
                return best(0, 0)
        """), "Return a longest common subsequence of the two strings (the alphabetically larger one among "
              "equally long candidates).", pair),
    ]


@_family("grid_transform")
def _grid_transform(rng: random.Random) -> list[Variant]:
    gen = _one(lambda r: _matrix(r, 1, 4, 1, 4))
    shift = rng.choice([1, 2])
    return [
        Variant("rotate_clockwise", _code("""
            def f(grid):
                return [list(row) for row in zip(*grid[::-1])]
        """), "Rotate the grid a quarter turn clockwise.", gen),
        Variant("rotate_counterclockwise", _code("""
            def f(grid):
                return [list(row) for row in zip(*grid)][::-1]
        """), "Rotate the grid a quarter turn counter-clockwise.", gen),
        Variant("transpose_grid", _code("""
            def f(grid):
                return [[grid[r][c] for r in range(len(grid))] for c in range(len(grid[0]))]
        """), "Swap the rows and columns of the grid.", gen),
        Variant("mirror_and_flip", _code("""
            def f(grid):
                mirrored = [row[::-1] for row in grid]
                return mirrored, grid[::-1]
        """), "Return the grid mirrored left-to-right and, separately, flipped upside down.", gen),
        Variant(f"shift_rows_by_index_{shift}", _code("""
            def f(grid):
                out = []
                for i, row in enumerate(grid):
                    k = (i * $shift) % len(row)
                    out.append(row[-k:] + row[:-k] if k else list(row))
                return out
        """, shift=shift), "Rotate each row to the right by an amount that grows with the row's index.", gen),
        Variant("grid_from_string", _code("""
            def f(text, width):
                cells = [ch for ch in text if not ch.isspace()]
                rows = [cells[i:i + width] for i in range(0, len(cells), width)]
                if rows and len(rows[-1]) < width:
                    rows[-1] += ['.'] * (width - len(rows[-1]))
                return [''.join(r) for r in rows]
        """), "Lay out the non-space characters row by row in a grid of the given width, padding the last "
              "row with dots.", lambda r: (_sentence(r, 1, 3), r.randint(2, 5))),
    ]


@_family("grid_islands")
def _grid_islands(rng: random.Random) -> list[Variant]:
    gen = _one(lambda r: _char_grid(r, (3, 6), (3, 7), r.choice([0.25, 0.35, 0.45])))
    flood = """
        def islands(grid, diagonal):
            rows, cols = len(grid), len(grid[0])
            seen = set()
            sizes = []
            steps = [(1, 0), (-1, 0), (0, 1), (0, -1)]
            if diagonal:
                steps += [(1, 1), (1, -1), (-1, 1), (-1, -1)]
            for r in range(rows):
                for c in range(cols):
                    if grid[r][c] != '#' or (r, c) in seen:
                        continue
                    stack = [(r, c)]
                    seen.add((r, c))
                    size = 0
                    while stack:
                        y, x = stack.pop()
                        size += 1
                        for dy, dx in steps:
                            ny, nx = y + dy, x + dx
                            inside = 0 <= ny < rows and 0 <= nx < cols
                            if inside and grid[ny][nx] == '#' and (ny, nx) not in seen:
                                seen.add((ny, nx))
                                stack.append((ny, nx))
                    sizes.append(size)
            return sizes
    """
    return [
        Variant("count_islands_4", _code(flood, """
            def f(grid):
                return len(islands(grid, False))
        """), "Count the groups of '#' cells connected through shared edges.", gen),
        Variant("count_islands_8", _code(flood, """
            def f(grid):
                return len(islands(grid, True))
        """), "Count the groups of '#' cells connected through edges or corners.", gen),
        Variant("island_sizes_sorted", _code(flood, """
            def f(grid):
                return sorted(islands(grid, False), reverse=True)
        """), "List the sizes of the edge-connected groups of '#' cells, largest first.", gen),
        Variant("land_perimeter", _code("""
            def f(grid):
                perimeter = 0
                for r, row in enumerate(grid):
                    for c, cell in enumerate(row):
                        if cell != '#':
                            continue
                        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                            nr, nc = r + dr, c + dc
                            if not (0 <= nr < len(grid) and 0 <= nc < len(row)) or grid[nr][nc] != '#':
                                perimeter += 1
                return perimeter
        """), "Measure the total length of the boundary around all '#' cells.", gen),
        Variant("row_col_land_counts", _code("""
            def f(grid):
                rows = [row.count('#') for row in grid]
                cols = [sum(row[c] == '#' for row in grid) for c in range(len(grid[0]))]
                return rows, cols
        """), "Count the '#' cells in every row and in every column.", gen),
    ]


@_family("cellular_automata")
def _cellular_automata(rng: random.Random) -> list[Variant]:
    life = """
        BIRTH = $birth
        SURVIVE = $survive

        def step(grid):
            rows, cols = len(grid), len(grid[0])
            out = []
            for r in range(rows):
                line = ''
                for c in range(cols):
                    n = 0
                    for dr in (-1, 0, 1):
                        for dc in (-1, 0, 1):
                            if (dr or dc) and $neighbour == '#':
                                n += 1
                    alive = grid[r][c] == '#'
                    line += '#' if (n in SURVIVE if alive else n in BIRTH) else '.'
                out.append(line)
            return out

        def f(grid):
            for _ in range($steps):
                grid = step(grid)
            return grid
    """
    bounded = "0 <= r + dr < rows and 0 <= c + dc < cols and grid[r + dr][c + dc]"
    wrapped = "grid[(r + dr) % rows][(c + dc) % cols]"
    rule = rng.choice([(3, 6), (3, 8), (3, 6, 7, 8)])
    rule_num = rng.choice([30, 90, 110, 184])
    gen = _one(lambda r: _char_grid(r, (3, 5), (3, 5), 0.4))
    return [
        Variant("life_step", _code(life, birth="(3,)", survive="(2, 3)", neighbour=bounded, steps=1),
                "Advance Conway's Game of Life by one generation on a bounded grid ('#' alive).", gen),
        Variant("life_two_steps_torus",
                _code(life, birth="(3,)", survive="(2, 3)", neighbour=wrapped, steps=2),
                "Advance Conway's Game of Life by two generations on a grid whose edges wrap around.", gen),
        Variant(f"life_like_b{''.join(map(str, rule))}_s23",
                _code(life, birth=repr(tuple(rule)), survive="(2, 3)", neighbour=bounded, steps=1),
                "Advance a Life-like cellular automaton with a non-standard birth rule by one step.", gen),
        Variant("seeds_rule_step", _code(life, birth="(2,)", survive="()", neighbour=bounded, steps=1),
                "One step of the automaton in which a dead cell with exactly two live neighbours is born and "
                "every live cell dies.", gen),
        Variant(f"elementary_rule_{rule_num}", _code("""
            def f(cells, steps):
                width = len(cells)
                rows = [cells]
                for _ in range(steps):
                    prev = rows[-1]
                    nxt = ''
                    for i in range(width):
                        left = prev[i - 1] if i > 0 else '.'
                        right = prev[i + 1] if i < width - 1 else '.'
                        index = 4 * (left == '#') + 2 * (prev[i] == '#') + (right == '#')
                        nxt += '#' if $rule >> index & 1 else '.'
                    rows.append(nxt)
                return rows[-1]
        """, rule=rule_num),
            "Run a one-dimensional cellular automaton with a fixed rule number for a number of "
            "steps (cells beyond the ends are dead) and return the final row.",
            lambda r: ("".join(r.choice("#..") for _ in range(r.randint(3, 10))), r.randint(1, 4))),
    ]


def _square(rng: random.Random, n: int, lo: int, hi: int) -> list[list[int]]:
    return [[rng.randint(lo, hi) for _ in range(n)] for _ in range(n)]


@_family("matrix_walks")
def _matrix_walks(rng: random.Random) -> list[Variant]:
    gen = _one(lambda r: _matrix(r, 1, 4, 1, 4))
    square = _one(lambda r: _square(r, r.randint(1, 4), 0, 9))
    return [
        Variant("spiral_order", _code("""
            def f(matrix):
                out = []
                grid = [list(row) for row in matrix]
                while grid:
                    out.extend(grid.pop(0))
                    grid = [list(row) for row in zip(*grid)][::-1]
                return out
        """), "Read the matrix in clockwise spiral order starting at the top-left corner.", gen),
        Variant("snake_rows", _code("""
            def f(matrix):
                out = []
                for i, row in enumerate(matrix):
                    out.extend(row if i % 2 == 0 else reversed(row))
                return out
        """), "Read the matrix row by row, reversing direction on every other row.", gen),
        Variant("anti_diagonals", _code("""
            def f(matrix):
                groups = {}
                for r, row in enumerate(matrix):
                    for c, value in enumerate(row):
                        groups.setdefault(r + c, []).append(value)
                return [groups[k] for k in sorted(groups)]
        """),
            "Group the matrix entries by anti-diagonal (cells with the same row plus column), top rows "
            "first.",
            gen),
        Variant("diagonal_sums", _code("""
            def f(matrix):
                n = len(matrix)
                main = sum(matrix[i][i] for i in range(n))
                anti = sum(matrix[i][n - 1 - i] for i in range(n))
                return main, anti, main - anti
        """), "For a square matrix, sum the main diagonal and the anti-diagonal and give their difference.",
            square),
        Variant("border_sum", _code("""
            def f(matrix):
                rows, cols = len(matrix), len(matrix[0])
                return sum(v for r, row in enumerate(matrix) for c, v in enumerate(row)
                           if r in (0, rows - 1) or c in (0, cols - 1))
        """), "Add up the entries on the outer border of the matrix.", gen),
    ]


@_family("matrix_arith")
def _matrix_arith(rng: random.Random) -> list[Variant]:
    def compatible(r: random.Random) -> tuple[list[list[int]], list[list[int]]]:
        n, m, p = r.randint(1, 3), r.randint(1, 3), r.randint(1, 3)
        return ([[r.randint(-3, 5) for _ in range(m)] for _ in range(n)],
                [[r.randint(-3, 5) for _ in range(p)] for _ in range(m)])

    power = rng.choice([2, 3])
    square = _one(lambda r: _square(r, r.randint(1, 3), -4, 6))
    return [
        Variant("matrix_multiply", _code("""
            def f(a, b):
                return [[sum(x * y for x, y in zip(row, col)) for col in zip(*b)] for row in a]
        """), "Multiply the two matrices.", compatible),
        Variant("determinant", _code("""
            def f(m):
                if len(m) == 1:
                    return m[0][0]
                total = 0
                for j, value in enumerate(m[0]):
                    minor = [row[:j] + row[j + 1:] for row in m[1:]]
                    total += (-1) ** j * value * f(minor)
                return total
        """), "Compute the determinant of the square matrix by cofactor expansion.", square),
        Variant(f"matrix_power_trace_{power}", _code("""
            def f(m):
                def mul(a, b):
                    return [[sum(x * y for x, y in zip(row, col)) for col in zip(*b)] for row in a]
                result = m
                for _ in range($p - 1):
                    result = mul(result, m)
                return sum(result[i][i] for i in range(len(m)))
        """, p=power),
            "Raise the square matrix to a fixed power and return the sum of the diagonal.", square),
        Variant("matrix_vector", _code("""
            def f(matrix, vector):
                return [sum(a * b for a, b in zip(row, vector)) for row in matrix]
        """), "Multiply the matrix by the vector.",
            lambda r: (lambda m: (m, [r.randint(-2, 3) for _ in m[0]]))(_matrix(r, 1, 3, 1, 4, -3, 5))),
        Variant("row_col_extremes", _code("""
            def f(matrix):
                row_max = [max(row) for row in matrix]
                col_min = [min(col) for col in zip(*matrix)]
                saddle = [(r, c) for r, row in enumerate(matrix) for c, v in enumerate(row)
                          if v == row_max[r] and v == col_min[c]]
                return row_max, col_min, saddle
        """), "Find each row's maximum, each column's minimum, and the cells that are both.",
            _one(lambda r: _matrix(r, 1, 4, 1, 4))),
    ]


@_family("string_format")
def _string_format(rng: random.Random) -> list[Variant]:
    name_w = rng.choice([6, 8])
    sep = rng.choice([" | ", "; ", " :: "])

    def rows(r: random.Random) -> list[tuple[str, int, float]]:
        return [(_word(r, 1, 2), r.randint(1, 20), r.randint(50, 5000) / 100) for _ in range(r.randint(1, 3))]

    return [
        Variant(f"format_invoice_{name_w}", _code("""
            def f(items):
                lines = [f'{name:<$w}{qty:>3} x {price:>7.2f}' for name, qty, price in items]
                total = sum(qty * price for _, qty, price in items)
                lines.append(f'{"TOTAL":<$w}{total:>13.2f}')
                return lines
        """, w=name_w),
            "Lay out invoice lines with a padded name, quantity and two-decimal price, followed by "
            "a total line.", _one(rows)),
        Variant("clock_format", _code("""
            def f(seconds):
                sign = '-' if seconds < 0 else ''
                h, rest = divmod(abs(seconds), 3600)
                m, s = divmod(rest, 60)
                return f'{sign}{h:02d}:{m:02d}:{s:02d}'
        """), "Format a number of seconds as hours:minutes:seconds with two-digit fields.",
            _one(lambda r: r.randint(-4000, 200000))),
        Variant("human_size", _code("""
            def f(n):
                for unit in ('', 'k', 'M', 'G'):
                    if abs(n) < 1000:
                        return f'{n}{unit}' if unit == '' else f'{n:.1f}{unit}'
                    n /= 1000
                return f'{n:.1f}T'
        """), "Abbreviate a number with a thousand-based suffix and one decimal.",
            _one(lambda r: r.randint(0, 10 ** r.randint(1, 13)))),
        Variant("thousands_and_percent", _code("""
            def f(part, whole):
                share = part / whole if whole else 0.0
                return f'{part:,} of {whole:,} ({share:.1%})'
        """), "Describe a part of a whole with thousands separators and a one-decimal percentage.",
            lambda r: (lambda w: (r.randint(0, w), w))(r.randint(0, 3_000_000))),
        Variant("padded_ids", _code("""
            def f(prefix, numbers, width):
                return '$sep'.join(f'{prefix}-{n:0{width}d}' for n in sorted(numbers))
        """, sep=sep),
            "Sort the numbers and turn each into an identifier made of the prefix and a zero-padded "
            "number, joined with a fixed separator.",
            lambda r: (r.choice(["ID", "no", "X", "item"]), _ints(r, 1, 4, 0, 999), r.randint(2, 5))),
        Variant("center_banner", _code("""
            def f(title, width):
                inner = f' {title} '
                return inner.center(width, '*'), len(inner) > width
        """),
            "Centre the title, surrounded by single spaces, in a line of stars of the given width; also say "
            "whether it overflowed.", lambda r: (_word(r), r.randint(3, 16))),
    ]


@_family("roman_numerals")
def _roman_numerals(rng: random.Random) -> list[Variant]:
    table = """
        VALUES = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'), (100, 'C'), (90, 'XC'),
                  (50, 'L'), (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), (4, 'IV'), (1, 'I')]
    """
    to_roman = """
        def to_roman(n):
            out = ''
            for value, symbol in VALUES:
                while n >= value:
                    out += symbol
                    n -= value
            return out
    """
    from_roman = """
        def from_roman(text):
            digits = {'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100, 'D': 500, 'M': 1000}
            total = 0
            for ch, nxt in zip(text, text[1:] + ' '):
                value = digits[ch]
                total += -value if nxt != ' ' and digits[nxt] > value else value
            return total
    """
    romans = [_roman(n) for n in range(1, 4000)]
    return [
        Variant("to_roman", _code(table, to_roman, """
            def f(n):
                return to_roman(n)
        """), "Write the number in Roman numerals.", _one(lambda r: r.randint(1, 3999))),
        Variant("from_roman", _code(from_roman, """
            def f(text):
                return from_roman(text)
        """), "Read a Roman numeral as an integer.", _one(lambda r: r.choice(romans))),
        Variant("roman_add", _code(table, to_roman, from_roman, """
            def f(a, b):
                return to_roman(from_roman(a) + from_roman(b))
        """), "Add two Roman numerals and write the sum as a Roman numeral.",
            lambda r: (r.choice(romans[:1800]), r.choice(romans[:1800]))),
        Variant("roman_additive", _code("""
            def f(n):
                out = []
                symbols = ((1000, 'M'), (500, 'D'), (100, 'C'), (50, 'L'), (10, 'X'), (5, 'V'), (1, 'I'))
                for value, symbol in symbols:
                    count, n = divmod(n, value)
                    out.append(symbol * count)
                return ''.join(out)
        """), "Write the number in old-style Roman numerals that only add (no subtractive pairs).",
            _one(lambda r: r.randint(1, 2500))),
    ]


def _roman(n: int) -> str:
    out = ""
    for value, symbol in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += symbol
            n -= value
    return out


@_family("text_layout")
def _text_layout(rng: random.Random) -> list[Variant]:
    width = rng.choice([10, 12, 15])
    gen = _one(lambda r: _sentence(r, 3, 9))
    return [
        Variant(f"wrap_{width}", _code("""
            import textwrap

            def f(text):
                return textwrap.wrap(text, width=$w)
        """, w=width), "Wrap the text into lines no wider than a fixed width, breaking between words.", gen),
        Variant("wrap_by_arg_greedy", _code("""
            def f(text, width):
                lines, line = [], ''
                for word in text.split():
                    if line and len(line) + 1 + len(word) > width:
                        lines.append(line)
                        line = word
                    else:
                        line = f'{line} {word}' if line else word
                if line:
                    lines.append(line)
                return lines
        """), "Greedily fill lines of at most the given width with whole words (a long word gets its own "
              "line).", lambda r: (_sentence(r, 3, 8), r.randint(5, 16))),
        Variant("justify_lines", _code("""
            def f(words, width):
                lines, current = [], []
                for word in words:
                    if current and len(' '.join(current + [word])) > width:
                        lines.append(current)
                        current = []
                    current.append(word)
                out = []
                for i, line in enumerate(lines + [current]):
                    if i == len(lines) or len(line) == 1:
                        out.append(' '.join(line).ljust(width))
                        continue
                    gaps = len(line) - 1
                    spaces = width - sum(len(w) for w in line)
                    text = ''
                    for j, w in enumerate(line[:-1]):
                        text += w + ' ' * (spaces // gaps + (j < spaces % gaps))
                    out.append(text + line[-1])
                return out
        """), "Fully justify the words into lines of the given width, spreading extra spaces from the left; "
              "the last line is left-aligned.", lambda r: (_words(r, 2, 6), r.randint(9, 16))),
        Variant("shorten_text", _code("""
            import textwrap

            def f(text, width):
                return textwrap.shorten(text, width=width, placeholder='~')
        """),
            "Shorten the text to fit the given width, dropping whole words from the end and marking the cut "
            "with a tilde.", lambda r: (_sentence(r, 2, 7), r.randint(6, 25))),
        Variant("indent_block", _code("""
            def f(lines, depth):
                pad = '  ' * depth
                return '\\n'.join(pad + line if line.strip() else '' for line in lines)
        """), "Indent every non-blank line by two spaces per depth level and join the lines with newlines "
              "(blank lines become empty).",
            lambda r: ([r.choice(["", " ", _word(r), _sentence(r, 1, 2)]) for _ in range(r.randint(1, 4))],
                       r.randint(0, 3))),
    ]


@_family("range_compression")
def _range_compression(rng: random.Random) -> list[Variant]:
    dash, comma = rng.choice([("-", ","), ("..", ", "), ("~", ";")])
    min_run = rng.choice([2, 3])
    gen = _one(lambda r: sorted(set(_ints(r, 2, 12, 0, r.choice([12, 20])))))
    return [
        Variant("compress_ranges", _code("""
            def f(nums):
                parts = []
                i = 0
                while i < len(nums):
                    j = i
                    while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
                        j += 1
                    parts.append(str(nums[i]) if i == j else f'{nums[i]}$dash{nums[j]}')
                    i = j + 1
                return '$comma'.join(parts)
        """, dash=dash, comma=comma),
            "Summarise sorted distinct integers as comma-separated values and ranges "
            "of consecutive values.", gen),
        Variant(f"compress_ranges_min_{min_run}", _code("""
            from itertools import groupby

            def f(nums):
                parts = []
                for _, group in groupby(enumerate(nums), key=lambda p: p[1] - p[0]):
                    run = [v for _, v in group]
                    if len(run) >= $k:
                        parts.append(f'{run[0]}-{run[-1]}')
                    else:
                        parts.extend(str(v) for v in run)
                return ','.join(parts)
        """, k=min_run),
            "Summarise sorted distinct integers, collapsing only runs of consecutive values that "
            "are at least a certain length.", gen),
        Variant("expand_ranges", _code("""
            def f(spec):
                out = []
                for part in spec.split(','):
                    if '-' in part[1:]:
                        lo, hi = part.split('-')
                        out.extend(range(int(lo), int(hi) + 1))
                    elif part:
                        out.append(int(part))
                return out
        """), "Expand a comma-separated list of numbers and inclusive ranges into the full list.",
            _one(lambda r: ",".join(
                (lambda a: f"{a}-{a + r.randint(1, 4)}" if r.random() < 0.5 else str(a))(r.randint(0, 30))
                for _ in range(r.randint(1, 4))))),
        Variant("missing_numbers", _code("""
            def f(nums, lo, hi):
                present = set(nums)
                return [n for n in range(lo, hi + 1) if n not in present]
        """), "List the integers in the inclusive range that are missing from the list.",
            lambda r: (_ints(r, 2, 10, 0, 15), r.randint(0, 5), r.randint(6, 15))),
    ]


@_family("look_and_say")
def _look_and_say(rng: random.Random) -> list[Variant]:
    k = rng.choice([2, 3])
    return [
        Variant("look_and_say_once", _code("""
            from itertools import groupby

            def f(digits):
                return ''.join(f'{len(list(g))}{d}' for d, g in groupby(digits))
        """), "Describe the digit string aloud: each run of equal digits becomes its length followed by the "
              "digit.", _one(lambda r: _runs(r, "123", 5, 3))),
        Variant(f"look_and_say_{k}_times", _code("""
            def f(digits):
                for _ in range($k):
                    out = ''
                    i = 0
                    while i < len(digits):
                        j = i
                        while j < len(digits) and digits[j] == digits[i]:
                            j += 1
                        out += str(j - i) + digits[i]
                        i = j
                    digits = out
                return digits
        """, k=k), "Apply the read-aloud description of runs of digits a fixed number of times.",
            _one(lambda r: _runs(r, "123", 3, 2))),
        Variant("look_and_say_lengths", _code("""
            def f(seed, steps):
                lengths = [len(seed)]
                for _ in range(steps):
                    out, i = [], 0
                    while i < len(seed):
                        j = i
                        while j < len(seed) and seed[j] == seed[i]:
                            j += 1
                        out.append(f'{j - i}{seed[i]}')
                        i = j
                    seed = ''.join(out)
                    lengths.append(len(seed))
                return lengths
        """), "Repeatedly describe runs of digits aloud and record the length of the string after each step.",
            lambda r: (_runs(r, "123", 3, 2), r.randint(1, 6))),
        Variant("count_and_say_letters", _code("""
            def f(text):
                out = []
                count = 1
                for prev, ch in zip(text, text[1:] + '\\0'):
                    if ch == prev:
                        count += 1
                    else:
                        out.append(f'{count} {prev}' + ('s' if count > 1 else ''))
                        count = 1
                return ', '.join(out)
        """),
            "Describe the runs of letters in words, such as 'two of this, one of that' but with numerals and "
            "a plural s.", _one(lambda r: _runs(r, "abc", 4, 3))),
    ]


@_family("ciphers")
def _ciphers(rng: random.Random) -> list[Variant]:
    key = "".join(rng.sample(string.ascii_lowercase, 26))
    keyword = _word(rng, 1, 2)
    rails = rng.choice([2, 3, 4])
    gen = _one(lambda r: _sentence(r, 1, 4))
    return [
        Variant("substitution_key", _code("""
            KEY = '$key'

            def f(text):
                return text.translate(str.maketrans('abcdefghijklmnopqrstuvwxyz', KEY))
        """, key=key),
            "Encrypt lowercase letters with a fixed substitution alphabet; other characters stay.", gen),
        Variant("atbash", _code("""
            def f(text):
                out = []
                for ch in text:
                    if ch.isalpha() and ch.isascii():
                        base = ord('a') if ch.islower() else ord('A')
                        out.append(chr(base + 25 - (ord(ch) - base)))
                    else:
                        out.append(ch)
                return ''.join(out)
        """),
            "Mirror each letter in the alphabet (the first becomes the last), keeping case.",
            _one(_mixed_text)),
        Variant(f"vigenere_{keyword}", _code("""
            KEY = '$keyword'

            def f(text):
                out = []
                i = 0
                for ch in text:
                    if 'a' <= ch <= 'z':
                        shift = ord(KEY[i % len(KEY)]) - ord('a')
                        out.append(chr((ord(ch) - ord('a') + shift) % 26 + ord('a')))
                        i += 1
                    else:
                        out.append(ch)
                return ''.join(out)
        """, keyword=keyword), "Shift each lowercase letter by the letters of a fixed keyword in turn (the "
                               "keyword advances only on letters).", gen),
        Variant(f"rail_fence_{rails}", _code("""
            def f(text):
                rows = [''] * $rails
                row, step = 0, 1
                for ch in text:
                    rows[row] += ch
                    if row == 0:
                        step = 1
                    elif row == $rails - 1:
                        step = -1
                    row += step
                return ''.join(rows)
        """, rails=rails),
            "Write the text in a zigzag over a fixed number of rows and read the rows one after "
            "another.", _one(lambda r: _word(r, 2, 5))),
        Variant("rail_fence_decode", _code("""
            def f(cipher, rails):
                if rails == 1:
                    return cipher
                pattern = []
                row, step = 0, 1
                for _ in cipher:
                    pattern.append(row)
                    if row == 0:
                        step = 1
                    elif row == rails - 1:
                        step = -1
                    row += step
                order = sorted(range(len(cipher)), key=lambda i: (pattern[i], i))
                plain = [''] * len(cipher)
                for ch, i in zip(cipher, order):
                    plain[i] = ch
                return ''.join(plain)
        """), "Undo a zigzag (rail fence) transposition over the given number of rows.",
            lambda r: (_word(r, 2, 5), r.randint(1, 4))),
        Variant("xor_checksum", _code("""
            from functools import reduce

            def f(text, key):
                codes = [ord(ch) ^ key for ch in text]
                return codes, reduce(lambda a, b: a ^ b, codes, 0)
        """), "Combine each character code with the key by exclusive-or, and fold the results into a "
              "checksum the same way.", lambda r: (_word(r, 1, 2), r.randint(0, 127))),
    ]


@_family("extract_numbers")
def _extract_numbers(rng: random.Random) -> list[Variant]:
    threshold = rng.choice([10, 20, 50])

    def text(r: random.Random) -> str:
        parts = []
        for _ in range(r.randint(2, 6)):
            roll = r.random()
            if roll < 0.4:
                parts.append(str(r.randint(-20, 120)))
            elif roll < 0.55:
                parts.append(f"{_word(r, 1, 1)}{r.randint(0, 99)}")
            else:
                parts.append(_word(r))
        return " ".join(parts)

    gen = _one(text)
    return [
        Variant("sum_signed_integers", _code("""
            import re

            def f(text):
                return sum(int(n) for n in re.findall(r'-?\\d+', text))
        """), "Add up every integer that appears in the text (a leading minus makes it negative).", gen),
        Variant(f"numbers_above_{threshold}", _code("""
            import re

            def f(text):
                return [int(n) for n in re.findall(r'\\d+', text) if int(n) > $t]
        """, t=threshold), "Pull out the unsigned numbers in the text that exceed a fixed threshold.", gen),
        Variant("double_numbers_in_text", _code("""
            import re

            def f(text):
                return re.sub(r'\\d+', lambda m: str(2 * int(m.group())), text)
        """), "Rewrite the text with every run of digits replaced by twice its value.", gen),
        Variant("words_vs_numbers", _code("""
            def f(text):
                tokens = text.split()
                numeric = [t for t in tokens if t.lstrip('-').isdigit()]
                largest = max(map(int, numeric), default=None)
                return {'numbers': len(numeric), 'words': len(tokens) - len(numeric), 'max': largest}
        """),
            "Classify the space-separated tokens as whole numbers or not, and find the largest number.", gen),
        Variant("first_number_after_word", _code("""
            import re

            def f(text):
                match = re.search(r'([a-z]+) (-?\\d+)', text)
                return (match.group(1), int(match.group(2))) if match else None
        """), "Find the first word that is immediately followed by a number and return both.", gen),
    ]


@_family("interleave_strings")
def _interleave_strings(rng: random.Random) -> list[Variant]:
    k = rng.choice([2, 3])

    def two(r: random.Random) -> tuple[str, str]:
        return _word(r, 1, 3), _word(r, 1, 3).upper()

    return [
        Variant("interleave_chars", _code("""
            from itertools import zip_longest

            def f(a, b):
                return ''.join(x + y for x, y in zip_longest(a, b, fillvalue=''))
        """),
            "Interleave the characters of the two strings, the first string first; leftovers go at the end.",
            two),
        Variant(f"interleave_chunks_{k}", _code("""
            def f(a, b):
                out = ''
                for i in range(0, max(len(a), len(b)), $k):
                    out += a[i:i + $k] + b[i:i + $k]
                return out
        """, k=k), "Alternate fixed-size chunks of the two strings, starting with the first.", two),
        Variant("zip_reverse_second", _code("""
            def f(a, b):
                return [x + y for x, y in zip(a, reversed(b))]
        """), "Pair the characters of the first string with those of the second read backwards.", two),
        Variant("merge_alphabetical", _code("""
            def f(a, b):
                i = j = 0
                out = []
                while i < len(a) and j < len(b):
                    if a[i].lower() <= b[j].lower():
                        out.append(a[i])
                        i += 1
                    else:
                        out.append(b[j])
                        j += 1
                return ''.join(out) + a[i:] + b[j:]
        """), "Merge the two strings like sorted sequences, always taking the alphabetically smaller next "
              "character (ignoring case; the first string wins ties).", two),
    ]


def _edges(rng: random.Random, n: int, m: int, directed: bool = False) -> list[tuple[int, int]]:
    edges = []
    for _ in range(m):
        a, b = rng.randrange(n), rng.randrange(n)
        if a != b and (a, b) not in edges and (directed or (b, a) not in edges):
            edges.append((a, b))
    return edges


def _dag_edges(rng: random.Random) -> tuple[int, list[tuple[int, int]]]:
    n = rng.randint(2, 7)
    order = rng.sample(range(n), n)
    edges = []
    for _ in range(rng.randint(1, 8)):
        i, j = sorted(rng.sample(range(n), 2))
        edge = (order[i], order[j])
        if edge not in edges:
            edges.append(edge)
    if rng.random() < 0.2 and edges:
        a, b = edges[0]
        edges.append((b, a))
    return n, edges


@_family("graph_search")
def _graph_search(rng: random.Random) -> list[Variant]:
    def graph(r: random.Random) -> tuple[int, list[tuple[int, int]]]:
        n = r.randint(2, 7)
        return n, _edges(r, n, r.randint(1, n + 1))

    return [
        Variant("bfs_distances", _code("""
            from collections import deque

            def f(n, edges, start):
                adj = {v: [] for v in range(n)}
                for a, b in edges:
                    adj[a].append(b)
                    adj[b].append(a)
                dist = {start: 0}
                queue = deque([start])
                while queue:
                    v = queue.popleft()
                    for w in sorted(adj[v]):
                        if w not in dist:
                            dist[w] = dist[v] + 1
                            queue.append(w)
                return [dist.get(v, -1) for v in range(n)]
        """), "In an undirected graph on nodes 0..n-1, give each node's number of edges from the start node "
              "(-1 if unreachable).", lambda r: (lambda g: (*g, r.randrange(g[0])))(graph(r))),
        Variant("connected_components", _code("""
            def f(n, edges):
                parent = list(range(n))

                def find(x):
                    while parent[x] != x:
                        parent[x] = parent[parent[x]]
                        x = parent[x]
                    return x

                for a, b in edges:
                    parent[find(a)] = find(b)
                groups = {}
                for v in range(n):
                    groups.setdefault(find(v), []).append(v)
                return sorted(groups.values())
        """), "Split the nodes 0..n-1 of an undirected graph into connected groups, each sorted, the groups "
              "ordered by their smallest node.", lambda r: graph(r)),
        Variant("topological_order", _code("""
            import heapq

            def f(n, edges):
                indegree = [0] * n
                out = {v: [] for v in range(n)}
                for a, b in edges:
                    out[a].append(b)
                    indegree[b] += 1
                ready = [v for v in range(n) if indegree[v] == 0]
                heapq.heapify(ready)
                order = []
                while ready:
                    v = heapq.heappop(ready)
                    order.append(v)
                    for w in out[v]:
                        indegree[w] -= 1
                        if indegree[w] == 0:
                            heapq.heappush(ready, w)
                return order if len(order) == n else None
        """), "Order the nodes of a directed graph so that every edge points forward, always taking the "
              "smallest available node; None if there is a cycle.", _dag_edges),
        Variant("shortest_path_nodes", _code("""
            from collections import deque

            def f(n, edges, start, goal):
                adj = [[] for _ in range(n)]
                for a, b in edges:
                    adj[a].append(b)
                prev = {start: None}
                queue = deque([start])
                while queue:
                    v = queue.popleft()
                    if v == goal:
                        path = []
                        while v is not None:
                            path.append(v)
                            v = prev[v]
                        return path[::-1]
                    for w in sorted(adj[v]):
                        if w not in prev:
                            prev[w] = v
                            queue.append(w)
                return []
        """),
            "Find a shortest route along directed edges from start to goal (preferring smaller node numbers "
            "at each step); empty if none.",
            lambda r: (lambda n: (n, _edges(r, n, r.randint(3, 14), True), *r.sample(range(n), 2)))(
                r.randint(3, 7))),
        Variant("degree_summary", _code("""
            from collections import Counter

            def f(edges):
                degree = Counter()
                for a, b in edges:
                    degree[a] += 1
                    degree[b] += 1
                top = max(degree.values(), default=0)
                return dict(sorted(degree.items())), [v for v in sorted(degree) if degree[v] == top]
        """), "Count each node's edges in an undirected edge list and list the nodes with the highest count.",
            lambda r: (_edges(r, r.randint(2, 6), r.randint(1, 7)),)),
    ]


@_family("dataclass_points")
def _dataclass_points(rng: random.Random) -> list[Variant]:
    point = """
        from dataclasses import dataclass

        @dataclass(frozen=True)
        class Point:
            x: int
            y: int

            def manhattan(self, other):
                return abs(self.x - other.x) + abs(self.y - other.y)

            def quadrant(self):
                if self.x == 0 or self.y == 0:
                    return 0
                quadrants = {(True, True): 1, (False, True): 2, (False, False): 3, (True, False): 4}
                return quadrants[(self.x > 0, self.y > 0)]
    """
    gen = _one(lambda r: [(r.randint(-5, 5), r.randint(-5, 5)) for _ in range(r.randint(2, 6))])
    return [
        Variant("bounding_box", _code(point, """
            def f(coords):
                pts = [Point(x, y) for x, y in coords]
                xs = [p.x for p in pts]
                ys = [p.y for p in pts]
                return (min(xs), min(ys)), (max(xs), max(ys)), (max(xs) - min(xs)) * (max(ys) - min(ys))
        """),
            "Find the lower-left and upper-right corners of the smallest axis-aligned box around the points, "
            "and its area.", gen),
        Variant("closest_pair_manhattan", _code(point, """
            from itertools import combinations

            def f(coords):
                pts = [Point(x, y) for x, y in coords]
                a, b = min(combinations(pts, 2), key=lambda pair: pair[0].manhattan(pair[1]))
                return (a.x, a.y), (b.x, b.y), a.manhattan(b)
        """), "Find the first pair of points with the smallest city-block distance, and that distance.", gen),
        Variant("sort_by_distance", _code(point, """
            def f(coords):
                origin = Point(0, 0)
                pts = sorted((Point(x, y) for x, y in coords), key=lambda p: (p.manhattan(origin), p.x, p.y))
                return [(p.x, p.y) for p in pts]
        """), "Sort the points by city-block distance from the origin, breaking ties by x then y.", gen),
        Variant("quadrant_counts", _code(point, """
            from collections import Counter

            def f(coords):
                counts = Counter(Point(x, y).quadrant() for x, y in coords)
                return [counts[q] for q in range(5)]
        """), "Count how many points lie on an axis and in each of the four quadrants (in that order).", gen),
        Variant("polygon_area_twice", _code("""
            def f(vertices):
                total = 0
                for (x1, y1), (x2, y2) in zip(vertices, vertices[1:] + vertices[:1]):
                    total += x1 * y2 - x2 * y1
                return abs(total), 'ccw' if total > 0 else 'cw' if total < 0 else 'flat'
        """), "Compute twice the area enclosed by the polygon's vertices and say which way they turn.", gen),
    ]


@_family("function_pipeline")
def _function_pipeline(rng: random.Random) -> list[Variant]:
    a, b, c = rng.randint(2, 5), rng.randint(1, 9), rng.randint(2, 4)
    ops = {
        "double": "lambda x: x * 2",
        "inc": f"lambda x: x + {b}",
        "square": "lambda x: x * x",
        "neg": "lambda x: -x",
        "half": "lambda x: x // 2",
        "mod": f"lambda x: x % {a + 5}",
    }
    table = "OPS = {\n" + "".join(f"    '{k}': {v},\n" for k, v in ops.items()) + "}"
    names = list(ops)

    def pipeline(r: random.Random) -> tuple[int, list[str]]:
        return r.randint(-9, 20), [r.choice(names) for _ in range(r.randint(0, 4))]

    return [
        Variant("apply_named_ops", _code(table, """
            def f(x, steps):
                for name in steps:
                    x = OPS[name](x)
                return x
        """),
            "Apply a sequence of named operations (doubling, adding a constant, squaring, negating, halving, "
            "taking a remainder) to the number in turn.", pipeline),
        Variant("compose_reduce", _code(table, """
            from functools import reduce

            def f(values, steps):
                composed = reduce(lambda g, h: (lambda x: h(g(x))), (OPS[s] for s in steps), lambda x: x)
                return list(map(composed, values))
        """), "Compose the named operations left to right into one function and apply it to each value.",
            lambda r: (_ints(r, 1, 4, -5, 10), [r.choice(names) for _ in range(r.randint(0, 3))])),
        Variant(f"adder_family_{c}", _code("""
            def make_adder(k):
                def add(x):
                    return x + k
                return add

            def f(xs):
                adders = [make_adder(k) for k in range($c)]
                return [[add(x) for add in adders] for x in xs]
        """, c=c), "For each number, list the results of a small family of functions built in a loop.",
            _one(lambda r: _ints(r, 1, 4, -5, 20))),
        Variant("sort_by_key_spec", _code("""
            def f(words, spec):
                keys = {'len': len, 'last': lambda w: w[-1], 'vowels': lambda w: sum(c in 'aeiou' for c in w)}
                return sorted(words, key=lambda w: tuple(keys[s](w) for s in spec) + (w,))
        """), "Sort the words by the named criteria in order (length, last letter, vowel count), then "
              "alphabetically.",
            lambda r: (_words(r, 2, 6), r.sample(["len", "last", "vowels"], r.randint(1, 2)))),
        Variant("filter_map_chain", _code("""
            def f(nums, keep, change):
                tests = {'even': lambda n: n % 2 == 0, 'pos': lambda n: n > 0, 'small': lambda n: abs(n) < 5}
                maps = {'sq': lambda n: n * n, 'neg': lambda n: -n, 'inc': lambda n: n + 1}
                return list(map(maps[change], filter(tests[keep], nums)))
        """), "Keep the numbers passing the named test, then transform them with the named operation.",
            lambda r: (_ints(r, 1, 7, -8, 9), r.choice(["even", "pos", "small"]),
                       r.choice(["sq", "neg", "inc"]))),
    ]


@_family("fractions")
def _fractions(rng: random.Random) -> list[Variant]:
    return [
        Variant("reciprocal_sum", _code("""
            from fractions import Fraction

            def f(nums):
                total = sum(Fraction(1, n) for n in nums)
                return total.numerator, total.denominator
        """), "Add up the reciprocals of the numbers exactly and return the numerator and denominator.",
            _one(lambda r: _ints(r, 1, 5, 1, 12))),
        Variant("harmonic_mean", _code("""
            from fractions import Fraction

            def f(nums):
                mean = len(nums) / sum(Fraction(1, n) for n in nums)
                return str(mean)
        """), "Compute the exact harmonic mean of the numbers, written as a fraction.",
            _one(lambda r: _ints(r, 2, 4, 1, 10))),
        Variant("continued_fraction", _code("""
            def f(p, q):
                terms = []
                while q:
                    a, r = divmod(p, q)
                    terms.append(a)
                    p, q = q, r
                return terms
        """), "Expand the fraction p/q as a continued fraction and list its terms.",
            lambda r: (r.randint(1, 200), r.randint(1, 60))),
        Variant("egyptian_fraction", _code("""
            from fractions import Fraction

            def f(p, q):
                x = Fraction(p, q)
                parts = []
                while x > 0 and len(parts) < 6:
                    d = -(-x.denominator // x.numerator)
                    parts.append(d)
                    x -= Fraction(1, d)
                return parts
        """),
            "Write p/q as a sum of distinct unit fractions by repeatedly taking the largest that fits; list "
            "the denominators.", lambda r: (lambda q: (r.randint(1, q - 1), q))(r.randint(2, 15))),
        Variant("mixed_number", _code("""
            from fractions import Fraction

            def f(text):
                value = sum(Fraction(part) for part in text.split('+'))
                whole, rest = divmod(value.numerator, value.denominator)
                return f'{whole} {rest}/{value.denominator}' if rest else str(whole)
        """), "Add the fractions separated by plus signs and write the result as a whole number and a proper "
              "fraction.", _one(lambda r: "+".join(f"{r.randint(1, 9)}/{r.randint(1, 9)}"
                                                   for _ in range(r.randint(1, 3))))),
    ]


# ---- end of families ----


# ---------------------------------------------------------------------------------------
# Generation, validation and the bundled file
# ---------------------------------------------------------------------------------------
def families() -> list[str]:
    """The names of the registered program families, in generation order."""
    return list(_FAMILIES)


def generate_specs(seed: int = SEED) -> list[Spec]:
    """Every candidate program, in a fixed order (family by family).  Runs nothing."""
    specs: list[Spec] = []
    names: set[str] = set()
    for family_name, make in _FAMILIES.items():
        rng = random.Random(f"{seed}:family:{family_name}")
        for variant in make(rng):
            if variant.name in names:
                raise ValueError(f"duplicate seed program name {variant.name!r} in family {family_name}")
            names.add(variant.name)
            specs.append(Spec(variant.name, family_name, variant.program, variant.message, variant.args))
    return specs
