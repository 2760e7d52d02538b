package dev.align.po.dpo;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.align.core.AlignException;
import dev.align.core.data.TokenBatch;
import dev.align.core.io.SafeTensors;
import dev.align.core.nd.Tensors;
import dev.align.datasets.TokenizedDataset;
import dev.align.datasets.batch.Batches;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code precompute_ref_log_probs}: one pass of the reference model over a dataset before training,
 * without gradients, storing each pair's chosen and rejected log-prob sums; training then reads them
 * and runs the policy alone.
 *
 * <p>When the dataset is cached on disk ({@code cache: true}), the sums are cached beside it as
 * {@code <cache_dir>/<key>.reflogps.safetensors} (FLOAT32 {@code chosen} [N], {@code rejected} [N]),
 * the key being SHA-256 over the dataset's cache key (data file, tokenizer, tokenization settings) and
 * the reference model's weights hash ({@link #weightsHash}): the same data under the same reference is
 * computed once.
 */
public final class RefLogpsCache {
    /** Bumped when what is stored changes meaning. */
    public static final int VERSION = 1;
    private static final Logger LOG = LoggerFactory.getLogger(RefLogpsCache.class);

    private RefLogpsCache() {}

    /**
     * SHA-256 over a model directory's {@code config.json} and weight files ({@code *.safetensors} and the
     * shard index), in name order: the identity of the reference's weights.
     */
    public static String weightsHash(Path modelDir) {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(modelDir)) {
            s.filter(p -> {
                String n = p.getFileName().toString();
                return n.equals("config.json") || n.endsWith(".safetensors") || n.endsWith(".safetensors.index.json");
            }).forEach(files::add);
        } catch (IOException e) {
            throw new AlignException(modelDir + ": cannot list: " + e.getMessage(), e);
        }
        files.sort(Comparator.comparing(p -> p.getFileName().toString()));
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        for (Path f : files) {
            md.update((f.getFileName() + "\n").getBytes(StandardCharsets.UTF_8));
            try (InputStream in = Files.newInputStream(f)) {
                for (int r; (r = in.read(buf)) > 0; ) {
                    md.update(buf, 0, r);
                }
            } catch (IOException e) {
                throw new AlignException(f + ": cannot read: " + e.getMessage(), e);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The cache file of {@code ds} (which must be cached on disk) under the reference {@code refHash}. */
    public static Path file(TokenizedDataset ds, String refHash) {
        String store = ds.storeFile().getFileName().toString();
        MessageDigest md = sha256();
        md.update(("align-dpo-reflogps v" + VERSION + "\ndataset:" + store + "\nreference:" + refHash + "\n")
                .getBytes(StandardCharsets.UTF_8));
        return ds.storeFile().resolveSibling(HexFormat.of().formatHex(md.digest()) + ".reflogps.safetensors");
    }

    /**
     * The reference sums of every pair of {@code ds}: read from the cache, or computed in one no-grad
     * pass (pairs batched by length, {@code batchSize} per forward) and cached.
     *
     * @param cacheOnDisk whether {@code ds} is cached on disk (then so are the sums)
     * @param refHash the reference's {@link #weightsHash} (part of the key)
     */
    public static Reference.Precomputed load(TokenizedDataset ds, boolean cacheOnDisk, String refHash,
            Reference.FromModel ref, int batchSize, long padId, NDManager root) {
        Path file = cacheOnDisk ? file(ds, refHash) : null;
        if (file != null && Files.isRegularFile(file)) {
            Reference.Precomputed p = read(file, ds.size(), root);
            if (p != null) {
                return p;
            }
        }
        Reference.Precomputed p = compute(ds, ref, batchSize, padId, root);
        if (file != null) {
            write(file, p, refHash, root);
        }
        return p;
    }

    /** One pass of {@code ref} over every pair of {@code ds}. */
    public static Reference.Precomputed compute(TokenizedDataset ds, Reference.FromModel ref, int batchSize, long padId,
            NDManager root) {
        int n = ds.size();
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -ds.length(i))); // little padding per batch
        float[] chosen = new float[n];
        float[] rejected = new float[n];
        int window = ref.model().config().slidingWindow();
        for (int start = 0; start < n; start += batchSize) {
            int[] idx = new int[Math.min(batchSize, n - start)];
            for (int k = 0; k < idx.length; k++) {
                idx[k] = order[start + k];
            }
            TokenBatch b = Batches.preference(ds, idx, padId).batch();
            try (NDScope scope = new NDScope()) {
                Reference.Sums s = ref.logps(b.toTensors(root, window), idx, root);
                float[] c = s.chosen().toFloatArray();
                float[] r = s.rejected().toFloatArray();
                for (int k = 0; k < idx.length; k++) {
                    chosen[idx[k]] = c[k];
                    rejected[idx[k]] = r[k];
                }
            }
        }
        return new Reference.Precomputed(chosen, rejected);
    }

    private static Reference.Precomputed read(Path file, int n, NDManager root) {
        try (SafeTensors.Reader r = SafeTensors.open(file); NDScope scope = new NDScope()) {
            float[] c = r.read("chosen", root).toFloatArray();
            float[] j = r.read("rejected", root).toFloatArray();
            if (c.length != n || j.length != n) {
                LOG.warn("{}: holds {} pairs, the dataset {}; computing again", file, c.length, n);
                return null;
            }
            return new Reference.Precomputed(c, j);
        } catch (RuntimeException e) {
            LOG.warn("{}: unreadable reference log-probs, computing again ({})", file, e.getMessage());
            return null;
        }
    }

    private static void write(Path file, Reference.Precomputed p, String refHash, NDManager root) {
        try (NDScope scope = new NDScope()) {
            Shape s = new Shape(p.chosen().length);
            SafeTensors.write(file, List.of(
                    new SafeTensors.Tensor("chosen", Tensors.floats(root, p.chosen(), s), SafeTensors.Dtype.F32),
                    new SafeTensors.Tensor("rejected", Tensors.floats(root, p.rejected(), s), SafeTensors.Dtype.F32)),
                    Map.of("format", "align-dpo-reflogps", "version", String.valueOf(VERSION), "reference", refHash));
        } catch (AlignException e) {
            LOG.warn("{}: cannot cache the reference log-probs ({}); they are used from memory", file, e.getMessage());
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
