package dev.align.core.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.nd.Tensors;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format, read through memory maps with 64-bit offsets (files and tensors over 2 GiB
 * work) and written in the layout Hugging Face writes: an 8-byte little-endian header length, a JSON
 * header padded with spaces to a multiple of 8, then the raw little-endian tensor bytes.
 *
 * <p>Floating-point tensors are always handed to the engine as F32: BF16 is widened in Java (the engine
 * has no bfloat16) and F16 through the engine's cast. Writing narrows back, BF16 by round-to-nearest-even,
 * so a BF16 tensor read and written again is bit-identical.
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A header bigger than this is not a real safetensors header (HF caps it at 100 MB). */
    private static final long MAX_HEADER = 100L * 1024 * 1024;
    /** Tensors bigger than this are moved in slices along their first axis (tests lower it). */
    static long chunkBytes = 256L * 1024 * 1024;

    private SafeTensors() {}

    /** The element types of the format. */
    public enum Dtype {
        F64(8),
        F32(4),
        F16(2),
        BF16(2),
        I64(8),
        I32(4),
        I16(2),
        I8(1),
        U8(1),
        BOOL(1);

        private final int size;

        Dtype(int size) {
            this.size = size;
        }

        /** Bytes per element. */
        public int size() {
            return size;
        }

        /** Whether this is a floating-point type. */
        public boolean isFloat() {
            return this == F64 || this == F32 || this == F16 || this == BF16;
        }

        static Dtype parse(String s, Path file, String tensor) {
            try {
                return Dtype.valueOf(s);
            } catch (IllegalArgumentException e) {
                throw new AlignException(
                        file + ": tensor '" + tensor + "': unsupported dtype '" + s + "'");
            }
        }
    }

    /**
     * One tensor's header entry.
     *
     * @param name the tensor name
     * @param dtype the stored element type
     * @param shape the shape
     * @param begin byte offset of the data, relative to the start of the data section
     * @param end byte offset one past the data
     */
    public record Entry(String name, Dtype dtype, long[] shape, long begin, long end) {
        /** Number of elements. */
        public long numel() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        /** The shape as a DJL {@link Shape}. */
        public Shape djlShape() {
            return new Shape(shape);
        }
    }

    /**
     * A tensor to write.
     *
     * @param name the tensor name
     * @param array the values (any float type for float targets)
     * @param dtype the element type to store
     */
    public record Tensor(String name, NDArray array, Dtype dtype) {}

    /** Opens a file and validates its header; see {@link Reader}. */
    public static Reader open(Path file) {
        return new Reader(file);
    }

    /**
     * A validated, memory-mapped safetensors file. Every header entry is checked against the file:
     * known dtype, non-negative shape, byte count equal to elements × dtype size, data inside the file.
     */
    public static final class Reader implements Closeable {
        private final Path file;
        private final FileChannel channel;
        private final long dataStart;
        private final Map<String, Entry> entries;
        private final Map<String, String> metadata;

        private Reader(Path file) {
            this.file = file;
            if (!Files.isRegularFile(file)) {
                throw new AlignException(file + ": file not found");
            }
            try {
                channel = FileChannel.open(file, StandardOpenOption.READ);
            } catch (IOException e) {
                throw new AlignException(file + ": cannot open: " + e.getMessage(), e);
            }
            try {
                long size = channel.size();
                if (size < 8) {
                    throw bad("file is " + size + " bytes, too short for a safetensors header");
                }
                ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                readFully(lenBuf, 0);
                long headerLen = lenBuf.flip().getLong();
                if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > size - 8) {
                    throw bad(
                            "header length "
                                    + headerLen
                                    + " does not fit the file ("
                                    + size
                                    + " bytes): truncated or not a safetensors file");
                }
                ByteBuffer header = ByteBuffer.allocate((int) headerLen);
                readFully(header, 8);
                dataStart = 8 + headerLen;
                JsonNode root;
                try {
                    root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
                } catch (JsonProcessingException e) {
                    throw bad("header is not valid JSON: " + e.getOriginalMessage());
                }
                if (root == null || !root.isObject()) {
                    throw bad("header is not a JSON object");
                }
                long dataLen = size - dataStart;
                Map<String, Entry> map = new LinkedHashMap<>();
                Map<String, String> meta = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> f = it.next();
                    if (f.getKey().equals("__metadata__")) {
                        f.getValue().fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
                        continue;
                    }
                    map.put(f.getKey(), parseEntry(f.getKey(), f.getValue(), dataLen));
                }
                entries = Collections.unmodifiableMap(map);
                metadata = Collections.unmodifiableMap(meta);
            } catch (IOException e) {
                closeQuietly();
                throw new AlignException(file + ": cannot read: " + e.getMessage(), e);
            } catch (RuntimeException e) {
                closeQuietly();
                throw e;
            }
        }

        private Entry parseEntry(String name, JsonNode n, long dataLen) {
            JsonNode dt = n.get("dtype");
            JsonNode sh = n.get("shape");
            JsonNode off = n.get("data_offsets");
            if (dt == null || !dt.isTextual() || sh == null || !sh.isArray() || off == null
                    || !off.isArray() || off.size() != 2) {
                throw bad("tensor '" + name + "': header entry needs dtype, shape and data_offsets");
            }
            Dtype dtype = Dtype.parse(dt.asText(), file, name);
            long[] shape = new long[sh.size()];
            for (int i = 0; i < shape.length; i++) {
                if (!sh.get(i).canConvertToLong() || sh.get(i).asLong() < 0) {
                    throw bad("tensor '" + name + "': bad shape " + sh);
                }
                shape[i] = sh.get(i).asLong();
            }
            long begin = off.get(0).asLong();
            long end = off.get(1).asLong();
            Entry e = new Entry(name, dtype, shape, begin, end);
            long need;
            try {
                need = Math.multiplyExact(e.numel(), (long) dtype.size());
            } catch (ArithmeticException ex) {
                throw bad("tensor '" + name + "': shape " + Arrays.toString(shape) + " overflows");
            }
            if (begin < 0 || end < begin || end - begin != need) {
                throw bad(
                        "tensor '"
                                + name
                                + "': data_offsets ["
                                + begin
                                + ", "
                                + end
                                + "] hold "
                                + (end - begin)
                                + " bytes but "
                                + dtype
                                + " "
                                + Arrays.toString(shape)
                                + " needs "
                                + need);
            }
            if (end > dataLen) {
                throw bad(
                        "tensor '"
                                + name
                                + "' ends at data byte "
                                + end
                                + " but the file holds only "
                                + dataLen
                                + " data bytes: the file is truncated or its header lies");
            }
            return e;
        }

        private AlignException bad(String why) {
            return new AlignException(file + ": " + why);
        }

        private void readFully(ByteBuffer buf, long pos) throws IOException {
            while (buf.hasRemaining()) {
                int n = channel.read(buf, pos);
                if (n < 0) {
                    throw new IOException("unexpected end of file");
                }
                pos += n;
            }
        }

        /** The file this reader maps. */
        public Path file() {
            return file;
        }

        /** Header entries by name, in header order. */
        public Map<String, Entry> entries() {
            return entries;
        }

        /** The {@code __metadata__} map (empty if absent). */
        public Map<String, String> metadata() {
            return metadata;
        }

        /** The stored entry for {@code name}, or an error naming the file. */
        public Entry entry(String name) {
            Entry e = entries.get(name);
            if (e == null) {
                throw bad("no tensor named '" + name + "'");
            }
            return e;
        }

        /**
         * Reads a tensor into engine-owned memory. Floating types arrive as FLOAT32, integer types as
         * their own type.
         */
        public NDArray read(String name, NDManager manager) {
            Entry e = entry(name);
            long bytes = e.end() - e.begin();
            if (bytes > chunkBytes && e.shape().length > 0 && e.shape()[0] > 1) {
                return readChunked(e, manager);
            }
            return readRows(e, 0, e.shape().length == 0 ? 1 : e.shape()[0], manager);
        }

        private NDArray readChunked(Entry e, NDManager manager) {
            long rows = e.shape()[0];
            long rowBytes = (e.end() - e.begin()) / rows;
            long perChunk = Math.max(1, chunkBytes / Math.max(1, rowBytes));
            NDList parts = new NDList();
            try {
                for (long r = 0; r < rows; r += perChunk) {
                    parts.add(readRows(e, r, Math.min(rows, r + perChunk), manager));
                }
                return Tensors.concat(parts, 0);
            } finally {
                parts.close();
            }
        }

        /** Reads rows [r0, r1) of the first axis (the whole tensor for a scalar). */
        private NDArray readRows(Entry e, long r0, long r1, NDManager manager) {
            long[] shape = e.shape().clone();
            long rowElems = 1;
            for (int i = 1; i < shape.length; i++) {
                rowElems *= shape[i];
            }
            if (shape.length > 0) {
                shape[0] = r1 - r0;
            }
            long elems = shape.length == 0 ? 1 : rowElems * (r1 - r0);
            long off = dataStart + e.begin() + (shape.length == 0 ? 0 : r0 * rowElems * e.dtype().size());
            long len = elems * e.dtype().size();
            Shape s = new Shape(shape);
            if (len == 0) {
                return manager.zeros(s, engineType(e.dtype()));
            }
            MappedByteBuffer map;
            try {
                map = channel.map(FileChannel.MapMode.READ_ONLY, off, len);
            } catch (IOException ex) {
                throw new AlignException(file + ": cannot map tensor '" + e.name() + "': " + ex.getMessage(), ex);
            }
            map.order(ByteOrder.LITTLE_ENDIAN);
            switch (e.dtype()) {
                case BF16:
                    return Tensors.owned(manager, bf16ToF32(map, (int) elems), s, DataType.FLOAT32);
                case F16:
                case F64:
                    try (NDArray raw = Tensors.owned(manager, map, s, engineType(e.dtype()))) {
                        return raw.toType(DataType.FLOAT32, false);
                    }
                case I16:
                    throw bad("tensor '" + e.name() + "': I16 tensors are not supported by the engine");
                default:
                    return Tensors.owned(manager, map, s, engineType(e.dtype()));
            }
        }

        private void closeQuietly() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }

        @Override
        public void close() {
            closeQuietly();
        }
    }

    /** The engine type for a stored type (BF16 is widened to FLOAT32 before it reaches the engine). */
    static DataType engineType(Dtype d) {
        switch (d) {
            case F64:
                return DataType.FLOAT64;
            case F32:
            case BF16:
                return DataType.FLOAT32;
            case F16:
                return DataType.FLOAT16;
            case I64:
                return DataType.INT64;
            case I32:
                return DataType.INT32;
            case I8:
                return DataType.INT8;
            case U8:
                return DataType.UINT8;
            case BOOL:
                return DataType.BOOLEAN;
            default:
                throw new IllegalArgumentException("no engine type for " + d);
        }
    }

    /** The stored type that holds an engine type exactly. */
    public static Dtype storedType(DataType t) {
        switch (t) {
            case FLOAT64:
                return Dtype.F64;
            case FLOAT32:
                return Dtype.F32;
            case FLOAT16:
                return Dtype.F16;
            case INT64:
                return Dtype.I64;
            case INT32:
                return Dtype.I32;
            case INT8:
                return Dtype.I8;
            case UINT8:
                return Dtype.U8;
            case BOOLEAN:
                return Dtype.BOOL;
            default:
                throw new IllegalArgumentException("no safetensors type for " + t);
        }
    }

    /** Widens BF16 (the top half of an F32) to F32 in a new direct buffer. */
    static ByteBuffer bf16ToF32(ByteBuffer src, int elems) {
        ShortBuffer in = src.order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        ByteBuffer out = ByteBuffer.allocateDirect(elems * 4).order(ByteOrder.nativeOrder());
        FloatBuffer f = out.asFloatBuffer();
        for (int i = 0; i < elems; i++) {
            f.put(i, Float.intBitsToFloat((in.get(i) & 0xFFFF) << 16));
        }
        return out;
    }

    /** Rounds an F32 to BF16 bits, to nearest even; NaN stays NaN. */
    public static short f32ToBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /**
     * Writes tensors to {@code file} atomically (a temporary file renamed into place). Tensors are laid
     * out in name order; the header carries {@code metadata} (HF writes {@code {"format": "pt"}}).
     */
    public static void write(Path file, List<Tensor> tensors, Map<String, String> metadata) {
        List<Tensor> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparing(Tensor::name));
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Tensor t : sorted) {
            long[] shape = t.array().getShape().getShape();
            long bytes = t.array().size() * t.dtype().size();
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", t.dtype().name());
            var sh = e.putArray("shape");
            for (long d : shape) {
                sh.add(d);
            }
            var off = e.putArray("data_offsets");
            off.add(offset);
            off.add(offset + bytes);
            offset += bytes;
        }
        byte[] hjson;
        try {
            hjson = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new AlignException("cannot encode safetensors header: " + e.getMessage(), e);
        }
        int padded = (hjson.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(hjson);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        AtomicFiles.write(
                file,
                ch -> {
                    writeFully(ch, head);
                    for (Tensor t : sorted) {
                        writeTensor(ch, t);
                    }
                });
    }

    private static void writeTensor(FileChannel ch, Tensor t) throws IOException {
        NDArray a = t.array();
        long bytes = a.size() * t.dtype().size();
        if (bytes > chunkBytes && a.getShape().dimension() > 0 && a.getShape().get(0) > 1) {
            long rows = a.getShape().get(0);
            long perChunk = Math.max(1, rows * chunkBytes / bytes);
            for (long r = 0; r < rows; r += perChunk) {
                try (NDArray part = a.get(r + ":" + Math.min(rows, r + perChunk))) {
                    writeFully(ch, encode(part, t.dtype(), t.name()));
                }
            }
        } else if (a.size() > 0) {
            writeFully(ch, encode(a, t.dtype(), t.name()));
        }
    }

    /** The little-endian bytes of {@code a} stored as {@code dtype}. */
    private static ByteBuffer encode(NDArray a, Dtype dtype, String name) {
        DataType src = a.getDataType();
        if (dtype == Dtype.BF16) {
            if (src != DataType.FLOAT32) {
                try (NDArray f = a.toType(DataType.FLOAT32, false)) {
                    return encode(f, dtype, name);
                }
            }
            FloatBuffer in = a.toByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
            int n = in.remaining();
            ByteBuffer out = ByteBuffer.allocate(n * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out.putShort(f32ToBf16(in.get(i)));
            }
            return out.flip();
        }
        DataType target = engineType(dtype);
        if (src != target) {
            try (NDArray c = a.toType(target, false)) {
                return c.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            }
        }
        return a.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
