/** Tokenized examples on disk (read lazily by position), and the tokenization cache built on them. */
package dev.align.datasets.store;
