"""Legitimate IFEval-style verifiers as models write them, each with responses and the right verdicts.

Several use exactly what stock RestrictedPython rejects (`d[k] += 1`, `self.x += 1`, `nonlocal`,
annotated assignments, `str.format`): the sandbox must run them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from textwrap import dedent


@dataclass(frozen=True)
class Verifier:
    name: str
    source: str
    cases: tuple[tuple[str, bool], ...]


def verifier(name: str, source: str, *cases: tuple[str, bool]) -> Verifier:
    return Verifier(name, dedent(source), cases)


LONG = "The quick brown fox jumps over the lazy dog. It was not amused! Was it tired? Nobody knows."
SHORT = "Too short."

VERIFIERS = [
    verifier("word_count_at_least", """
        def evaluate(response):
            return len(response.split()) >= 10
    """, (LONG, True), (SHORT, False)),
    verifier("word_count_less_than_regex", """
        import re
        def evaluate(response):
            return len(re.findall(r"\\b\\w+\\b", response)) < 5
    """, (SHORT, True), (LONG, False)),
    verifier("sentence_count", """
        import re
        def evaluate(response):
            sentences = [s for s in re.split(r"[.!?]+", response) if s.strip()]
            return len(sentences) == 4
    """, (LONG, True), (SHORT, False)),
    verifier("all_lowercase", """
        def evaluate(response):
            return response == response.lower()
    """, ("all in lower case.", True), ("Not All", False)),
    verifier("all_uppercase", """
        def evaluate(response):
            return response.isupper()
    """, ("ALL CAPS HERE", True), ("Mixed Case", False)),
    verifier("capital_word_frequency", """
        def evaluate(response):
            capital_words = [w for w in response.split() if w.isupper() and len(w) > 1]
            return len(capital_words) >= 2
    """, ("This is VERY IMPORTANT news", True), ("Only ONE here", False)),
    verifier("keywords_included", """
        KEYWORDS = ["fox", "dog"]
        def evaluate(response):
            text = response.lower()
            return all(keyword in text for keyword in KEYWORDS)
    """, (LONG, True), ("A cat and a dog.", False)),
    verifier("keyword_frequency_dict_augassign", """
        def evaluate(response):
            counts = {}
            for word in response.lower().split():
                word = word.strip(".,!?")
                if word not in counts:
                    counts[word] = 0
                counts[word] += 1
            return counts.get("the", 0) >= 2
    """, (LONG, True), (SHORT, False)),
    verifier("forbidden_words", """
        def evaluate(response):
            for word in ["lazy", "tired"]:
                if word in response.lower():
                    return False
            return True
    """, ("An energetic answer.", True), (LONG, False)),
    verifier("json_format", """
        import json
        def evaluate(response):
            try:
                json.loads(response.strip().removeprefix("```json").removesuffix("```"))
            except ValueError:
                return False
            return True
    """, ('{"a": [1, 2, {"b": null}]}', True), ("{not json}", False)),
    verifier("bullet_points", """
        def evaluate(response):
            bullets = [line for line in response.splitlines() if line.strip().startswith(("* ", "- "))]
            return len(bullets) == 3
    """, ("Intro\n* one\n* two\n- three", True), ("* only one", False)),
    verifier("sections", """
        import re
        def evaluate(response):
            sections = re.split(r"\\s?SECTION\\s?\\d+\\s?", response)
            return len(sections) - 1 >= 2
    """, ("SECTION 1 intro SECTION 2 body", True), ("no sections", False)),
    verifier("placeholders", """
        import re
        def evaluate(response):
            return len(re.findall(r"\\[.*?\\]", response)) >= 2
    """, ("Dear [name], meet me at [address].", True), ("Dear [name].", False)),
    verifier("postscript", """
        import re
        def evaluate(response):
            return re.search(r"\\s*p\\.\\s?s\\..*$", response.lower(), flags=re.MULTILINE) is not None
    """, ("Main text.\nP.S. one more thing", True), ("No postscript here.", False)),
    verifier("title_double_angular", """
        import re
        def evaluate(response):
            titles = re.findall(r"<<[^\\n]+>>", response)
            return any(title.lstrip("<").rstrip(">").strip() for title in titles)
    """, ("<<A Poem>>\nRoses are red", True), ("No title", False)),
    verifier("unicodedata_cyrillic", """
        import unicodedata
        def evaluate(response):
            letters = [ch for ch in response if ch.isalpha()]
            return bool(letters) and all(unicodedata.name(ch, "").startswith("CYRILLIC") for ch in letters)
    """, ("Привет, как дела?", True), ("Hello", False)),
    verifier("counter_most_common", """
        from collections import Counter
        def evaluate(response):
            counts = Counter(response.lower().split())
            word, n = counts.most_common(1)[0]
            return n >= 3
    """, ("la la la song", True), ("one two three", False)),
    verifier("defaultdict_augassign", """
        from collections import defaultdict
        def evaluate(response):
            lengths = defaultdict(int)
            for word in response.split():
                lengths[len(word)] += 1
            return max(lengths.values()) >= 3
    """, ("aa bb cc dddd", True), ("a bb ccc", False)),
    verifier("class_attribute_augassign", """
        class Tally:
            def __init__(self):
                self.count = 0
                self.seen = []
            def add(self, word):
                self.count += 1
                self.seen += [word]
        def evaluate(response):
            tally = Tally()
            for word in response.split():
                if word.istitle():
                    tally.add(word)
            return tally.count == 2 and len(tally.seen) == 2
    """, ("Alice met Bob today", True), ("Alice alone", False)),
    verifier("nested_nonlocal", """
        def evaluate(response):
            total = 0
            def add(n):
                nonlocal total
                total += n
            for line in response.splitlines():
                add(len(line))
            return total > 10
    """, ("first line\nsecond line", True), ("tiny", False)),
    verifier("str_format_plain_fields", """
        def evaluate(response):
            n = len(response.split())
            expected = "{} words, {name}: {:>3}".format(n, n, name="count")
            same = expected == "{0} words, count: {0:>3}".format(n)
            return same and "{0}-{1}".format(1, 2) == "1-2" and n > 2
    """, ("one two three", True), ("one", False)),
    verifier("str_format_map_plain", """
        def evaluate(response):
            return "{first} {last}".format_map({"first": "Ada", "last": "Lovelace"}) in response
    """, ("I admire Ada Lovelace.", True), ("I admire Grace Hopper.", False)),
    verifier("fstring_with_spec", """
        def evaluate(response):
            ratio = sum(ch.isupper() for ch in response) / max(1, len(response))
            return f"{ratio:.2f}" == "1.00" and f"{len(response)!r:>4}".strip().isdigit()
    """, ("LOUD", True), ("quiet", False)),
    verifier("list_comprehension", """
        def evaluate(response):
            long_words = [w for w in response.split() if len(w) > 6]
            return len(long_words) >= 2
    """, ("extraordinary wonderful day", True), ("a short day", False)),
    verifier("generator_sum", """
        def evaluate(response):
            return sum(1 for ch in response if ch in "aeiou") > 5
    """, (LONG, True), ("xyz", False)),
    verifier("dict_and_set_comprehension", """
        def evaluate(response):
            first_letters = {w[0].lower() for w in response.split()}
            lengths = {w: len(w) for w in response.split()}
            return len(first_letters) == len(lengths)
    """, ("apple banana cherry", True), ("apple avocado", False)),
    verifier("end_phrase", """
        def evaluate(response):
            return response.strip().endswith("Is there anything else I can help with?")
    """, ("Done. Is there anything else I can help with?", True), ("Done.", False)),
    verifier("wrapped_in_quotes", """
        def evaluate(response):
            response = response.strip()
            return len(response) > 1 and response[0] == '"' and response[-1] == '"'
    """, ('"quoted answer"', True), ("unquoted", False)),
    verifier("no_commas", """
        def evaluate(response):
            return "," not in response
    """, ("No commas at all", True), ("One, two", False)),
    verifier("highlighted_sections", """
        import re
        def evaluate(response):
            highlights = re.findall(r"\\*[^\\n\\*]+\\*", response)
            return len([h for h in highlights if h.strip("*").strip()]) >= 2
    """, ("*one* and *two*", True), ("*one* only", False)),
    verifier("paragraphs_markdown_divider", """
        import re
        def evaluate(response):
            paragraphs = [p for p in re.split(r"\\s?\\*\\*\\*\\s?", response) if p.strip()]
            return len(paragraphs) == 3
    """, ("one *** two *** three", True), ("one *** two", False)),
    verifier("nth_paragraph_first_word", """
        def evaluate(response):
            paragraphs = [p.strip() for p in response.split("\\n\\n") if p.strip()]
            if len(paragraphs) < 2:
                return False
            first, *rest = paragraphs[1].split()
            return first.lower().strip(".,") == "however"
    """, ("Intro.\n\nHowever, more.", True), ("Intro.\n\nAlso more.", False)),
    verifier("letter_frequency", """
        def evaluate(response):
            return response.lower().count("z") >= 3
    """, ("pizza jazz", True), ("no such letter", False)),
    verifier("mostly_ascii_letters", """
        import unicodedata
        def evaluate(response):
            letters = [ch for ch in response if ch.isalpha()]
            latin = [ch for ch in letters if "LATIN" in unicodedata.name(ch, "")]
            return len(latin) / max(1, len(letters)) > 0.9
    """, ("plain English text", True), ("日本語のテキスト", False)),
    verifier("two_responses", """
        def evaluate(response):
            parts = response.split("******")
            return len(parts) == 2 and all(p.strip() for p in parts) and parts[0].strip() != parts[1].strip()
    """, ("first answer ****** second answer", True), ("just one", False)),
    verifier("repeat_prompt_first", """
        PROMPT = "Write a haiku about rain."
        def evaluate(response):
            return response.strip().lower().startswith(PROMPT.lower())
    """, ("Write a haiku about rain. Drops fall...", True), ("Drops fall...", False)),
    verifier("annotated_assignment", """
        from typing import List
        count: int = 0
        def evaluate(response: str) -> bool:
            words: List[str] = response.split()
            total: int = 0
            for w in words:
                total += len(w)
            return total > 10
    """, ("many letters here", True), ("few", False)),
    verifier("statistics_and_math", """
        import math
        import statistics
        def evaluate(response):
            lengths = [len(s.split()) for s in response.split(".") if s.strip()]
            return math.isclose(statistics.mean(lengths), 3.0) and math.floor(statistics.median(lengths)) == 3
    """, ("one two three. four five six.", True), ("one. two three four five.", False)),
    verifier("textwrap_lines", """
        import textwrap
        def evaluate(response):
            lines = textwrap.wrap(textwrap.dedent(response), 20)
            return all(len(line) <= 20 for line in lines) and len(response) > 30
    """, ("a fairly long sentence that will wrap nicely", True), ("short", False)),
    verifier("itertools_groupby_repeats", """
        import itertools
        def evaluate(response):
            words = response.lower().split()
            return any(len(list(group)) > 1 for _, group in itertools.groupby(words))
    """, ("very very good", True), ("good very much", False)),
    verifier("functools_reduce_and_lru_cache", """
        import functools
        @functools.lru_cache(maxsize=None)
        def weight(word):
            return len(word) % 3
        def evaluate(response):
            return functools.reduce(lambda acc, w: acc + weight(w), response.split(), 0) >= 3
    """, ("abcde ab ab", True), ("abc", False)),
    verifier("try_except_value_error", """
        def evaluate(response):
            try:
                number = int(response.strip())
            except ValueError:
                return False
            return number % 2 == 0
    """, ("42", True), ("forty-two", False)),
    verifier("sorted_with_lambda_key", """
        def evaluate(response):
            words = response.split()
            return sorted(words, key=lambda w: (len(w), w)) == words
    """, ("a be cat dogs", True), ("dogs cat", False)),
    verifier("enumerate_tuple_unpacking", """
        def evaluate(response):
            for index, (first, second) in enumerate(zip(response, response[1:])):
                if first == second == "!":
                    return index > 0
            return False
    """, ("wow!!", True), ("wow!", False)),
    verifier("while_loop_counter", """
        def evaluate(response):
            i, digits = 0, 0
            while i < len(response):
                if response[i].isdigit():
                    digits += 1
                i += 1
            return digits >= 3
    """, ("call 555 now", True), ("call now", False)),
    verifier("punctuation_translate", """
        import string
        def evaluate(response):
            cleaned = response.translate(str.maketrans("", "", string.punctuation))
            return cleaned.split() == ["hello", "world"]
    """, ("hello, world!", True), ("hello there", False)),
    verifier("datetime_date_format", """
        import datetime
        def evaluate(response):
            try:
                date = datetime.datetime.strptime(response.strip(), "%Y-%m-%d")
            except ValueError:
                return False
            return date.strftime("%d/%m") == "29/02"
    """, ("2024-02-29", True), ("2023-02-29", False)),
    verifier("difflib_similarity", """
        import difflib
        def evaluate(response):
            return difflib.SequenceMatcher(None, response.lower(), "hello world").ratio() > 0.8
    """, ("Hello World!", True), ("goodbye", False)),
    verifier("re_sub_callback", """
        import re
        def evaluate(response):
            upper = re.sub(r"[a-z]+", lambda m: m.group(0).upper(), response)
            return upper == response.upper() and upper != response
    """, ("make it loud", True), ("ALREADY", False)),
    verifier("staticmethod_and_exception_class", """
        class BadFormat(Exception):
            pass
        class Checker:
            @staticmethod
            def check(text):
                if not text.strip():
                    raise BadFormat("empty")
                return text.strip()[0].isupper()
        def evaluate(response):
            try:
                return Checker.check(response)
            except BadFormat:
                return False
    """, ("Capitalised", True), ("   ", False)),
    verifier("print_while_debugging", """
        def evaluate(response):
            print("checking", len(response))
            return len(response) > 3
    """, ("long enough", True), ("no", False)),
    verifier("encodings_under_chroot", """
        def evaluate(response):
            return len(response.encode("utf-16")) > 10 and response.encode("cp1252", "replace") != b""
    """, ("long enough", True), ("ab", False)),
    verifier("slice_augmented_assignment", """
        def evaluate(response):
            words = response.split()
            words[0:1] += ["inserted"]
            return len(words) == 3
    """, ("two words", True), ("three words here", False)),
    verifier("heapq_and_bisect", """
        import bisect
        import heapq
        def evaluate(response):
            lengths = sorted(len(w) for w in response.split())
            return heapq.nlargest(1, lengths)[0] >= 5 and bisect.bisect_left(lengths, 5) <= 2
    """, ("a bb ccccc", True), ("a bb cc", False)),
    verifier("top_level_and_inner_imports", """
        import re
        def evaluate(response):
            import json
            from collections import Counter
            data = json.dumps({"words": re.findall(r"\\w+", response)})
            return Counter(json.loads(data)["words"])["yes"] == 2
    """, ("yes and yes", True), ("yes and no", False)),
]
