package dev.align.datasets.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Strict UTF-8 that does not stop: exact line numbers of bad bytes (also far past the first buffer and
 * at buffer edges), multi-byte characters split across reads, U+FFFD in place of the bad bytes.
 */
class StrictUtf8ReaderTest {

    /** An input stream that hands out at most 7 bytes per read, so characters straddle reads. */
    private static InputStream trickle(byte[] b) {
        return new ByteArrayInputStream(b) {
            @Override
            public synchronized int read(byte[] buf, int off, int len) {
                return super.read(buf, off, Math.min(len, 7));
            }
        };
    }

    @Test
    void badBytesAreFoundOnTheirLineAndReadingGoesOn() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= 5000; i++) {
            String s = "line " + i + " é😀 " + "x".repeat(i % 50);
            if (i == 3 || i == 2048 || i == 4999) {
                b.writeBytes(("line " + i + " ").getBytes(StandardCharsets.UTF_8));
                b.write(i == 2048 ? 0xC3 : 0xFF); // a lone lead byte, or a byte never valid
                b.writeBytes(" end".getBytes(StandardCharsets.UTF_8));
                expected.add("line " + i + " \uFFFD end");
            } else {
                b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
                expected.add(s);
            }
            b.write('\n');
        }
        for (boolean slow : new boolean[] {false, true}) {
            byte[] bytes = b.toByteArray();
            StrictUtf8Reader r = new StrictUtf8Reader(slow ? trickle(bytes) : new ByteArrayInputStream(bytes));
            BufferedReader br = new BufferedReader(r);
            List<String> lines = new ArrayList<>();
            String line;
            while ((line = br.readLine()) != null) {
                lines.add(line);
            }
            assertEquals(expected, lines);
            for (int i = 1; i <= 5000; i++) {
                assertEquals(i == 3 || i == 2048 || i == 4999, r.isBad(i), "line " + i);
            }
            assertTrue(r.anyBad(2000, 2100));
            assertFalse(r.anyBad(4, 2047));
        }
    }

    @Test
    void truncatedSequenceAtEndOfFileIsBad() throws IOException {
        byte[] b = {'o', 'k', '\n', 'x', (byte) 0xE2, (byte) 0x82};
        StrictUtf8Reader r = new StrictUtf8Reader(new ByteArrayInputStream(b));
        String all = readAll(r);
        assertEquals("ok\nx\uFFFD", all.replace("\uFFFD\uFFFD", "\uFFFD"));
        assertFalse(r.isBad(1));
        assertTrue(r.isBad(2));
    }

    private static String readAll(java.io.Reader r) throws IOException {
        StringBuilder sb = new StringBuilder();
        char[] buf = new char[3];
        int n;
        while ((n = r.read(buf, 0, buf.length)) >= 0) {
            sb.append(buf, 0, n);
        }
        return sb.toString();
    }
}
