package dev.align.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.nd.Tensors;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path tmp;

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 is exactly half-way between two BF16 values: ties go to the even one (1.0)
        assertEquals((short) 0x3F80, SafeTensors.f32ToBf16(Float.intBitsToFloat(0x3F808000)));
        // 1 + 3·2^-8 is half-way too: rounds up to the even mantissa 0x3F82
        assertEquals((short) 0x3F82, SafeTensors.f32ToBf16(Float.intBitsToFloat(0x3F818000)));
        // just above half-way rounds up
        assertEquals((short) 0x3F81, SafeTensors.f32ToBf16(Float.intBitsToFloat(0x3F808001)));
        assertEquals((short) 0xC000, SafeTensors.f32ToBf16(-2f));
        assertTrue(Float.isNaN(Float.intBitsToFloat(SafeTensors.f32ToBf16(Float.NaN) << 16)));
        assertEquals((short) 0x7F80, SafeTensors.f32ToBf16(Float.POSITIVE_INFINITY));
    }

    @Test
    void roundTripsEveryDtypeAndChunks() {
        long saved = SafeTensors.chunkBytes;
        SafeTensors.chunkBytes = 64; // force the sliced read/write path
        try (NDManager m = Engines.newManager()) {
            float[] vals = new float[40 * 3];
            for (int i = 0; i < vals.length; i++) {
                vals[i] = (float) Math.sin(i) * 100;
            }
            NDArray f = Tensors.floats(m, vals, new Shape(40, 3));
            NDArray ids = Tensors.longs(m, new long[] {1, -2, 3}, new Shape(3));
            Path file = tmp.resolve("t.safetensors");
            SafeTensors.write(file, List.of(
                    new SafeTensors.Tensor("f32", f, SafeTensors.Dtype.F32),
                    new SafeTensors.Tensor("bf16", f, SafeTensors.Dtype.BF16),
                    new SafeTensors.Tensor("f16", f, SafeTensors.Dtype.F16),
                    new SafeTensors.Tensor("i64", ids, SafeTensors.Dtype.I64)), Map.of("format", "pt"));
            try (SafeTensors.Reader r = SafeTensors.open(file)) {
                assertEquals("pt", r.metadata().get("format"));
                assertArrayEquals(vals, r.read("f32", m).toFloatArray());
                float[] bf = r.read("bf16", m).toFloatArray();
                float[] h = r.read("f16", m).toFloatArray();
                for (int i = 0; i < vals.length; i++) {
                    assertEquals(vals[i], bf[i], Math.abs(vals[i]) / 128 + 1e-6, "bf16 " + i);
                    assertEquals(vals[i], h[i], Math.abs(vals[i]) / 1024 + 1e-3, "f16 " + i);
                }
                assertArrayEquals(new long[] {1, -2, 3}, r.read("i64", m).toLongArray());
                assertEquals(DataType.FLOAT32, r.read("bf16", m).getDataType());
                // BF16 written back from its F32 widening is bit-identical
                Path again = tmp.resolve("again.safetensors");
                SafeTensors.write(again, List.of(new SafeTensors.Tensor("bf16", r.read("bf16", m), SafeTensors.Dtype.BF16)), Map.of());
                try (SafeTensors.Reader r2 = SafeTensors.open(again)) {
                    assertArrayEquals(bf, r2.read("bf16", m).toFloatArray());
                }
            }
        } finally {
            SafeTensors.chunkBytes = saved;
        }
    }

    /** A tensor stored past the 2 GiB mark (a sparse file) is read through 64-bit offsets. */
    @Test
    void readsPastTwoGigabytes() throws Exception {
        long big = (1L << 31) + 4096; // bytes of a U8 tensor we never read
        String header = "{\"big\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + big + "," + (big + 8) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path file = tmp.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
            raf.write(len.array());
            raf.write(h);
            raf.seek(8 + h.length + big);
            ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-7f);
            raf.write(tail.array());
        }
        try (NDManager m = Engines.newManager(); SafeTensors.Reader r = SafeTensors.open(file)) {
            assertArrayEquals(new float[] {1.5f, -7f}, r.read("tail", m).toFloatArray());
        }
    }

    @Test
    void badFilesAreClearErrors() throws Exception {
        Path tiny = tmp.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertTrue(assertThrows(AlignException.class, () -> SafeTensors.open(tiny)).getMessage().contains("too short"));

        Path lies = tmp.resolve("lies.safetensors");
        writeRaw(lies, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}", 16);
        AlignException e = assertThrows(AlignException.class, () -> SafeTensors.open(lies));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("needs 16"), e.getMessage());

        Path truncated = tmp.resolve("truncated.safetensors");
        writeRaw(truncated, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
        e = assertThrows(AlignException.class, () -> SafeTensors.open(truncated));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        Path badLen = tmp.resolve("badlen.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        Files.write(badLen, b.array());
        e = assertThrows(AlignException.class, () -> SafeTensors.open(badLen));
        assertTrue(e.getMessage().contains("header length"), e.getMessage());

        Path badJson = tmp.resolve("badjson.safetensors");
        writeRaw(badJson, "{not json", 0);
        assertTrue(assertThrows(AlignException.class, () -> SafeTensors.open(badJson)).getMessage().contains("JSON"));

        Path badType = tmp.resolve("badtype.safetensors");
        writeRaw(badType, "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4);
        assertTrue(assertThrows(AlignException.class, () -> SafeTensors.open(badType)).getMessage().contains("F8_E4M3"));
    }

    private static void writeRaw(Path file, String header, int dataBytes) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        Files.write(file, buf.array());
    }
}
