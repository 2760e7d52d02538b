/** Streaming readers for data files (JSON Lines, JSON arrays, CSV) with strict UTF-8 and FILE:LINE problems. */
package dev.align.datasets.read;
