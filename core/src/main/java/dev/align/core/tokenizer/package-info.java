/** Hugging Face tokenizers, chat templates and the prompt/completion tokenization convention. */
package dev.align.core.tokenizer;
