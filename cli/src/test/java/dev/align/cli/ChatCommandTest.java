package dev.align.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import dev.align.core.Engines;
import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.Generator;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code align chat} with a stand-in chat template: turns, history, streaming output, /reset, /exit, EOF. */
class ChatCommandTest {
    private static final Path LLAMA = Fixtures.reference("llama_gqa");

    @Test
    void conversationIsRenderedTurnByTurnAndStreamed() {
        List<List<Map<String, Object>>> rendered = new ArrayList<>();
        ChatRenderer r = (messages, gen) -> {
            rendered.add(List.copyOf(messages));
            return GenerateCommandTest.render(messages, gen);
        };
        String input = "bidu bulu\n\nbega\n/reset\nbena\n/exit\nbilo\n";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ChatCommand cmd = new ChatCommand(r, new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertEquals(0, GenerateCommandTest.run(cmd, new StringWriter(), "--model", LLAMA.toString(),
                "--max-new-tokens", "6", "--system", "boko"));
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(3, lines.length, "one reply per user line before /exit");
        assertEquals(3, rendered.size());
        // turn 2 sees the system message, turn 1 and its reply; after /reset only the system message is left
        assertEquals(List.of("system", "user", "assistant", "user"), roles(rendered.get(1)));
        assertEquals(lines[0].strip(), rendered.get(1).get(2).get("content"));
        assertEquals(List.of("system", "user"), roles(rendered.get(2)));
        assertEquals("bena", rendered.get(2).get(1).get("content"));
        // each streamed reply is what the generator gives for the rendered conversation
        try (Tokenizer tok = Tokenizer.load(LLAMA); NDManager root = Engines.newManager();
                DecoderLM lm = DecoderLM.load(LLAMA, root)) {
            Generator gen = new Generator(lm, tok);
            GenerationConfig gc = GenerationConfig.forModel(LLAMA, tok).withMaxNewTokens(6);
            for (int t = 0; t < 3; t++) {
                long[] ids = tok.encodePlain(GenerateCommandTest.render(rendered.get(t), true));
                assertEquals(gen.generate(List.of(ids), gc).get(0).text(), lines[t], "turn " + t);
            }
        }
    }

    @Test
    void rawModeContinuesEachLineAndEndsAtEndOfInput() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ChatCommand cmd = new ChatCommand((m, g) -> {
            throw new AssertionError("no template in raw mode");
        }, new ByteArrayInputStream("bidu bulu bena\nbega\n".getBytes(StandardCharsets.UTF_8)),
                new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertEquals(0, GenerateCommandTest.run(cmd, new StringWriter(), "--model", LLAMA.toString(),
                "--max-new-tokens", "5", "--raw"));
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(2, lines.length);
        try (Tokenizer tok = Tokenizer.load(LLAMA); NDManager root = Engines.newManager();
                DecoderLM lm = DecoderLM.load(LLAMA, root)) {
            GenerationConfig gc = GenerationConfig.forModel(LLAMA, tok).withMaxNewTokens(5);
            assertEquals(new Generator(lm, tok).generate(List.of(tok.encode("bega")), gc).get(0).text(), lines[1]);
        }
    }

    private static List<Object> roles(List<Map<String, Object>> messages) {
        List<Object> out = new ArrayList<>();
        messages.forEach(m -> out.add(m.get("role")));
        return out;
    }
}
