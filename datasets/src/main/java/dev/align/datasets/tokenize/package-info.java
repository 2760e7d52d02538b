/**
 * Tokenization of validated samples under the shared convention, chat-template rendering, and
 * assistant-only loss masks found by rendering.
 */
package dev.align.datasets.tokenize;
