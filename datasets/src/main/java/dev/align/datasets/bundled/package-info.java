/**
 * The bundled data: a seeded generator of one small synthetic world (fictional animals and small-number
 * arithmetic) and of the files made from it (pre-training corpus, Q&amp;A, rankings, preferences,
 * verifiable prompts, and the tiny model's tokenizer), and access to the checked-in copies.
 */
package dev.align.datasets.bundled;
