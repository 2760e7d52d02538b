"""Writes the golden renders that ChatTemplateGoldenTest compares against.

Run from the repository root with Python + transformers 5.18 (never needed by the build or the tests):

    python core/src/test/resources/chat_templates/make_goldens.py

Templates are rendered by transformers itself: `render_jinja_template` (the function behind
`apply_chat_template`, same jinja2 environment, with `return_assistant_tokens_mask=True` so the
`{% generation %}` spans are recorded), and for the tokenizer directories by
`AutoTokenizer.from_pretrained(dir).apply_chat_template(...)`. `strftime_now` sees a fixed clock,
2024-07-26 10:30:00. Spans are written in UTF-16 offsets (Java `char` offsets).
"""
import datetime as _dt
import json
import os
import sys

import tokenizers
import transformers
import transformers.utils.chat_template_utils as ctu
from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import render_jinja_template

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../../../../.."))


class _FixedClock(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2024, 7, 26, 10, 30, 0)


ctu.datetime = _FixedClock

SPECIALS = {"bos_token": "<|bos|>", "eos_token": "<|eos|>", "unk_token": "<unk>", "pad_token": "<pad>"}

TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}]

CONVERSATIONS = {
    "basic": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "2+2 equals 4."},
    ],
    "no_system": [
        {"role": "user", "content": "Hi there!"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke."},
    ],
    "reasoning": [
        {"role": "system", "content": "Think step by step."},
        {"role": "user", "content": "What is 3*7?"},
        {"role": "assistant", "content": "<think>\nThree sevens.\n3*7 = 21.\n</think>\n\nIt is 21."},
        {"role": "user", "content": "And 21+1?"},
        {"role": "assistant", "content": "22.", "reasoning_content": "Add one to 21."},
    ],
    "tools": [
        {"role": "user", "content": "What's the weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather",
                                              "arguments": {"city": "Paris", "unit": "celsius"}}}]},
        {"role": "tool", "name": "get_weather", "content": "{\"temperature\": 18, \"sky\": \"cloudy\"}"},
        {"role": "assistant", "content": "It is 18\u00b0C and cloudy in Paris."},
    ],
    "unicode": [
        {"role": "user", "content": "  H\u00e9llo \U0001F44B \"quoted\" 'single' {{ not a tag }} \\ back\tslash\n  "},
        {"role": "assistant", "content": "\u00c7a va? \U0001F600 \u4f60\u597d\n"},
    ],
    "bad_roles": [
        {"role": "user", "content": "First."},
        {"role": "user", "content": "Second."},
    ],
}

# Extra template variables per case (besides the plain ones).
VARIANTS = [("", {}), ("no_thinking", {"enable_thinking": False})]


def utf16(text, i):
    return len(text[:i].encode("utf-16-le")) // 2


def render(source, messages, agp, extra):
    kwargs = dict(SPECIALS)
    tools = extra.get("tools")
    kwargs.update({k: v for k, v in extra.items() if k != "tools"})
    try:
        out, spans = render_jinja_template(
            conversations=[messages], tools=tools, chat_template=source,
            return_assistant_tokens_mask=True, add_generation_prompt=agp, **kwargs)
    except Exception as e:  # the template's own error, e.g. raise_exception
        return {"error": str(e), "error_type": type(e).__name__}
    text = out[0]
    return {"text": text, "spans": [[utf16(text, s), utf16(text, e)] for s, e in spans[0]]}


def template_cases():
    cases = []
    names = sorted(f for f in os.listdir(os.path.join(HERE, "templates")) if f.endswith(".jinja"))
    for name in names:
        with open(os.path.join(HERE, "templates", name), encoding="utf-8") as f:
            source = f.read()
        for conv, messages in CONVERSATIONS.items():
            for agp in (False, True):
                for vname, vextra in VARIANTS:
                    if vname and "enable_thinking" not in source:
                        continue
                    extra = dict(vextra)
                    if conv == "tools":
                        extra["tools"] = TOOLS
                    case = {"template": name, "conversation": conv, "add_generation_prompt": agp, "extra": extra}
                    case.update(render(source, messages, agp, extra))
                    cases.append(case)
    return cases


