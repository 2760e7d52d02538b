package dev.align.datasets.format;

import java.util.List;

/**
 * {@code {"chosen", "rejected"}}: two full transcripts that share their beginning, the prompt. The
 * prompt is extracted as TRL's {@code extract_prompt} does for message lists (the messages before the
 * first one that differs); for text, the common beginning is cut back to a word boundary: the prompt
 * ends just before the last whitespace that precedes the first differing character, so both
 * completions start with that whitespace (TRL cuts at the differing character itself, which can split a
 * word, and steps back only over one space). Problems: as
 * {@link PreferenceFormat}, and identical transcripts (nothing left to compare).
 */
public final class ImplicitPreferenceFormat {
    private ImplicitPreferenceFormat() {}

    static Sample.Preference parse(Fields f, boolean conversational) {
        Content c = f.content("chosen", conversational);
        Content r = f.content("rejected", conversational);
        double margin = f.optionalNumber("margin");
        if (c == null || r == null) {
            return null;
        }
        if (c.equals(r)) {
            f.problem(f.column("rejected"), "same as chosen");
            return null;
        }
        Content[] split = extractPrompt(c, r);
        return PreferenceFormat.finish(f, split[0], split[1], split[2], margin);
    }

    /** {prompt, chosen completion, rejected completion} of two transcripts. */
    public static Content[] extractPrompt(Content chosen, Content rejected) {
        if (!chosen.conversational()) {
            String a = chosen.text();
            String b = rejected.text();
            int n = Math.min(a.length(), b.length());
            int i = 0;
            while (i < n && a.charAt(i) == b.charAt(i)) {
                i++;
            }
            if (i < n || a.length() != b.length()) {
                // back to the whitespace before the word in which they differ (none: no prompt)
                while (i > 0 && !Character.isWhitespace(a.charAt(i - 1))) {
                    i--;
                }
                if (i > 0) {
                    i--;
                }
            }
            return new Content[] {Content.of(a.substring(0, i)), Content.of(a.substring(i)), Content.of(b.substring(i))};
        }
        List<Message> a = chosen.messages();
        List<Message> b = rejected.messages();
        int n = Math.min(a.size(), b.size());
        int i = 0;
        while (i < n && a.get(i).equals(b.get(i))) {
            i++;
        }
        return new Content[] {
            Content.of(a.subList(0, i)), Content.of(a.subList(i, a.size())), Content.of(b.subList(i, b.size()))
        };
    }
}
