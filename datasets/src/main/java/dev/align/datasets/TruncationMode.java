package dev.align.datasets;

import dev.align.core.BadInputException;
import java.util.Locale;

/** Which end of a too-long sequence to keep. */
public enum TruncationMode {
    /** Keep the first {@code max_length} tokens (drop the end of the completion). */
    KEEP_START,
    /** Keep the last {@code max_length} tokens (drop the start of the prompt). */
    KEEP_END;

    /** {@code keep_start} or {@code keep_end}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code keep_start} / {@code keep_end} ({@code -} and {@code _} alike). */
    public static TruncationMode parse(String s) {
        String n = s == null ? "keep_start" : s.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        return switch (n) {
            case "keep_start" -> KEEP_START;
            case "keep_end" -> KEEP_END;
            default -> throw new BadInputException("truncation_mode: expected keep_start or keep_end, got '" + s + "'");
        };
    }
}