def tokenizer_cases():
    cases = []
    dirs = ["testdata/tokenizers/qwen3"] + ["testdata/reference/" + d for d in
                                            ("gpt2", "llama_gqa", "qwen2_tied_bf16")]
    for d in dirs:
        tok = AutoTokenizer.from_pretrained(os.path.join(ROOT, d))
        for conv in (["basic", "reasoning", "tools", "unicode"] if "qwen3" in d else ["basic", "no_system"]):
            for agp in (False, True):
                for vname, vextra in (VARIANTS if "qwen3" in d else VARIANTS[:1]):
                    extra = dict(vextra)
                    tools = TOOLS if conv == "tools" else None
                    messages = CONVERSATIONS[conv]
                    text = tok.apply_chat_template(messages, tools=tools, tokenize=False,
                                                   add_generation_prompt=agp, **extra)
                    ids = tok.apply_chat_template(messages, tools=tools, tokenize=True, return_dict=False,
                                                  add_generation_prompt=agp, **extra)
                    if tools:
                        extra["tools"] = tools
                    # What tokenizer.json itself gives (transformers 5 rebuilds some tokenizer classes,
                    # e.g. Qwen2Tokenizer, from the vocabulary instead of running tokenizer.json).
                    raw = tokenizers.Tokenizer.from_file(os.path.join(ROOT, d, "tokenizer.json"))
                    cases.append({"tokenizer": d, "conversation": conv, "add_generation_prompt": agp,
                                  "extra": extra, "text": text, "ids": list(ids),
                                  "ids_tokenizer_json": raw.encode(text, add_special_tokens=False).ids})
    return cases


