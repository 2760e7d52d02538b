package dev.align.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.align.core.Engines;
import dev.align.core.generate.Generation.FinishReason;
import dev.align.core.model.DecoderLM;
import dev.align.core.testing.Fixtures;
import dev.align.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Stop conditions, text, streaming and seeding of the generation loop, on the llama_gqa fixture. */
class GeneratorTest {
    private static final List<String> PROMPTS = List.of("bidu bulu bena bilo boko", "bega", "bimu bemo biza beli bobo");
    private static NDManager root;
    private static Tokenizer tok;
    private static DecoderLM model;
    private static List<long[]> prompts;

    @BeforeAll
    static void load() {
        root = Engines.newManager();
        tok = Tokenizer.load(Fixtures.reference("llama_gqa"));
        model = DecoderLM.load(Fixtures.reference("llama_gqa"), root);
        prompts = new ArrayList<>();
        PROMPTS.forEach(p -> prompts.add(tok.encode(p)));
    }

    @AfterAll
    static void close() {
        model.close();
        tok.close();
        root.close();
    }

    private static GenerationConfig greedy(int n) {
        return GenerationConfig.of(n, SamplingParams.greedy()).withPadTokenId(tok.padId());
    }

    @Test
    void maxNewTokensEndsEveryRowWithLength() {
        List<Generation> g = new Generator(model, tok).generate(prompts, greedy(7));
        for (Generation x : g) {
            assertEquals(7, x.length());
            assertEquals(FinishReason.LENGTH, x.finishReason());
            assertEquals(7, x.logprobs().length);
            assertEquals(7, x.rawLogprobs().length);
        }
        assertEquals(prompts.get(0).length, g.get(0).promptTokens());
    }

    /** Rows stop at their own eos; the others go on exactly as if nothing had stopped. */
    @Test
    void eosStopsRowsIndependently() {
        Generator gen = new Generator(model, tok);
        List<Generation> free = gen.generate(prompts, greedy(12));
        long eos0 = free.get(0).tokens()[2];
        long eos1 = free.get(1).tokens()[1];
        List<Generation> g = gen.generate(prompts, greedy(12).withEosTokenIds(Set.of(eos0, eos1)));
        for (int r = 0; r < 3; r++) {
            long[] f = free.get(r).tokens();
            int stop = -1;
            for (int i = 0; i < f.length && stop < 0; i++) {
                if (f[i] == eos0 || f[i] == eos1) {
                    stop = i;
                }
            }
            Generation x = g.get(r);
            if (stop < 0) {
                assertEquals(FinishReason.LENGTH, x.finishReason(), "row " + r);
                assertArrayEquals(f, x.tokens(), "row " + r);
            } else {
                assertEquals(FinishReason.EOS, x.finishReason(), "row " + r);
                assertArrayEquals(Arrays.copyOf(f, stop + 1), x.tokens(), "row " + r + " keeps tokens up to eos");
                assertArrayEquals(Arrays.copyOf(free.get(r).rawLogprobs(), stop + 1), x.rawLogprobs(), "row " + r);
            }
        }
        assertEquals(3, g.get(0).length());
        assertTrue(g.get(1).length() <= 2);
        assertEquals(FinishReason.EOS, g.get(0).finishReason());
    }

    @Test
    void textFollowsThePromptAndLeavesOutEos() {
        Generator gen = new Generator(model, tok);
        List<Generation> free = gen.generate(prompts, greedy(6));
        for (int r = 0; r < 3; r++) {
            long[] all = concat(prompts.get(r), free.get(r).tokens());
            assertEquals(tok.decode(all, true), tok.decode(prompts.get(r), true) + free.get(r).text(), "row " + r);
            assertTrue(free.get(r).text().startsWith(" "), "word-level text after a prompt starts with a space");
        }
        long eos = free.get(0).tokens()[3];
        Generation g = gen.generate(List.of(prompts.get(0)), greedy(6).withEosTokenIds(Set.of(eos))).get(0);
        assertEquals(FinishReason.EOS, g.finishReason());
        assertEquals(tok.decode(Arrays.copyOf(free.get(0).tokens(), 3), true), g.text().trim());
    }

