/**
 * Dataset formats (TRL's): detection from a record's keys, field mapping, and one parser/validator per
 * format that turns a record into a {@link dev.align.datasets.format.Sample} or reports every problem
 * as {@code FILE:LINE: field: reason}.
 */
package dev.align.datasets.format;
