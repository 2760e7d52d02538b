package dev.align.datasets.format;

import dev.align.core.BadInputException;
import dev.align.datasets.read.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Format detection and per-record parsing.
 *
 * <p>Detection looks at the keys of the first record (through the field map), in TRL's order:
 *
 * <ol>
 *   <li>{@code responses} with {@code ranking} or {@code scores} → ranking
 *   <li>{@code prompt}, {@code chosen}, {@code rejected} → preference
 *   <li>{@code chosen}, {@code rejected} → implicit-prompt preference
 *   <li>{@code prompt}, {@code completion}, {@code label} → unpaired preference
 *   <li>{@code prompt}, {@code completion} → prompt-completion
 *   <li>{@code instruction}, {@code output} → Alpaca (prompt-completion)
 *   <li>{@code messages} or {@code text} → language modelling
 *   <li>{@code prompt} → prompt only
 * </ol>
 *
 * The record is conversational when its main field ({@code messages}, {@code prompt}, or
 * {@code chosen} for implicit prompts) is a list of messages; every later record must agree.
 */
public final class Formats {
    /** A file's format and type (standard text or conversational). */
    public record Detected(Format format, boolean conversational) {}

    private Formats() {}

    /**
     * The format of a file whose first record is {@code first}: {@code forced} if given (only the type
     * is detected), else from the record's keys.
     *
     * @throws BadInputException if no format matches the keys
     */
    public static Detected detect(Row first, FieldMap map, Format forced) {
        Fields f = new Fields(first, map, p -> { });
        Format format = forced != null ? forced : byKeys(f);
        if (format == null) {
            List<String> keys = new ArrayList<>();
            first.json().fieldNames().forEachRemaining(keys::add);
            throw new BadInputException(first.origin().problem("", "cannot tell the format from the keys " + keys
                    + " (expected text, messages, prompt/completion, instruction/output, prompt/chosen/rejected,"
                    + " chosen/rejected, prompt/completion/label, prompt/responses/ranking or prompt; map other"
                    + " column names with --field, e.g. --field prompt=question)"));
        }
        boolean conv = switch (format) {
            case LANGUAGE_MODELING -> f.has("messages") && f.looksConversational("messages")
                    || !f.has("text") && f.has("messages");
            case ALPACA -> false;
            case IMPLICIT_PREFERENCE -> f.looksConversational("chosen");
            default -> f.looksConversational("prompt");
        };
        return new Detected(format, conv);
    }

    private static Format byKeys(Fields f) {
        if (f.has("responses") && (f.has("ranking") || f.has("scores"))) {
            return Format.RANKING;
        }
        if (f.has("chosen") && f.has("rejected")) {
            return f.has("prompt") ? Format.PREFERENCE : Format.IMPLICIT_PREFERENCE;
        }
        if (f.has("prompt") && f.has("completion")) {
            return f.has("label") ? Format.UNPAIRED_PREFERENCE : Format.PROMPT_COMPLETION;
        }
        if (f.has("instruction") && f.has("output")) {
            return Format.ALPACA;
        }
        if (f.has("messages") || f.has("text")) {
            return Format.LANGUAGE_MODELING;
        }
        if (f.has("prompt")) {
            return Format.PROMPT_ONLY;
        }
        return null;
    }

    /**
     * Parses and validates one record; every problem goes to {@code problems}.
     *
     * @return the sample, or null if the record is bad
     */
    public static Sample parse(Detected d, Row row, FieldMap map, Consumer<String> problems) {
        Fields f = new Fields(row, map, problems);
        boolean conv = d.conversational();
        return switch (d.format()) {
            case LANGUAGE_MODELING -> LanguageModelingFormat.parse(f, conv);
            case PROMPT_COMPLETION -> PromptCompletionFormat.parse(f, conv);
            case ALPACA -> AlpacaFormat.parse(f);
            case PROMPT_ONLY -> PromptOnlyFormat.parse(f, conv);
            case PREFERENCE -> PreferenceFormat.parse(f, conv);
            case IMPLICIT_PREFERENCE -> ImplicitPreferenceFormat.parse(f, conv);
            case UNPAIRED_PREFERENCE -> UnpairedPreferenceFormat.parse(f, conv);
            case RANKING -> RankingFormat.parse(f, conv);
        };
    }
}