# Small templates for the Python behaviours (not covered: printing None, which prints nothing in Align
# because None and undefined are one value there, and chained comparisons such as 1 < x < 3) real templates rely on (whitespace control, expressions,
# string methods, filters, tests, loops, namespaces). Each renders with `messages` and the variables given.
FEATURES = [
    ("ws_trim_lstrip", "A\n  {% if true %}\n    B\n  {% endif %}\nC {% if true %}D{% endif %}\n{# c #}\nE\n", {}),
    ("ws_minus", "A  \n {%- if true -%}  \n B \n {%- endif %} C\n{{- ' x ' -}}\n y", {}),
    ("ws_plus", "A\n  {%+ if true +%}\nB\n  {%- endif +%}\nC", {}),
    ("ws_comment_raw", "a {#- c -#} b\n  {# own line #}\nc{% raw %} {{ x }} {% endraw %}d\n", {}),
    ("ws_trailing_newline", "x\n\n", {}),
    ("ws_crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc", {}),
    ("expr_precedence", "{{ not 1 == 2 }} {{ not x is defined }} {{ 2 + 3 * 4 }} {{ -2 ** 2 }} {{ 7 // 2 }} "
                        "{{ 7 % 3 }} {{ 'a' if false else 'b' }} {{ 1 < 2 and 2 <= 2 }} {{ 'ab' ~ 3 }}", {}),
    ("expr_literals", "{{ none is none }}|{{ None is none }}|{{ true }}|{{ True }}|{{ false }}|{{ [1, 'a', none] }}|"
                      "{{ {'k': 'v', 'n': 1.5} }}|{{ (1, 2) }}|{{ 1.0 }}|{{ 1e20 }}|{{ 0.0001 }}|{{ 0.00001 }}", {}),
    ("expr_strings", "{{ '\\u00e9\\x41\\101\\t|' }}{{ \"it's\" }}{{ 'a\\'b' }}{{ 'x\\dy' }}", {}),
    ("index_slice", "{{ messages[-1].role }} {{ messages[0]['content'] }} {{ messages[1:]|length }} "
                    "{{ (messages[::-1]|first).role }} {{ 'abcdef'[::2] }} {{ 'abcdef'[-2:] }} {{ 'abcdef'[1:-1:2] }} "
                    "{{ [1,2,3,4,5][::-2] }} {{ [1,2,3][5:] }} {{ 'abc'[1] }} {{ 'abc'[-1] }}", {}),
    ("str_methods", "{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n\\nq\\n'.lstrip('\\n') }}|"
                    "{{ 'q  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a,b,c'.split(',', 1) }}|"
                    "{{ 'a,b,c'.rsplit(',', 1) }}|{{ 'a b'.split(' ')[-1] }}|{{ 'ab'.upper() }}{{ 'AB'.lower() }}|"
                    "{{ 'hello wORLD'.title() }}|{{ 'hello'.capitalize() }}|{{ 'aXbX'.replace('X', '-') }}|"
                    "{{ 'aaa'.replace('a', 'b', 2) }}|{{ '-'.join(['a', 'b']) }}|{{ 'abc'.startswith('ab') }}|"
                    "{{ 'abc'.endswith(('x', 'c')) }}|{{ 'abc'.find('c') }}|{{ 'a{}b{}'.format(1, 'x') }}|"
                    "{{ '{0}{name}'.format('p', name='n') }}|{{ 'l1\\nl2'.splitlines() }}|{{ 'abc'.count('b') }}|"
                    "{{ '12'.isdigit() }}|{{ 'x=1'.partition('=') }}|{{ 'ab' in 'cabd' }}|{{ 'z' not in 'ab' }}", {}),
    ("filters", "{{ '  t  '|trim }}|{{ 'xtx'|trim('x') }}|{{ messages|length }}|{{ 'héllo'|length }}|"
                "{{ messages|map(attribute='role')|join(',') }}|{{ messages|selectattr('role', 'equalto', 'user')|list|length }}|"
                "{{ messages|rejectattr('role', 'equalto', 'user')|map(attribute='role')|list }}|"
                "{{ [3, 1, 2]|sort }}|{{ [1, 2]|first }}{{ [1, 2]|last }}|{{ 'ab'|upper }}{{ 'AB'|lower }}|"
                "{{ 'hi there'|title }}|{{ 'hI'|capitalize }}|{{ [1, 'a']|join('-') }}|"
                "{{ undefined_var|default('u') }}|{{ ''|default('e', true) }}|{{ {'b': 1, 'a': 2}|dictsort }}|"
                "{{ {'a': 1}|items|list }}|{{ 'x'|string }}{{ 5|string }}|{{ [1, [2]]|tojson }}|"
                "{{ {'a': {'b': [1, 2.5, true, none, 'é\\\"<>&']}}|tojson(indent=2) }}|{{ 'a'|tojson }}|"
                "{{ {'z': 1, 'a': 2}|tojson(sort_keys=true) }}|{{ [1, 2]|tojson(separators=(',', ':')) }}|"
                "{{ 'x'|replace('x', 'y') }}|{{ [1, 2, 2]|unique|list }}|{{ [1, 2, 3]|sum }}|{{ -3|abs }}|"
                "{{ '3'|int + 1 }}|{{ [1, 2, 3]|reverse|list }}", {}),
    ("tests", "{{ 'a' is string }}{{ 1 is string }}{{ {} is mapping }}{{ [] is mapping }}{{ x is defined }}"
              "{{ x is undefined }}{{ none is none }}{{ 1 is not none }}{{ true is true }}{{ false is false }}"
              "{{ 0 is false }}{{ 'a' is iterable }}{{ [] is iterable }}{{ 3 is number }}{{ [] is sequence }}"
              "{{ messages[0] is mapping }}{{ 2 is even }}{{ 3 is odd }}{{ 3 is divisibleby 3 }}", {}),
    ("membership", "{{ 'role' in messages[0] }}{{ 'x' in messages[0] }}{{ 2 in [1, 2] }}{{ 'tool_calls' not in messages[0] }}", {}),
    ("loops", "{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}"
              "{{ loop.length }}{% if not loop.first %}{{ loop.previtem.role }}{% endif %}{% if not loop.last %}"
              "{{ loop.nextitem.role }}{% endif %}{{ loop.cycle('a', 'b') }};{% endfor %}", {}),
    ("loop_filter_else", "{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{% else %}none{% endfor %}"
                         "|{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in undefined_var %}x{% endfor %}|"
                         "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}|"
                         "{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}|{% for c in 'ab' %}{{ c }}.{% endfor %}|"
                         "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", {}),
    ("loop_controls", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}B{{ i }}"
                      "{% break %}X{% endif %}{{ i }}{% endfor %}|{% for i in range(3) %}{% for j in range(3) %}"
                      "{% if j > i %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}|"
                      "{{ range(3)|list }}{{ range(1, 7, 2)|list }}{{ range(5, 0, -2)|list }}", {}),
    ("namespace_scope", "{% set ns = namespace(found=false, n=messages|length - 1, idx=-1) %}"
                        "{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% set ns.idx = loop.index0 %}"
                        "{% endif %}{% set inner = 1 %}{% endfor %}{{ ns.found }} {{ ns.n }} {{ ns.idx }} "
                        "{{ inner is defined }}{% if true %}{% set outer = 2 %}{% endif %} {{ outer }}"
                        "{% set a, b = 1, 2 %} {{ a }}{{ b }}{% set block %}B{{ a }}{% endset %} {{ block }}", {}),
    ("macros", "{% macro tag(name, body='x') %}<{{ name }}>{{ body }}</{{ name }}>{% endmacro %}"
               "{{ tag('a') }}{{ tag('b', 'y') }}{{ tag('c', body='z') }}"
               "{% macro render(m) %}{{ m.role|upper }}{% endmacro %}{% for m in messages %}{{ render(m) }}{% endfor %}", {}),
    ("kwargs_vars", "{{ bos_token }}|{{ eos_token }}|{{ enable_thinking }}|{{ custom.k }}|{{ tools is none }}|"
                    "{{ documents is none }}|{{ add_generation_prompt }}", {"enable_thinking": False, "custom": {"k": [1]}}),
    ("strftime", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j %I%p') }}|"
                 "{{ strftime_now is defined }}|{{ raise_exception is defined }}", {}),
    ("raise", "{% if messages|length > 1 %}{{ raise_exception('Too many: ' ~ messages|length) }}{% endif %}", {}),
    ("generation_chatml", "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' }}{% if m.role == 'assistant' %}"
                          "{% generation %}{{ m.content + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}{% else %}"
                          "{{ m.content + '<|im_end|>\\n' }}{% endif %}{% endfor %}"
                          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}", {}),
    ("generation_ws", "{%- for m in messages %}\n  {%- if m.role == 'assistant' %}\n    {%- generation %}\n"
                      "    {{- m.content }}\n    {%- endgeneration %}\n  {%- else %}[{{ m.content }}]{% endif %}\n"
                      "{%- endfor %}", {}),
]

FEATURE_MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi \U0001F600"},
    {"role": "assistant", "content": "Hello \U0001F44B there"},
    {"role": "user", "content": "Bye"},
    {"role": "assistant", "content": "Ciao"},
]


def feature_cases():
    cases = []
    for name, source, extra in FEATURES:
        case = {"name": name, "template": source, "extra": extra}
        case.update(render(source, FEATURE_MESSAGES, False, extra))
        cases.append(case)
    return cases


def main():
    goldens = {
        "transformers": transformers.__version__,
        "specials": SPECIALS,
        "clock": "2024-07-26T10:30:00",
        "conversations": CONVERSATIONS,
        "templates": template_cases(),
        "tokenizers": tokenizer_cases(),
        "feature_messages": FEATURE_MESSAGES,
        "features": feature_cases(),
    }
    with open(os.path.join(HERE, "goldens.json"), "w", encoding="utf-8") as f:
        json.dump(goldens, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(len(goldens["templates"]), "template cases,", len(goldens["tokenizers"]), "tokenizer cases,",
          len(goldens["features"]), "feature cases", file=sys.stderr)


if __name__ == "__main__":
    main()
