package dev.align.datasets.read;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One record of a data file, as JSON.
 *
 * @param origin where it is
 * @param json its fields
 * @param textual true for CSV rows: every value is a string, and lists, numbers and booleans are
 *     written as text (JSON for lists, e.g. {@code [0, 2, 1]})
 */
public record Row(Origin origin, ObjectNode json, boolean textual) {}