    /** Stop strings on the decoded text of the new tokens: whole words, across tokens, inside a word. */
    @Test
    void stopStringsCutTheText() {
        Generator gen = new Generator(model, tok);
        List<Generation> free = gen.generate(prompts, greedy(10));
        String[] words = free.get(0).text().trim().split(" ");
        String third = words[2];
        // a whole word: stops on the third token, text ends before it
        Generation a = gen.generate(List.of(prompts.get(0)), greedy(10).withStopStrings(List.of(third))).get(0);
        int at = indexOfWord(words, third);
        assertEquals(FinishReason.STOP, a.finishReason());
        assertEquals(at + 1, a.length());
        assertEquals(" " + String.join(" ", Arrays.copyOf(words, at)) + " ", a.text());
        // across two tokens
        String span = words[3] + " " + words[4];
        Generation b = gen.generate(List.of(prompts.get(0)), greedy(10).withStopStrings(List.of("zzz", span))).get(0);
        assertEquals(FinishReason.STOP, b.finishReason());
        assertEquals(free.get(0).text().indexOf(span), b.text().length());
        assertTrue(b.length() <= 5);
        // part of a word, the earliest of two stop strings wins
        String part = words[1].substring(0, 2);
        Generation c = gen.generate(List.of(prompts.get(0)), greedy(10).withStopStrings(List.of(words[5], part))).get(0);
        assertEquals(FinishReason.STOP, c.finishReason());
        assertEquals(free.get(0).text().indexOf(part), c.text().length());
        // a batch where only one row meets the string
        List<Generation> d = gen.generate(prompts, greedy(10).withStopStrings(List.of(third)));
        assertEquals(FinishReason.STOP, d.get(0).finishReason());
        for (int r = 1; r < 3; r++) {
            if (!free.get(r).text().contains(third)) {
                assertEquals(FinishReason.LENGTH, d.get(r).finishReason());
                assertEquals(free.get(r).text(), d.get(r).text());
            }
        }
    }

    /** Streamed text pieces concatenate to the final text and never show a stop string. */
    @Test
    void streamingDeltasAddUpToTheText() {
        Generator gen = new Generator(model, tok);
        List<Generation> free = gen.generate(prompts, greedy(10));
        String stop = free.get(2).text().trim().split(" ")[6];
        StringBuilder[] seen = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
        int[] tokens = new int[3];
        int[] finished = new int[3];
        List<Generation> g = gen.generate(prompts, greedy(10).withStopStrings(List.of(stop)), new GenerationListener() {
            @Override
            public void onToken(int row, int index, long token) {
                assertEquals(tokens[row]++, index);
            }

            @Override
            public void onText(int row, String delta) {
                seen[row].append(delta);
                assertFalse(seen[row].toString().contains(stop), "streamed a stop string");
            }

            @Override
            public void onFinish(int row, Generation result) {
                finished[row]++;
            }
        });
        for (int r = 0; r < 3; r++) {
            assertEquals(g.get(r).text(), seen[r].toString(), "row " + r);
            assertEquals(g.get(r).length(), tokens[r]);
            assertEquals(1, finished[r]);
        }
        assertEquals(FinishReason.STOP, g.get(2).finishReason());
        // without stop strings the streamed text is the text decoded at the end
        StringBuilder s0 = new StringBuilder();
        gen.generate(List.of(prompts.get(0)), greedy(10), new GenerationListener() {
            @Override
            public void onText(int row, String delta) {
                s0.append(delta);
            }
        });
        assertEquals(free.get(0).text(), s0.toString());
    }

    @Test
    void seededSamplingIsReproducible() {
        Generator gen = new Generator(model, tok);
        GenerationConfig cfg = greedy(20).withSampling(SamplingParams.sample(1.0, 1234).withTopK(50));
        List<Generation> a = gen.generate(prompts, cfg);
        List<Generation> b = gen.generate(prompts, cfg);
        List<Generation> c = gen.generate(prompts, cfg.withSampling(cfg.sampling().withSeed(99)));
        boolean differs = false;
        for (int r = 0; r < 3; r++) {
            assertArrayEquals(a.get(r).tokens(), b.get(r).tokens());
            assertEquals(a.get(r).text(), b.get(r).text());
            differs |= !Arrays.equals(a.get(r).tokens(), c.get(r).tokens());
            for (int i = 0; i < a.get(r).length(); i++) {
                assertTrue(a.get(r).logprobs()[i] >= a.get(r).rawLogprobs()[i] - 1e-5,
                        "top-k renormalises: processed log-prob ≥ raw");
            }
        }
        assertTrue(differs);
        List<Generation> zero = gen.generate(prompts, greedy(20).withSampling(SamplingParams.sample(0.0, 5).withTopP(0.3)));
        List<Generation> greedy = gen.generate(prompts, greedy(20));
        for (int r = 0; r < 3; r++) {
            assertArrayEquals(greedy.get(r).tokens(), zero.get(r).tokens(), "temperature 0 is greedy");
        }
        assertNotEquals(0, a.get(0).rawLogprobs()[0]);
    }

    @Test
    void badRequestsAreRefused() {
        Generator gen = new Generator(model, tok);
        assertThrows(IllegalArgumentException.class, () -> gen.generate(List.of(new long[0]), greedy(3)));
        assertThrows(IllegalArgumentException.class, () -> gen.generate(List.of(new long[] {9999}), greedy(3)));
        assertThrows(IllegalArgumentException.class, () -> gen.generate(prompts, greedy(3000)));
        assertThrows(IllegalArgumentException.class,
                () -> new Generator(model, null).generate(prompts, greedy(3).withStopStrings(List.of("x"))));
    }

    private static int indexOfWord(String[] words, String w) {
        for (int i = 0; i < words.length; i++) {
            if (words[i].equals(w)) {
                return i;
            }
        }
        return -1;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
