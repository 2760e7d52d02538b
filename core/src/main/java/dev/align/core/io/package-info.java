/** Safetensors reading and writing (memory-mapped, BF16 converted in Java), sharded weights, atomic files. */
package dev.align.core.io;
