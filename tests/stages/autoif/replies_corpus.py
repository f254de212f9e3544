"""Hand-made AutoIF replies in the shapes real chat models give (fences with prose, bold labels, preambles, numbered
and bulleted lists, `<think>` blocks, Python literals), each with what its parser must read from it; None where the
reply commits to nothing and the honest outcome is a rejected row. Written after the shapes seen from
SmolLM2-135M-Instruct and an independent OpenAI-compatible teacher (issues 16 and 17)."""

from __future__ import annotations

WORDS_LT_80 = "def evaluate(response):\n    return len(response.split()) < 80\n"

# verifier prompt replies -> (number of cases read, the func must contain this) or None
VERIFIER = [
    ('{"func": "def evaluate(response):\\n    return len(response.split()) < 80", '
     '"cases": [{"input": "a b", "output": true}, {"input": "x", "output": false}]}', (2, "< 80")),
    ('Here is the function with its test cases:\n```json\n{"func": "def evaluate(response):\\n    return True", '
     '"cases": [{"input": "a", "output": True}]}\n```\nThe cases cover both outcomes.', (1, "return True")),
    ("Here is the function:\n\n```python\n" + WORDS_LT_80 + "\n# tests\n"
     'assert evaluate("short text") == True\nassert evaluate("word " * 90) == False\n'
     "assert not evaluate(' '.join(['w'] * 100))\n```\n\nThe function counts the words.", (3, "< 80")),
    (WORDS_LT_80 + '\nassert evaluate("hello world") is True\nassert evaluate("x " * 200) is False\n\n'
     "This function splits the response on whitespace and counts the words.", (2, "< 80")),
    ("<think>\nThe user wants a word count check. Fewer than 80 means < 80.\n</think>\n\n```python\n" + WORDS_LT_80
     + "```\n\n**Test cases:**\n```json\n[{\"input\": \"two words\", \"output\": true}, "
     '{"input": "many ' + "word " * 3 + '", "output": true}]\n```', (2, "< 80")),
    ("```py\nimport re\n\ndef evaluate(response):\n    return ',' not in response\n\n"
     'if __name__ == "__main__":\n    print(evaluate("a b"))\n    assert evaluate("no commas")\n'
     '    assert evaluate("a, b") == False\n```', (2, "not in response")),
    ("Sure! Here's a function:\n\n```python\ndef evaluate(response):\n    return response.islower()\n```\n\n"
     "Test cases:\n1. evaluate('hello') -> True\n2. evaluate('Hello') -> False", None),
    ("I cannot write code for this instruction because tone cannot be measured.", None),
    ('```json\n{"func": "def evaluate(response):\\n    return len(response) > 0", "cases": [\n', None),
]

# back-translation prompt replies -> the instruction
BACK_TRANSLATION = [
    ("Answer with fewer than 80 words.", "Answer with fewer than 80 words."),
    ("**Instruction:** Do not use any commas in your response.", "Do not use any commas in your response."),
    ("**Instruction**: Do not use any commas.", "Do not use any commas."),
    ("Sure! Here is the instruction:\n\nWrite your whole answer in lowercase letters only.",
     "Write your whole answer in lowercase letters only."),
    ("Here is the instruction: Include at least 3 placeholders in square brackets.\n\nThe function counts them.",
     "Include at least 3 placeholders in square brackets."),
    ('End your response with the exact phrase "Any other questions?"',
     'End your response with the exact phrase "Any other questions?"'),
    ('"Wrap your entire response in double quotation marks."', "Wrap your entire response in double quotation marks."),
    ("The instruction is:\n\n> Answer in fewer than 5 sentences.", "Answer in fewer than 5 sentences."),
    ("<think>It compares the word count with 80.</think>\nInstruction: Answer with less than 80 words.",
     "Answer with less than 80 words."),
    ("1. **Use the letter \"z\" at least 4 times.**", 'Use the letter "z" at least 4 times.'),
    ("Certainly!\n\n\"Start your answer with 'Sure thing:'.\"\n\nThis checks the opening.",
     "Start your answer with 'Sure thing:'."),
]

# NLI prompt replies -> the label
NLI = [
    ("Contradiction.", "contradiction"),
    ("entailment", "entailment"),
    ("The relationship is: entailment", "entailment"),
    ("Not a contradiction: entailment.", "entailment"),
    ("Neither.", "neutral"),
    ("**Neutral**", "neutral"),
    ("The premise neither entails nor contradicts the hypothesis.", "neutral"),
    ("Entailment. The hypothesis does not contradict the premise.", "entailment"),
    ("<think>Could be a contradiction? No, it says the same thing.</think>\nEntailment", "entailment"),
    ("The premise says fewer than 80 words; the hypothesis says at most 80. The answer is: neutral.", "neutral"),
    ("It is either entailment or neutral.", None),
    ("I am not sure.", None),
]

# judge prompt replies -> the score
JUDGE = [
    ("Analysis: the response is relevant and follows the instruction.\n\nScore: 9", 9),
    ("The answer is fine.\n**Score: 7**", 7),
    ("**Score:** 8/10", 8),
    ("### Analysis\nHelpful and accurate.\n\n### Score: 6", 6),
    ("It is not suitable for a score of 10: it ignores the word limit.\nScore: 6", 6),
    ("Analysis: good.\n\nScore: 8\n\nNote: it could be a little shorter.", 8),
    ("<think>Maybe Score: 2? No.</think>\nAnalysis: on topic.\nScore: 9", 9),
    ("8/10", 8),
    ("The response is not suitable for a score of 10.", None),
    ("I would rate it highly overall.", None),
    ("Score: 42", None),
]

# augment prompt reply lines -> the constraint, or None when the line is not one
AUGMENT_LINES = [
    ("12. Answer with at least 40 words.", "Answer with at least 40 words."),
    ("**12.** Answer with at least 40 words.", "Answer with at least 40 words."),
    ("12) Do not use any commas.", "Do not use any commas."),
    ("(3) Do not use any commas.", "Do not use any commas."),
    ("- Use the word \"river\" at least 2 times.", 'Use the word "river" at least 2 times.'),
    ("* Wrap your whole answer in valid JSON.", "Wrap your whole answer in valid JSON."),
    ("- **Write your whole answer in capital letters only.**", "Write your whole answer in capital letters only."),
    ("Here are 25 new instructions:", None),
    ("Sure! Here are some new instructions", None),
]
