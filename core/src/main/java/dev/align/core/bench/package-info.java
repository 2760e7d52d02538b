/** Benchmarks (training step throughput, model FLOPs utilisation, memory) run by align bench. */
package dev.align.core.bench;
