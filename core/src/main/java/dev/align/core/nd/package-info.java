/**
 * Tensor helpers that keep clear of the engine's sharp edges (engine-owned copies, scalar constants,
 * scopes), and {@link dev.align.core.nd.NativeHeap}, which returns the C heap's free pages so that a
 * fragmenting glibc heap does not grow a training step's peak.
 */
package dev.align.core.nd;
