package dev.align.datasets.store;

import dev.align.core.AlignException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The key of a tokenized result: SHA-256 over the data file's bytes, the tokenizer's files
 * ({@code tokenizer.json}, {@code tokenizer_config.json}, {@code special_tokens_map.json},
 * {@code chat_template.jinja}, whichever exist), the settings that change tokenization, the chat
 * renderer's id and the store format version. Any change to any of them gives a new key.
 */
public final class CacheKey {
    /** Bumped whenever tokenization or the store layout changes meaning. */
    public static final int VERSION = 1;
    /** The tokenizer files that are hashed. */
    public static final List<String> TOKENIZER_FILES =
            List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja");

    private CacheKey() {}

    /** The key, as 64 hex digits. */
    public static String of(Path data, Path tokenizerDir, String settings, String rendererId) {
        MessageDigest md = sha256();
        update(md, "align-datasets-cache v" + VERSION);
        update(md, "data:" + sha256(data));
        for (String f : TOKENIZER_FILES) {
            Path p = tokenizerDir.resolve(f);
            update(md, f + ":" + (Files.isRegularFile(p) ? sha256(p) : "absent"));
        }
        update(md, "settings:" + settings);
        update(md, "renderer:" + rendererId);
        return HexFormat.of().formatHex(md.digest());
    }

    /** SHA-256 of a file's bytes, streamed (the file may be larger than memory). */
    public static String sha256(Path file) {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new AlignException(file + ": cannot read: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void update(MessageDigest md, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        md.update(b);
        md.update((byte) '\n');
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
