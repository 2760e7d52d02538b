/** The tensor-facing batch type and a streaming JSONL reader. */
package dev.align.core.data;
