/**
 * The datasets module: a user's data file (JSONL, JSON array or CSV, in any of TRL's formats) turned
 * into validated, tokenized examples ({@link dev.align.datasets.Datasets#load}), and from there into
 * token batches ({@link dev.align.datasets.batch}). Bad records are refused before any model is loaded,
 * each reported as {@code FILE:LINE: field: reason}.
 */
package dev.align.datasets;
