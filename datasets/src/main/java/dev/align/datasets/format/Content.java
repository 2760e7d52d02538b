package dev.align.datasets.format;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A prompt, completion or transcript: either plain text or a list of chat messages (TRL's
 * "standard" and "conversational" types). Exactly one of the two is non-null.
 */
public record Content(String text, List<Message> messages) {
    public Content {
        if ((text == null) == (messages == null)) {
            throw new IllegalArgumentException("exactly one of text and messages");
        }
        messages = messages == null ? null : List.copyOf(messages);
    }

    public static Content of(String text) {
        return new Content(text, null);
    }

    public static Content of(List<Message> messages) {
        return new Content(null, messages);
    }

    /** True for a list of messages. */
    public boolean conversational() {
        return messages != null;
    }

    /** No characters, or no messages. */
    public boolean isEmpty() {
        return conversational() ? messages.isEmpty() : text.isEmpty();
    }

    /** The messages as the chat template takes them. */
    public List<Map<String, Object>> asMaps() {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (Message m : messages) {
            out.add(m.asMap());
        }
        return out;
    }

    /** This content followed by {@code next} (both text or both messages). */
    public Content concat(Content next) {
        if (conversational() != next.conversational()) {
            throw new IllegalArgumentException("cannot join text and messages");
        }
        if (!conversational()) {
            return of(text + next.text);
        }
        List<Message> all = new ArrayList<>(messages);
        all.addAll(next.messages);
        return of(all);
    }
}
