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


def main():
    goldens = {
        "transformers": transformers.__version__,
        "specials": SPECIALS,
        "clock": "2024-07-26T10:30:00",
        "conversations": CONVERSATIONS,
        "templates": template_cases(),
        "tokenizers": tokenizer_cases(),
    }
    with open(os.path.join(HERE, "goldens.json"), "w", encoding="utf-8") as f:
        json.dump(goldens, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(len(goldens["templates"]), "template cases,", len(goldens["tokenizers"]), "tokenizer cases",
          file=sys.stderr)


if __name__ == "__main__":
    main()
