package dev.align.datasets.format;

/**
 * {@code {"text": "..."}} or {@code {"messages": [{"role", "content"}, ...]}}. Problems: missing or
 * wrongly typed field, empty text, no messages, a message without role/content, an unknown role.
 */
public final class LanguageModelingFormat {
    private LanguageModelingFormat() {}

    static Sample.Text parse(Fields f, boolean conversational) {
        if (conversational) {
            Content c = f.content("messages", true);
            if (c != null && c.isEmpty()) {
                f.problem(f.column("messages"), "no messages");
            }
            return f.bad() ? null : new Sample.Text(f.row().origin(), c);
        }
        String t = f.string("text");
        if (t != null && t.isBlank()) {
            f.problem(f.column("text"), "empty text");
        }
        return f.bad() ? null : new Sample.Text(f.row().origin(), Content.of(t));
    }
}
