package dev.align.core.generate;

import dev.align.core.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * Incremental detokenization of one row's new tokens (vLLM's method), with stop-string detection.
 *
 * <p>The text of the new tokens is what decoding them <em>after</em> the prompt adds: the window of
 * tokens from {@code prefixOffset} is decoded with and without the newest tokens and the difference is
 * the new text, so leading spaces that depend on the previous token (SentencePiece, word-level
 * tokenizers) come out right. A delta ending in U+FFFD (an incomplete UTF-8 character) waits for the
 * next token. The window stays a few tokens long: per token the work is two decodes of a handful of ids
 * and a stop-string search over the new text plus the longest stop string's length, independent of how
 * long the row already is.
 *
 * <p>With stop strings, the text that can be {@linkplain #drain() emitted} lags the decoded text by the
 * longest stop string's length − 1, so that a stop string is never streamed and then taken back.
 */
final class TextStream {
    /** Prompt tokens decoded before the new ones, for context. */
    static final int CONTEXT = 4;

    private final Tokenizer tokenizer;
    private final List<String> stops;
    private final int holdBack;
    private long[] window = new long[16];
    private int size;
    private int prefixOffset;
    private int readOffset;
    private final StringBuilder text = new StringBuilder();
    private int emitted;
    private boolean stopped;

    TextStream(Tokenizer tokenizer, long[] prompt, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = stops;
        int longest = 0;
        for (String s : stops) {
            longest = Math.max(longest, s.length());
        }
        this.holdBack = Math.max(0, longest - 1);
        int from = Math.max(0, prompt.length - CONTEXT);
        for (int i = from; i < prompt.length; i++) {
            push(prompt[i]);
        }
        readOffset = size;
    }

    /**
     * Adds one token. Returns true if the text now contains a stop string; the text is then cut just
     * before its first occurrence and nothing more is accepted.
     */
    boolean accept(long token) {
        if (stopped) {
            throw new IllegalStateException("stopped");
        }
        push(token);
        String prefix = decode(prefixOffset, readOffset);
        String full = decode(prefixOffset, size);
        if (full.length() > prefix.length() && !full.endsWith("\uFFFD")) {
            int before = text.length();
            text.append(full, prefix.length(), full.length());
            prefixOffset = readOffset;
            readOffset = size;
            compact();
            return findStop(before);
        }
        return false;
    }

    /** Ends the stream: text still held back because of an incomplete character is added as it is. */
    void finish() {
        if (stopped || readOffset == size) {
            return;
        }
        String prefix = decode(prefixOffset, readOffset);
        String full = decode(prefixOffset, size);
        int before = text.length();
        if (full.length() > prefix.length() && full.startsWith(prefix)) {
            text.append(full, prefix.length(), full.length());
        }
        readOffset = size;
        findStop(before);
    }

    /** Text ready to be shown that was not returned before (all of it once the stream is finished). */
    String drain(boolean finished) {
        int end = finished || stopped ? text.length() : Math.max(emitted, text.length() - holdBack);
        if (end > emitted && end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        String out = text.substring(emitted, end);
        emitted = end;
        return out;
    }

    /** The text so far (cut at the stop string if one was found). */
    String text() {
        return text.toString();
    }

    boolean stopped() {
        return stopped;
    }

    private boolean findStop(int before) {
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s, Math.max(0, before - s.length() + 1));
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        if (best >= 0) {
            text.setLength(best);
            emitted = Math.min(emitted, best);
            stopped = true;
        }
        return stopped;
    }

    private String decode(int from, int to) {
        if (to <= from) {
            return "";
        }
        return tokenizer.decode(Arrays.copyOfRange(window, from, to), true);
    }

    private void push(long token) {
        if (size == window.length) {
            window = Arrays.copyOf(window, size * 2);
        }
        window[size++] = token;
    }

    /** Drops tokens before {@code prefixOffset} so the window stays short. */
    private void compact() {
        if (prefixOffset == 0) {
            return;
        }
        System.arraycopy(window, prefixOffset, window, 0, size - prefixOffset);
        size -= prefixOffset;
        readOffset -= prefixOffset;
        prefixOffset = 0;
    }
}
