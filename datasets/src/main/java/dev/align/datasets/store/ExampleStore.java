package dev.align.datasets.store;

import dev.align.core.AlignException;
import dev.align.core.data.TokenRows.Piece;
import dev.align.datasets.tokenize.Encoder;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tokenized examples on disk, read back one at a time by position: a dataset larger than memory stays
 * on disk and only its index (16 bytes per example) is held. The same file is the tokenization cache.
 *
 * <pre>
 * "ALIGNDS1"                                   8-byte magic
 * example*                                      big-endian:
 *   int line, int nseq,
 *   nseq × (int len, int nruns, nruns × (int from, int to), len × int id)   loss targets as runs [from, to)
 *   int nnum, nnum × double, int nextra, nextra × UTF-8 byte
 * index: count × (long offset, int longest sequence, int total tokens)
 * meta: UTF-8 JSON (format, report, ...)
 * trailer: long indexOffset, int count, long metaOffset, int metaLength, "ALIGNDS1"
 * </pre>
 */
public final class ExampleStore implements AutoCloseable {
    private static final byte[] MAGIC = "ALIGNDS1".getBytes(StandardCharsets.US_ASCII);
    private static final int TRAILER = 8 + 4 + 8 + 4 + 8;

    /** One stored example. */
    public record Stored(int line, List<Piece> seqs, double[] numbers, String extra) {}

    private final Path file;
    private final FileChannel ch;
    private final long[] offsets; // count + 1
    private final int[] longest;
    private final int[] total;
    private final String meta;

    private ExampleStore(Path file, FileChannel ch, long[] offsets, int[] longest, int[] total, String meta) {
        this.file = file;
        this.ch = ch;
        this.offsets = offsets;
        this.longest = longest;
        this.total = total;
        this.meta = meta;
    }

