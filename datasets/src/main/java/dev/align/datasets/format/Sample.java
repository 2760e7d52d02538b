package dev.align.datasets.format;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.datasets.read.Origin;
import java.util.List;

/** One validated record of a data file, before tokenization. */
public sealed interface Sample {
    /** Where the record is. */
    Origin origin();

    /** Language modelling: a text or a conversation. */
    record Text(Origin origin, Content text) implements Sample {}

    /** A prompt to generate from; {@code extra} holds the record's other columns (e.g. the answer). */
    record Prompt(Origin origin, Content prompt, ObjectNode extra) implements Sample {}

    /** A prompt and its completion. */
    record PromptCompletion(Origin origin, Content prompt, Content completion) implements Sample {}

    /** A prompt with a chosen and a rejected completion; {@code margin} is NaN when the record has none. */
    record Preference(Origin origin, Content prompt, Content chosen, Content rejected, double margin)
            implements Sample {}

    /** A prompt with one completion labelled desirable (true) or undesirable (false). */
    record Unpaired(Origin origin, Content prompt, Content completion, boolean label) implements Sample {}

    /** A prompt with K responses and the ordered pairs their ranking implies. */
    record Ranking(Origin origin, Content prompt, List<Content> responses, List<RankedPair> pairs)
            implements Sample {}
}
