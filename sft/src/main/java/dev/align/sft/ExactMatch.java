package dev.align.sft;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.BadInputException;
import dev.align.core.generate.Generation;
import dev.align.core.generate.GenerationConfig;
import dev.align.core.generate.Generator;
import dev.align.core.generate.SamplingParams;
import dev.align.core.model.DecoderLM;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.read.RecordSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Exact-match accuracy of greedy answers to {@code {"prompt", "completion"}} questions, the demo's
 * measure: the generated completion (up to eos or the first newline, stripped) must equal the reference
 * completion (stripped).
 *
 * <p>Both sides are compared in the tokenizer's canonical form, {@code decode(encode(s))} (no special
 * tokens added, none skipped, so an out-of-vocabulary word still counts): for a tokenizer whose decoding restores the text (byte-level BPE, SentencePiece) this is the
 * text itself; for the bundled WordLevel tokenizer, which joins tokens with single spaces, it is the
 * token sequence ("The noosh is blue ." for " The noosh is blue."), so the comparison is exact over
 * tokens and ignores nothing else.
 */
public final class ExactMatch {
    private ExactMatch() {}

    /**
     * One question.
     *
     * @param prompt the prompt text
     * @param reference the reference completion
     */
    public record Item(String prompt, String reference) {}

    /**
     * One answer.
     *
     * @param item the question
     * @param generated the generated completion, cut at the first newline and stripped
     * @param correct whether it matches the reference
     */
    public record Answer(Item item, String generated, boolean correct) {}

    /**
     * All answers, in the order of the items.
     *
     * @param answers one per item
     */
    public record Result(List<Answer> answers) {
        /** Number of exact matches. */
        public int correct() {
            int n = 0;
            for (Answer a : answers) {
                if (a.correct()) {
                    n++;
                }
            }
            return n;
        }

        /** Exact matches / items. */
        public double accuracy() {
            return answers.isEmpty() ? 0 : (double) correct() / answers.size();
        }
    }

    /**
     * Reads {@code {"prompt", "completion"}} records (JSONL, JSON or CSV).
     *
     * @throws BadInputException listing every bad record
     */
    public static List<Item> read(Path file) {
        List<Item> items = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        RecordSource.read(file, row -> {
            JsonNode p = row.json().get("prompt");
            JsonNode c = row.json().get("completion");
            if (p == null || !p.isTextual()) {
                problems.add(row.origin().problem("prompt", p == null ? "missing field" : "expected a string"));
            } else if (c == null || !c.isTextual()) {
                problems.add(row.origin().problem("completion", c == null ? "missing field" : "expected a string"));
            } else {
                items.add(new Item(p.asText(), c.asText()));
            }
        }, problems::add);
        if (!problems.isEmpty()) {
            throw new BadInputException(problems);
        }
        if (items.isEmpty()) {
            throw new BadInputException(file + ": no records");
        }
        return items;
    }

    /**
     * Answers every item greedily ({@code batchSize} prompts per batch, prompts of similar length
     * together; at most {@code maxNewTokens} new tokens; stops at the tokenizer's eos or a newline) and
     * compares. Runs outside any gradient collector.
     */
    public static Result evaluate(DecoderLM model, Tokenizer tok, List<Item> items, int batchSize, int maxNewTokens) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be ≥ 1");
        }
        long[][] prompts = new long[items.size()][];
        for (int i = 0; i < prompts.length; i++) {
            prompts[i] = tok.encode(items.get(i).prompt());
        }
        Integer[] order = new Integer[prompts.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> prompts[i].length));
        Set<Long> eos = new LinkedHashSet<>();
        if (tok.eosId() != null) {
            eos.add((long) tok.eosId());
        }
        model.config().eosTokenIds().forEach(i -> eos.add((long) i));
        Integer pad = tok.padId() != null ? tok.padId() : tok.eosId();
        GenerationConfig cfg = GenerationConfig.of(maxNewTokens, SamplingParams.greedy())
                .withEosTokenIds(eos)
                .withStopStrings(List.of("\n"))
                .withPadTokenId(pad == null ? 0 : pad);
        Generator gen = new Generator(model, tok);
        Answer[] answers = new Answer[items.size()];
        for (int start = 0; start < order.length; start += batchSize) {
            int end = Math.min(order.length, start + batchSize);
            List<long[]> batch = new ArrayList<>();
            for (int k = start; k < end; k++) {
                batch.add(prompts[order[k]]);
            }
            List<Generation> g = gen.generate(batch, cfg);
            for (int k = start; k < end; k++) {
                Item it = items.get(order[k]);
                String text = firstLine(g.get(k - start).text());
                answers[order[k]] = new Answer(it, text, canonical(tok, text).equals(canonical(tok, it.reference())));
            }
        }
        return new Result(List.of(answers));
    }

    /** The text up to the first newline, stripped. */
    static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return (nl >= 0 ? s.substring(0, nl) : s).strip();
    }

    /**
     * {@code decode(encode(s.strip()))}, no special tokens added, stripped. Special tokens in the ids are
     * kept when decoding, so a word the vocabulary lacks stays visible as the unknown token.
     */
    static String canonical(Tokenizer tok, String s) {
        String t = s.strip();
        return t.isEmpty() ? "" : tok.decode(tok.encodePlain(t), false).strip();
    }
}
