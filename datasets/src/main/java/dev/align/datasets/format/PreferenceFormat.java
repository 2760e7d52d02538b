package dev.align.datasets.format;

/**
 * {@code {"prompt", "chosen", "rejected"}} (strings, or message lists), optional {@code "margin"}.
 * Problems: missing or wrongly typed field, an empty chosen or rejected completion, chosen equal to
 * rejected, a margin that is not a finite number, message problems.
 */
public final class PreferenceFormat {
    private PreferenceFormat() {}

    static Sample.Preference parse(Fields f, boolean conversational) {
        Content p = f.content("prompt", conversational);
        Content c = f.content("chosen", conversational);
        Content r = f.content("rejected", conversational);
        double margin = f.optionalNumber("margin");
        if (p != null && conversational && p.isEmpty()) {
            f.problem(f.column("prompt"), "no messages");
        }
        return finish(f, p, c, r, margin);
    }

    static Sample.Preference finish(Fields f, Content p, Content c, Content r, double margin) {
        PromptCompletionFormat.checkCompletion(f, "chosen", c);
        PromptCompletionFormat.checkCompletion(f, "rejected", r);
        if (c != null && r != null && c.equals(r)) {
            f.problem(f.column("rejected"), "same as chosen");
        }
        return f.bad() ? null : new Sample.Preference(f.row().origin(), p, c, r, margin);
    }
}
