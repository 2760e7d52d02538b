package dev.align.datasets.format;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One chat message.
 *
 * @param role one of {@link #ROLES}
 * @param content its text
 * @param fields every key of the message as the file gave it (role and content included), handed to
 *     the chat template as is (e.g. {@code name}, {@code tool_calls})
 */
public record Message(String role, String content, Map<String, Object> fields) {
    /** The roles a message may have. */
    public static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    public Message {
        fields = fields == null ? Map.of("role", role, "content", content) : Map.copyOf(fields);
    }

    /** A message of just a role and a content. */
    public static Message of(String role, String content) {
        return new Message(role, content, null);
    }

    /** The message as the chat template sees it. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>(fields);
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
