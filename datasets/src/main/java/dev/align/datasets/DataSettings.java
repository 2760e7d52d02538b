package dev.align.datasets;

import dev.align.core.BadInputException;
import dev.align.datasets.format.FieldMap;
import dev.align.datasets.format.Format;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * How a data file is read and tokenized. A record with snake_case keys, so training configs can embed it
 * (bound by {@code core.config.Configs}).
 *
 * @param datasetFormat {@code auto} (detect from the first record's keys) or a {@link Format} name
 * @param datasetFields field → column renames, e.g. {@code {prompt: question, completion: answer}}
 * @param maxLength truncate every sequence to this many tokens; null for no limit
 * @param truncationMode {@code keep_start} (default) or {@code keep_end}
 * @param completionOnlyLoss loss on completion tokens only (true, the default); false trains on the
 *     prompt too
 * @param assistantOnlyLoss for conversations, loss on assistant-turn tokens only (true, the default;
 *     TRL's default is false)
 * @param appendEos append the tokenizer's eos to text completions and texts (true)
 * @param skipBadRecords drop bad records and count them instead of stopping (false)
 * @param cache cache the tokenized result on disk (true)
 * @param cacheDir where the cache lives; null for {@code $ALIGN_CACHE/datasets} or
 *     {@code ~/.cache/align/datasets}
 */
public record DataSettings(
        String datasetFormat,
        FieldNames datasetFields,
        Integer maxLength,
        String truncationMode,
        boolean completionOnlyLoss,
        boolean assistantOnlyLoss,
        boolean appendEos,
        boolean skipBadRecords,
        boolean cache,
        String cacheDir) {

    public DataSettings {
        datasetFields = datasetFields == null ? FieldNames.none() : datasetFields;
    }

    /** The defaults: auto format, no renames, no limit, keep_start, completion- and assistant-only loss, eos, cache on. */
    public static DataSettings defaults() {
        return new DataSettings("auto", FieldNames.none(), null, "keep_start", true, true, true, false, true, null);
    }

    /** Checks every setting; errors name the setting. */
    public DataSettings validate() {
        Format.parse(datasetFormat);
        FieldMap.of(datasetFields.asMap());
        TruncationMode.parse(truncationMode);
        if (maxLength != null && maxLength < 2) {
            throw new BadInputException("max_length: must be at least 2, got " + maxLength);
        }
        return this;
    }

    /** The forced format, or null for auto-detection. */
    public Format forcedFormat() {
        return Format.parse(datasetFormat);
    }

    public FieldMap fieldMap() {
        return FieldMap.of(datasetFields.asMap());
    }

    public TruncationMode mode() {
        return TruncationMode.parse(truncationMode);
    }

    /** The cache directory to use. */
    public Path cachePath() {
        if (cacheDir != null && !cacheDir.isEmpty()) {
            return Path.of(cacheDir);
        }
        String env = System.getenv("ALIGN_CACHE");
        if (env != null && !env.isEmpty()) {
            return Path.of(env, "datasets");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "align", "datasets");
    }

    /** The settings that change the tokenized result, as a canonical string (part of the cache key). */
    public String tokenizationKey() {
        return "format=" + (forcedFormat() == null ? "auto" : forcedFormat().id())
                + ";fields=" + new TreeMap<>(datasetFields.asMap())
                + ";max_length=" + maxLength
                + ";truncation_mode=" + mode().id()
                + ";completion_only_loss=" + completionOnlyLoss
                + ";assistant_only_loss=" + assistantOnlyLoss
                + ";append_eos=" + appendEos
                + ";skip_bad_records=" + skipBadRecords;
    }

    public DataSettings withFormat(String f) {
        return new DataSettings(f, datasetFields, maxLength, truncationMode, completionOnlyLoss, assistantOnlyLoss,
                appendEos, skipBadRecords, cache, cacheDir);
    }

    /** With renames field → column (an unknown field name is an error). */
    public DataSettings withFields(Map<String, String> f) {
        return new DataSettings(datasetFormat, FieldNames.of(f), maxLength, truncationMode, completionOnlyLoss, assistantOnlyLoss,
                appendEos, skipBadRecords, cache, cacheDir);
    }

    public DataSettings withMaxLength(Integer n) {
        return new DataSettings(datasetFormat, datasetFields, n, truncationMode, completionOnlyLoss, assistantOnlyLoss,
                appendEos, skipBadRecords, cache, cacheDir);
    }

    public DataSettings withTruncationMode(String m) {
        return new DataSettings(datasetFormat, datasetFields, maxLength, m, completionOnlyLoss, assistantOnlyLoss,
                appendEos, skipBadRecords, cache, cacheDir);
    }

    public DataSettings withLoss(boolean completionOnly, boolean assistantOnly) {
        return new DataSettings(datasetFormat, datasetFields, maxLength, truncationMode, completionOnly, assistantOnly,
                appendEos, skipBadRecords, cache, cacheDir);
    }

    public DataSettings withAppendEos(boolean eos) {
        return new DataSettings(datasetFormat, datasetFields, maxLength, truncationMode, completionOnlyLoss, assistantOnlyLoss,
                eos, skipBadRecords, cache, cacheDir);
    }

    public DataSettings withSkipBadRecords(boolean skip) {
        return new DataSettings(datasetFormat, datasetFields, maxLength, truncationMode, completionOnlyLoss, assistantOnlyLoss,
                appendEos, skip, cache, cacheDir);
    }

    /** Cache on in {@code dir} (null: the default place), or off. */
    public DataSettings withCache(boolean on, String dir) {
        return new DataSettings(datasetFormat, datasetFields, maxLength, truncationMode, completionOnlyLoss, assistantOnlyLoss,
                appendEos, skipBadRecords, on, dir);
    }
}
