package dev.align.datasets.format;

/**
 * {@code {"prompt", "completion", "label"}}: one completion, labelled desirable ({@code true}) or
 * undesirable ({@code false}), as KTO uses. Problems: as {@link PromptCompletionFormat}, and a label
 * that is not a boolean.
 */
public final class UnpairedPreferenceFormat {
    private UnpairedPreferenceFormat() {}

    static Sample.Unpaired parse(Fields f, boolean conversational) {
        Content p = f.content("prompt", conversational);
        Content c = f.content("completion", conversational);
        Boolean label = f.bool("label");
        if (p != null && conversational && p.isEmpty()) {
            f.problem(f.column("prompt"), "no messages");
        }
        PromptCompletionFormat.checkCompletion(f, "completion", c);
        return f.bad() ? null : new Sample.Unpaired(f.row().origin(), p, c, label);
    }
}
