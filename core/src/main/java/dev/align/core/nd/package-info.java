/** Tensor helpers that keep clear of the engine's sharp edges (engine-owned copies, scalar constants, scopes). */
package dev.align.core.nd;
