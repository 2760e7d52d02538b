package dev.align.datasets.read;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;

/**
 * Decodes a UTF-8 byte stream strictly but without stopping: every malformed byte sequence becomes
 * U+FFFD and the line it is on (1-based) is remembered, so a reader can report exactly which records
 * hold bad UTF-8 and go on with the rest. Streams: only a fixed-size buffer of bytes and chars is held.
 *
 * <p>Lines are counted by {@code '\n'} over the decoded text, as the line readers of the formats count
 * them. The decoder runs ahead of what the caller has read by at most one buffer, so
 * {@link #isBad(int)} is answered for every line the caller has seen.
 */
public final class StrictUtf8Reader extends Reader {
    private static final int BUFFER = 1 << 16;

    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer bytes = ByteBuffer.allocate(BUFFER);
    private final CharBuffer chars = CharBuffer.allocate(BUFFER);
    private final BitSet badLines = new BitSet();
    private int line = 1;
    private boolean eof;
    private boolean flushed;

    public StrictUtf8Reader(InputStream in) {
        this.in = in;
        bytes.flip(); // empty, ready to read
        chars.flip();
    }

    /** Whether line {@code n} (1-based) held bytes that are not UTF-8. */
    public boolean isBad(int n) {
        return n >= 0 && badLines.get(n);
    }

    /** Whether any line in [{@code from}, {@code to}] held bytes that are not UTF-8. */
    public boolean anyBad(int from, int to) {
        int next = badLines.nextSetBit(Math.max(0, from));
        return next >= 0 && next <= to;
    }

    @Override
    public int read(char[] buf, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!chars.hasRemaining() && !fill()) {
            return -1;
        }
        int n = Math.min(len, chars.remaining());
        chars.get(buf, off, n);
        return n;
    }

    /** Decodes the next run of chars; false at end of input. */
    private boolean fill() throws IOException {
        chars.clear();
        try {
            while (chars.position() == 0) {
                if (flushed) {
                    return false;
                }
                if (!eof && !bytes.hasRemaining()) {
                    refill();
                }
                int before = chars.position();
                CoderResult r = decoder.decode(bytes, chars, eof);
                countLines(before);
                if (r.isError()) {
                    if (!chars.hasRemaining()) {
                        break; // no room for U+FFFD: the error is met again on the next fill
                    }
                    badLines.set(line);
                    bytes.position(bytes.position() + r.length());
                    chars.put('\uFFFD');
                    continue;
                }
                if (r.isOverflow()) {
                    break;
                }
                // underflow: need more bytes (or finish)
                if (eof) {
                    before = chars.position();
                    decoder.flush(chars);
                    countLines(before);
                    flushed = true;
                } else {
                    refill();
                }
            }
        } finally {
            chars.flip();
        }
        return chars.hasRemaining();
    }

    private void refill() throws IOException {
        bytes.compact();
        int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
        if (n < 0) {
            eof = true;
        } else {
            bytes.position(bytes.position() + n);
        }
        bytes.flip();
    }

    private void countLines(int from) {
        for (int i = from; i < chars.position(); i++) {
            if (chars.get(i) == '\n') {
                line++;
            }
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