    /** Opens a finished store. */
    public static ExampleStore open(Path file) {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
            long size = ch.size();
            if (size < MAGIC.length + TRAILER) {
                throw new IOException("too short");
            }
            ByteBuffer t = read(ch, size - TRAILER, TRAILER);
            long indexAt = t.getLong();
            int count = t.getInt();
            long metaAt = t.getLong();
            int metaLen = t.getInt();
            byte[] magic = new byte[8];
            t.get(magic);
            ByteBuffer head = read(ch, 0, 8);
            if (!Arrays.equals(magic, MAGIC) || !Arrays.equals(head.array(), MAGIC) || count < 0
                    || indexAt + 16L * count != metaAt || metaAt + metaLen != size - TRAILER) {
                throw new IOException("not an example store, or truncated");
            }
            long[] offsets = new long[count + 1];
            int[] longest = new int[count];
            int[] total = new int[count];
            ByteBuffer idx = read(ch, indexAt, 16 * count);
            for (int i = 0; i < count; i++) {
                offsets[i] = idx.getLong();
                longest[i] = idx.getInt();
                total[i] = idx.getInt();
            }
            offsets[count] = indexAt;
            String meta = new String(read(ch, metaAt, metaLen).array(), StandardCharsets.UTF_8);
            return new ExampleStore(file, ch, offsets, longest, total, meta);
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            throw new AlignException(file + ": cannot read tokenized data: " + e.getMessage(), e);
        }
    }

    private static ByteBuffer read(FileChannel ch, long at, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
        b.flip();
        return b;
    }

    public int size() {
        return longest.length;
    }

    /** The length of example i's longest sequence. */
    public int longest(int i) {
        return longest[i];
    }

    /** The total number of tokens of example i's sequences. */
    public int totalTokens(int i) {
        return total[i];
    }

    /** The metadata JSON written with the store. */
    public String meta() {
        return meta;
    }

    public Path file() {
        return file;
    }

    /** Reads example i from disk. */
    public Stored get(int i) {
        long at = offsets[i];
        int n = (int) (offsets[i + 1] - at);
        ByteBuffer b;
        try {
            b = read(ch, at, n);
        } catch (IOException e) {
            throw new AlignException(file + ": cannot read tokenized data: " + e.getMessage(), e);
        }
        int line = b.getInt();
        int nseq = b.getInt();
        List<Piece> seqs = new ArrayList<>(nseq);
        for (int s = 0; s < nseq; s++) {
            int len = b.getInt();
            int runs = b.getInt();
            boolean[] targets = new boolean[len];
            for (int r = 0; r < runs; r++) {
                int from = b.getInt();
                int to = b.getInt();
                Arrays.fill(targets, from, to, true);
            }
            long[] ids = new long[len];
            for (int k = 0; k < len; k++) {
                ids[k] = b.getInt();
            }
            seqs.add(new Piece(ids, targets));
        }
        double[] nums = new double[b.getInt()];
        for (int k = 0; k < nums.length; k++) {
            nums[k] = b.getDouble();
        }
        int ne = b.getInt();
        String extra = null;
        if (ne >= 0) {
            byte[] e = new byte[ne];
            b.get(e);
            extra = new String(e, StandardCharsets.UTF_8);
        }
        return new Stored(line, seqs, nums, extra);
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException e) {
            throw new AlignException(file + ": cannot close: " + e.getMessage(), e);
        }
    }

    /** Creates a store at {@code file} (overwritten). */
    public static Writer create(Path file) {
        return new Writer(file);
    }

    /** Appends examples, then writes index and metadata. */
    public static final class Writer implements AutoCloseable {
        private final Path file;
        private final CountingOut counter;
        private final DataOutputStream out;
        private long[] offsets = new long[1024];
        private int[] longest = new int[1024];
        private int[] total = new int[1024];
        private int count;
        private boolean done;

        private Writer(Path file) {
            this.file = file;
            try {
                Files.createDirectories(file.toAbsolutePath().getParent());
                counter = new CountingOut(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
                out = new DataOutputStream(counter);
                out.write(MAGIC);
            } catch (IOException e) {
                throw new AlignException(file + ": cannot write: " + e.getMessage(), e);
            }
        }

        /** Number of examples written. */
        public int count() {
            return count;
        }

        /** Appends one example. */
        public void add(int line, Encoder.Encoded e) {
            if (count == offsets.length) {
                offsets = Arrays.copyOf(offsets, count * 2);
                longest = Arrays.copyOf(longest, count * 2);
                total = Arrays.copyOf(total, count * 2);
            }
            offsets[count] = counter.written;
            int lmax = 0;
            long tot = 0;
            try {
                out.writeInt(line);
                out.writeInt(e.seqs().size());
                for (Piece p : e.seqs()) {
                    long[] ids = p.ids();
                    boolean[] t = p.targets();
                    lmax = Math.max(lmax, ids.length);
                    tot += ids.length;
                    out.writeInt(ids.length);
                    List<int[]> runs = new ArrayList<>();
                    for (int i = 0; i < t.length; i++) {
                        if (t[i] && (i == 0 || !t[i - 1])) {
                            runs.add(new int[] {i, i + 1});
                        } else if (t[i]) {
                            runs.get(runs.size() - 1)[1] = i + 1;
                        }
                    }
                    out.writeInt(runs.size());
                    for (int[] r : runs) {
                        out.writeInt(r[0]);
                        out.writeInt(r[1]);
                    }
                    for (long id : ids) {
                        if (id < 0 || id > Integer.MAX_VALUE) {
                            throw new AlignException("token id out of range: " + id);
                        }
                        out.writeInt((int) id);
                    }
                }
                out.writeInt(e.numbers().length);
                for (double d : e.numbers()) {
                    out.writeDouble(d);
                }
                if (e.extra() == null) {
                    out.writeInt(-1);
                } else {
                    byte[] x = e.extra().getBytes(StandardCharsets.UTF_8);
                    out.writeInt(x.length);
                    out.write(x);
                }
            } catch (IOException ex) {
                throw new AlignException(file + ": cannot write: " + ex.getMessage(), ex);
            }
            longest[count] = lmax;
            total[count] = (int) Math.min(Integer.MAX_VALUE, tot);
            count++;
        }

        /** Writes the index and {@code meta}, and closes the file. */
        public void finish(String meta) {
            try {
                long indexAt = counter.written;
                for (int i = 0; i < count; i++) {
                    out.writeLong(offsets[i]);
                    out.writeInt(longest[i]);
                    out.writeInt(total[i]);
                }
                long metaAt = counter.written;
                byte[] m = meta.getBytes(StandardCharsets.UTF_8);
                out.write(m);
                out.writeLong(indexAt);
                out.writeInt(count);
                out.writeLong(metaAt);
                out.writeInt(m.length);
                out.write(MAGIC);
                out.close();
                done = true;
            } catch (IOException e) {
                throw new AlignException(file + ": cannot write: " + e.getMessage(), e);
            }
        }

        /** Closes without finishing (the file is incomplete and should be deleted). */
        @Override
        public void close() {
            if (!done) {
                try {
                    out.close();
                } catch (IOException ignored) {
                    // the file is abandoned anyway
                }
                done = true;
            }
        }
    }

    private static final class CountingOut extends java.io.FilterOutputStream {
        long written;

        CountingOut(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            written++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            written += len;
        }
    }
}
