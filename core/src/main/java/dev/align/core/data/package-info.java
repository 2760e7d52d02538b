/** The tensor-facing batch types (TokenBatch, TokenRows). */
package dev.align.core.data;
