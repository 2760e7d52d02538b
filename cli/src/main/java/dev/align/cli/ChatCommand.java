package dev.align.cli;

import ai.djl.ndarray.NDManager;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.generate.Generation;
import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.GenerationListener;
import dev.align.core.generate.Generator;
import dev.align.core.generate.SamplingParams;
import dev.align.core.model.DecoderLM;
import dev.align.core.model.ModelConfig;
import dev.align.core.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code align chat}: an interactive session. Each line read is a user message; the conversation so far
 * is rendered with the tokenizer's chat template (with the generation prompt) and the reply is
 * streamed to standard output as it is decoded, then kept in the conversation. {@code /reset} forgets
 * the conversation; end of input or {@code /exit} ends the session. With {@code --raw} there is no
 * template and no history: each line is a prompt to continue.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Interactive chat with streaming output (one user message per line; /reset, /exit).")
final class ChatCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face model directory (causal LM)")
    Path model;

    @Option(names = "--system", description = "a system message opening the conversation")
    String system;

    @Option(names = "--raw", description = "no chat template and no history: continue each line as plain text")
    boolean raw;

    @Mixin
    SamplingOptions sampling = new SamplingOptions();

    private final ChatRenderer renderer;
    private final InputStream in;
    private final PrintStream out;

    ChatCommand() {
        this(null, System.in, System.out);
    }

    /** With a stand-in chat template and streams (tests). */
    ChatCommand(ChatRenderer renderer, InputStream in, PrintStream out) {
        this.renderer = renderer;
        this.in = in;
        this.out = out;
    }

    @Override
    public Integer call() throws IOException {
        SamplingParams params = sampling.params();
        ModelConfig cfg = ModelConfig.load(model);
        if (cfg.head() != ModelConfig.Head.CAUSAL_LM) {
            throw new AlignException(model + ": a causal LM is needed, this is a sequence-classification model");
        }
        boolean interactive = System.console() != null && in == System.in;
        try (Tokenizer tok = Tokenizer.load(model);
                NDManager root = Engines.newManager();
                DecoderLM lm = DecoderLM.load(model, root)) {
            ChatRenderer r = renderer != null ? renderer : ChatRenderer.of(tok);
            GenerationConfig gc = GenerationConfig.forModel(model, tok)
                    .withMaxNewTokens(sampling.maxNewTokens)
                    .withStopStrings(sampling.stops);
            Generator gen = new Generator(lm, tok);
            List<Map<String, Object>> messages = new ArrayList<>();
            if (system != null && !raw) {
                messages.add(Map.of("role", "system", "content", system));
            }
            int opening = messages.size();
            BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            int turn = 0;
            while (true) {
                if (interactive) {
                    System.err.print("> ");
                    System.err.flush();
                }
                String line = lines.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    return 0;
                }
                if (line.strip().equals("/reset")) {
                    messages.subList(opening, messages.size()).clear();
                    continue;
                }
                if (line.isBlank()) {
                    continue;
                }
                long[] ids;
                if (raw) {
                    ids = tok.encode(line);
                } else {
                    messages.add(Map.of("role", "user", "content", line));
                    ids = tok.encodePlain(r.render(messages, true)); // the template writes its special tokens
                }
                if (ids.length == 0 || (long) ids.length + gc.maxNewTokens() > cfg.maxPositions()) {
                    System.err.println("error: the conversation (" + ids.length + " tokens) + --max-new-tokens "
                            + gc.maxNewTokens() + " does not fit max_position_embeddings " + cfg.maxPositions()
                            + "; /reset to start over");
                    if (!raw) {
                        messages.remove(messages.size() - 1);
                    }
                    continue;
                }
                Generation g = gen.generate(List.of(ids), gc.withSampling(params.withSeed(params.seed() + turn++)),
                        new GenerationListener() {
                            @Override
                            public void onText(int row, String delta) {
                                out.print(delta);
                                out.flush();
                            }
                        }).get(0);
                out.println();
                out.flush();
                if (!raw) {
                    messages.add(Map.of("role", "assistant", "content", g.text().strip()));
                }
            }
        }
    }
}
