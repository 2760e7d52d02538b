/** LoRA adapters: creation, the forward delta, PEFT-format save/load and merging. */
package dev.align.core.lora;
