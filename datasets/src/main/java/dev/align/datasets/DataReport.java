package dev.align.datasets;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What loading a data file found.
 *
 * @param file the file
 * @param format the detected (or given) format
 * @param conversational whether records are message lists
 * @param records records read (every non-blank line / array element / CSV row, bad ones included)
 * @param badRecords records with at least one problem
 * @param problems every problem, {@code FILE:LINE: field: reason}
 * @param examples examples kept (after dropping)
 * @param sequences token sequences kept (2 per preference pair, K per ranking group)
 * @param pairs comparisons kept (preference and ranking data)
 * @param tiesDropped pairs of equal score that are not pairs (ranking scores)
 * @param truncated examples with at least one sequence cut to max_length
 * @param dropped examples dropped after truncation, per reason
 * @param pairsRemoved ranking pairs removed because both sides became identical after truncation
 * @param maxLength the max_length applied (null: none)
 * @param truncationMode keep_start or keep_end
 * @param lengths token lengths of all sequences before truncation
 * @param fromCache whether the tokenized result came from the cache
 */
public record DataReport(
        String file,
        String format,
        boolean conversational,
        int records,
        int badRecords,
        List<String> problems,
        int examples,
        int sequences,
        int pairs,
        int tiesDropped,
        int truncated,
        Map<String, Integer> dropped,
        int pairsRemoved,
        Integer maxLength,
        String truncationMode,
        LengthStats lengths,
        boolean fromCache) {

    public DataReport {
        problems = List.copyOf(problems);
        dropped = Map.copyOf(new TreeMap<>(dropped));
    }

    /** Examples dropped for any reason after truncation. */
    public int droppedTotal() {
        int n = 0;
        for (int v : dropped.values()) {
            n += v;
        }
        return n;
    }

    /** The same report, marked as read from the cache. */
    public DataReport fromCache(boolean cached) {
        return new DataReport(file, format, conversational, records, badRecords, problems, examples, sequences, pairs,
                tiesDropped, truncated, dropped, pairsRemoved, maxLength, truncationMode, lengths, cached);
    }

    /** A few lines for people: counts, format, lengths, truncation (problems not included). */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "file:         %s%n", file));
        sb.append(String.format(Locale.ROOT, "format:       %s%s%n", format, conversational ? " (conversational)" : ""));
        sb.append(String.format(Locale.ROOT, "records:      %d (%d bad)%n", records, badRecords));
        sb.append(String.format(Locale.ROOT, "examples:     %d", examples));
        if (pairs > 0) {
            sb.append(String.format(Locale.ROOT, ", %d pairs", pairs));
        }
        if (tiesDropped > 0) {
            sb.append(String.format(Locale.ROOT, ", %d ties (not pairs)", tiesDropped));
        }
        sb.append(String.format(Locale.ROOT, "%n"));
        sb.append(String.format(Locale.ROOT, "tokens/seq:   p50 %d  p90 %d  p99 %d  max %d  (mean %.1f over %d sequences)%n",
                lengths.p50(), lengths.p90(), lengths.p99(), lengths.max(), lengths.mean(), lengths.count()));
        if (maxLength == null) {
            sb.append(String.format(Locale.ROOT, "max_length:   none (nothing truncated)%n"));
        } else {
            sb.append(String.format(Locale.ROOT, "max_length:   %d (%s): %d truncated, %d dropped%n", maxLength,
                    truncationMode, truncated, droppedTotal()));
            for (Map.Entry<String, Integer> e : dropped.entrySet()) {
                sb.append(String.format(Locale.ROOT, "  dropped %d: %s%n", e.getValue(), e.getKey()));
            }
            if (pairsRemoved > 0) {
                sb.append(String.format(Locale.ROOT, "  removed %d ranking pairs identical after truncation%n",
                        pairsRemoved));
            }
        }
        return sb.toString();
    }
}
