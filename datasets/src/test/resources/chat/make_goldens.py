"""Reference token ids and assistant masks for ConversationalTest (run once; output checked in).

Uses transformers' apply_chat_template on the llama_gqa reference tokenizer (a WordLevel tokenizer with a
ChatML chat_template). Assistant masks come from transformers' return_assistant_tokens_mask, which needs
{% generation %} blocks, so the template is the tokenizer's ChatML with the assistant content and its
<|im_end|> wrapped in a generation block (it renders the same text as the tokenizer's own template).

  /tmp/ref/bin/python make_goldens.py ../../../../../testdata/reference/llama_gqa > goldens.json
"""
import json
import sys

from transformers import AutoTokenizer

GEN_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}{{ '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

tok = AutoTokenizer.from_pretrained(sys.argv[1])
assert tok.apply_chat_template([{"role": "user", "content": "bidu"}], tokenize=False) == \
    tok.apply_chat_template([{"role": "user", "content": "bidu"}], tokenize=False, chat_template=GEN_TEMPLATE)

conversations = [
    [{"role": "user", "content": "bidu bulu"}, {"role": "assistant", "content": "bena boko"}],
    [{"role": "system", "content": "bega"}, {"role": "user", "content": "bimu bemo biza"},
     {"role": "assistant", "content": "beli bobo"}, {"role": "user", "content": "bida"},
     {"role": "assistant", "content": "boba boza bome"}],
    [{"role": "user", "content": "bepo"}, {"role": "assistant", "content": "beko boda"},
     {"role": "user", "content": "bobo boka bera"}],
    [{"role": "assistant", "content": "biki beke"}, {"role": "user", "content": "bizi"},
     {"role": "assistant", "content": "bonu befo bobe"}],
]

out = {"messages": [], "prompt_completion": []}
for conv in conversations:
    o = tok.apply_chat_template(conv, chat_template=GEN_TEMPLATE, tokenize=True, return_dict=True,
                                return_assistant_tokens_mask=True)
    plain = tok.apply_chat_template(conv, tokenize=True, return_dict=True)
    assert list(plain["input_ids"]) == list(o["input_ids"])
    out["messages"].append({"messages": conv, "input_ids": list(o["input_ids"]),
                            "assistant_masks": list(o["assistant_masks"]),
                            "text": tok.apply_chat_template(conv, tokenize=False)})

# TRL's SFT tokenize_fn for conversational prompt-completion: prompt with the generation prompt, then the
# whole conversation; completion_mask = 0 over the prompt's ids, 1 after.
pcs = [
    ([{"role": "user", "content": "bidu bulu"}], [{"role": "assistant", "content": "bena boko"}]),
    ([{"role": "system", "content": "bega"}, {"role": "user", "content": "bimu"}],
     [{"role": "assistant", "content": "beli bobo bida"}]),
]
for prompt, completion in pcs:
    p = tok.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True, return_dict=True)["input_ids"]
    full = tok.apply_chat_template(prompt + completion, tokenize=True, return_dict=True)["input_ids"]
    assert list(full[: len(p)]) == list(p)
    out["prompt_completion"].append({"prompt": prompt, "completion": completion, "input_ids": list(full),
                                     "completion_mask": [0] * len(p) + [1] * (len(full) - len(p))})

json.dump(out, sys.stdout)
print()
