package dev.align.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.align.core.Engines;
import dev.align.core.io.SafeTensors;
import dev.align.core.io.WeightFiles;
import dev.align.core.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Load → save writes exactly the tensors Hugging Face wrote (same names, dtypes, shapes and bytes;
 * tied heads left out; GPT-2 Conv1D layout and BF16 restored), the same config.json, and load → save →
 * load gives bit-identical parameters, whole-file or sharded.
 */
class CheckpointRoundTripTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"llama_gqa", "qwen2_tied_bf16", "gpt2", "rm_llama"})
    void savesWhatItLoaded(String ckpt) throws Exception {
        Path src = Fixtures.reference(ckpt);
        Path out = tmp.resolve("out");
        Path sharded = tmp.resolve("sharded");
        try (NDManager root = Engines.newManager()) {
            try (DecoderLM m = DecoderLM.load(src, root)) {
                m.save(out);
                m.save(sharded, 40_000); // forces several shards
            }
            assertSameTensors(src, out);
            assertTrue(Files.exists(sharded.resolve(WeightFiles.INDEX)));
            assertFalse(Files.exists(sharded.resolve(WeightFiles.SINGLE)));
            assertSameTensors(src, sharded);
            ObjectMapper json = new ObjectMapper();
            assertEquals(json.readTree(src.resolve("config.json").toFile()), json.readTree(out.resolve("config.json").toFile()));
            try (DecoderLM a = DecoderLM.load(out, root); DecoderLM b = DecoderLM.load(sharded, root)) {
                for (DecoderLM.Param p : a.parameters()) {
                    assertArrayEquals(p.value().toFloatArray(), b.parameter(p.name()).value().toFloatArray(), p.name());
                }
            }
        }
    }

    private static void assertSameTensors(Path expectedDir, Path actualDir) {
        try (WeightFiles e = WeightFiles.open(expectedDir); WeightFiles a = WeightFiles.open(actualDir)) {
            assertEquals(e.names(), a.names());
            for (String n : e.names()) {
                SafeTensors.Entry ee = e.entry(n);
                SafeTensors.Entry ae = a.entry(n);
                assertEquals(ee.dtype(), ae.dtype(), n);
                assertArrayEquals(ee.shape(), ae.shape(), n);
                assertArrayEquals(bytes(e, n), bytes(a, n), n + " bytes");
            }
        }
    }

    private static byte[] bytes(WeightFiles w, String name) {
        SafeTensors.Entry en = w.entry(name);
        try (var ch = java.nio.channels.FileChannel.open(w.fileOf(name))) {
            java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long start = 8 + len.flip().getLong() + en.begin();
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) (en.end() - en.begin()));
            ch.read(buf, start);
            return buf.array();
        } catch (java.io.IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
    }
}
