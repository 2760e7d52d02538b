package dev.align.datasets.tokenize;

import ai.djl.huggingface.tokenizers.Encoding;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.data.TokenRows.Piece;
import dev.align.core.tokenizer.PromptCompletion;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.datasets.format.Content;
import dev.align.datasets.format.FieldMap;
import dev.align.datasets.format.RankedPair;
import dev.align.datasets.format.Sample;
import dev.align.datasets.read.Origin;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Tokenizes validated samples under the shared convention ({@link PromptCompletion}):
 *
 * <ul>
 *   <li>text: {@code encode(prompt)} and {@code encode(prompt + completion + eos)} (eos unless the
 *       completion already ends with it, and only with {@code appendEos}); the prompt's ids must be a
 *       prefix of the full ids; language-modelling text is {@code encode(text + eos)};
 *   <li>conversations: the chat template renders them (the prompt with the generation prompt, the
 *       prompt + completion without), the text is tokenized without the post-processor's special tokens
 *       (as {@code apply_chat_template} does; the template writes bos itself), and no eos is appended
 *       (the template's end-of-turn token closes the turn). The prompt's rendering must be a prefix of
 *       the full rendering, and its ids a prefix of the full ids.
 * </ul>
 *
 * Loss targets: completion tokens only ({@code completionOnlyLoss}, the default) or every token; for
 * conversations with {@code assistantOnlyLoss}, only tokens of assistant turns (see
 * {@link AssistantMask}), intersected with the completion for prompt/completion conversations.
 *
 * <p>Every problem (template failure, prompt not a prefix, nothing to learn from) is reported as
 * {@code FILE:LINE: field: reason}.
 */
public final class Encoder {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One example, tokenized, before truncation.
     *
     * @param seqs its sequences: one for SFT, unpaired and prompt examples; chosen then rejected for
     *     preference pairs; the K responses of a ranking group
     * @param numbers preference: {margin}; unpaired: {1 = desirable, 0 = undesirable}; ranking:
     *     {better, worse, margin} per pair
     * @param extra prompt examples: {"text": the prompt as tokenized, "extra": the other columns}; else null
     */
    public record Encoded(List<Piece> seqs, double[] numbers, String extra) {}

    /** Loss and eos options. */
    public record Options(boolean appendEos, boolean completionOnlyLoss, boolean assistantOnlyLoss) {}

    private final Tokenizer tok;
    private final Supplier<ChatRenderer> renderer;
    private final FieldMap map;
    private final Options opt;

    public Encoder(Tokenizer tok, Supplier<ChatRenderer> renderer, FieldMap map, Options opt) {
        this.tok = tok;
        this.renderer = renderer;
        this.map = map;
        this.opt = opt;
    }

    /** A problem found while tokenizing: reported, and the record skipped. */
    private static final class Bad extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Bad() {
            super(null, null, false, false);
        }
    }

    /** Tokenizes {@code s}; null (problems reported) when it cannot be used. */
    public Encoded encode(Sample s, Consumer<String> problems) {
        Ctx c = new Ctx(s.origin(), problems);
        try {
            if (s instanceof Sample.Text t) {
                return text(c, t);
            }
            if (s instanceof Sample.PromptCompletion pc) {
                return promptCompletion(c, pc);
            }
            if (s instanceof Sample.Prompt p) {
                return prompt(c, p);
            }
            if (s instanceof Sample.Preference p) {
                return new Encoded(List.of(pair(c, p.prompt(), p.chosen(), "chosen"),
                        pair(c, p.prompt(), p.rejected(), "rejected")), new double[] {p.margin()}, null);
            }
            if (s instanceof Sample.Unpaired u) {
                return new Encoded(List.of(pair(c, u.prompt(), u.completion(), "completion")),
                        new double[] {u.label() ? 1 : 0}, null);
            }
            return ranking(c, (Sample.Ranking) s);
        } catch (Bad e) {
            return null;
        }
    }

    private final class Ctx {
        final Origin origin;
        final Consumer<String> problems;

        Ctx(Origin origin, Consumer<String> problems) {
            this.origin = origin;
            this.problems = problems;
        }

        Bad fail(String field, String reason) {
            problems.accept(origin.problem(map.column(field), reason));
            return new Bad();
        }

        ChatRenderer.Rendering render(String field, List<Map<String, Object>> messages, boolean addGenerationPrompt) {
            try {
                return renderer.get().render(messages, addGenerationPrompt);
            } catch (RuntimeException e) {
                throw fail(field, "template failure: " + e.getMessage());
            }
        }
    }

    private Encoded text(Ctx c, Sample.Text t) {
        if (!t.text().conversational()) {
            long[] ids = tok.encode(withEos(t.text().text()));
            return new Encoded(List.of(all(ids, true)), new double[0], null);
        }
        List<Map<String, Object>> msgs = t.text().asMaps();
        ChatRenderer.Rendering full = c.render("messages", msgs, false);
        Encoding enc = tok.encoding(full.text(), false);
        long[] ids = enc.getIds();
        boolean[] targets;
        if (opt.assistantOnlyLoss()) {
            targets = assistantTokens(c, "messages", msgs, full, enc);
            if (!any(targets)) {
                throw c.fail("messages", "no assistant tokens to train on (assistant-only loss needs an assistant turn)");
            }
        } else {
            targets = new boolean[ids.length];
            Arrays.fill(targets, true);
        }
        return new Encoded(List.of(new Piece(ids, targets)), new double[0], null);
    }

    private Encoded promptCompletion(Ctx c, Sample.PromptCompletion pc) {
        if (!pc.prompt().conversational()) {
            PromptCompletion e = encodeText(c, pc.prompt().text(), pc.completion().text(), "completion");
            return new Encoded(List.of(opt.completionOnlyLoss() ? Piece.fromPromptLength(e.ids(), e.promptLength())
                    : all(e.ids(), true)), new double[0], null);
        }
        List<Map<String, Object>> msgs = pc.prompt().concat(pc.completion()).asMaps();
        ChatRenderer.Rendering full = c.render("completion", msgs, false);
        Encoding enc = tok.encoding(full.text(), false);
        int promptLength = conversationalPromptLength(c, pc.prompt(), full.text(), enc.getIds(), "completion");
        long[] ids = enc.getIds();
        boolean[] targets = new boolean[ids.length];
        Arrays.fill(targets, opt.completionOnlyLoss() ? promptLength : 0, ids.length, true);
        if (opt.assistantOnlyLoss()) {
            boolean[] assistant = assistantTokens(c, "completion", msgs, full, enc);
            for (int i = 0; i < ids.length; i++) {
                targets[i] &= assistant[i];
            }
        }
        if (!any(targets)) {
            throw c.fail("completion", "no completion tokens to train on");
        }
        return new Encoded(List.of(new Piece(ids, targets)), new double[0], null);
    }

    private Encoded prompt(Ctx c, Sample.Prompt p) {
        String text;
        long[] ids;
        if (p.prompt().conversational()) {
            text = c.render("prompt", p.prompt().asMaps(), true).text();
            ids = tok.encodePlain(text);
        } else {
            text = p.prompt().text();
            ids = tok.encode(text);
        }
        if (ids.length == 0) {
            throw c.fail("prompt", "the prompt has no tokens");
        }
        ObjectNode extra = JSON.createObjectNode();
        extra.put("text", text);
        extra.set("extra", p.extra());
        return new Encoded(List.of(all(ids, false)), new double[0], extra.toString());
    }

    private Encoded ranking(Ctx c, Sample.Ranking r) {
        List<Piece> seqs = new ArrayList<>();
        for (int i = 0; i < r.responses().size(); i++) {
            seqs.add(pair(c, r.prompt(), r.responses().get(i), "responses"));
        }
        double[] nums = new double[3 * r.pairs().size()];
        int k = 0;
        for (RankedPair q : r.pairs()) {
            nums[k++] = q.better();
            nums[k++] = q.worse();
            nums[k++] = q.margin();
        }
        return new Encoded(seqs, nums, null);
    }

    /** A prompt and one completion (chosen, rejected, a response): targets over the completion. */
    private Piece pair(Ctx c, Content prompt, Content completion, String field) {
        if (!prompt.conversational()) {
            PromptCompletion e = encodeText(c, prompt.text(), completion.text(), field);
            return Piece.fromPromptLength(e.ids(), e.promptLength());
        }
        ChatRenderer.Rendering full = c.render(field, prompt.concat(completion).asMaps(), false);
        long[] ids = tok.encodePlain(full.text());
        int promptLength = conversationalPromptLength(c, prompt, full.text(), ids, field);
        return Piece.fromPromptLength(ids, promptLength);
    }

    private PromptCompletion encodeText(Ctx c, String prompt, String completion, String field) {
        PromptCompletion e;
        try {
            e = PromptCompletion.encode(tok, prompt, completion, opt.appendEos());
        } catch (AlignException ex) {
            throw c.fail(field, "prompt not a prefix: " + ex.getMessage());
        }
        if (e.completionLength() == 0) {
            throw c.fail(field, "empty completion: it has no tokens");
        }
        return e;
    }

    /** The prompt's token count; checks that its rendering and its ids are prefixes of the full ones. */
    private int conversationalPromptLength(Ctx c, Content prompt, String fullText, long[] fullIds, String field) {
        String promptText = c.render("prompt", prompt.asMaps(), true).text();
        if (!fullText.startsWith(promptText)) {
            throw c.fail("prompt", "template failure: the prompt rendered with the generation prompt is not a prefix"
                    + " of the rendered conversation");
        }
        long[] promptIds = tok.encodePlain(promptText);
        if (promptIds.length > fullIds.length
                || !Arrays.equals(promptIds, 0, promptIds.length, fullIds, 0, promptIds.length)) {
            throw c.fail(field, "prompt not a prefix: the prompt's tokens are not a prefix of the conversation's"
                    + " tokens (the tokenizer merges across the boundary)");
        }
        if (promptIds.length == fullIds.length) {
            throw c.fail(field, "empty completion: it has no tokens");
        }
        return promptIds.length;
    }

    private boolean[] assistantTokens(Ctx c, String field, List<Map<String, Object>> msgs,
            ChatRenderer.Rendering full, Encoding enc) {
        List<int[]> spans;
        try {
            spans = AssistantMask.spans(renderer.get(), msgs, full);
        } catch (AssistantMask.TemplateMismatch e) {
            throw c.fail(field, "template failure: " + e.getMessage());
        } catch (RuntimeException e) {
            throw c.fail(field, "template failure: " + e.getMessage());
        }
        return AssistantMask.tokens(enc, full.text(), spans);
    }

    private String withEos(String text) {
        String eos = tok.eosToken();
        return opt.appendEos() && eos != null && !text.endsWith(eos) ? text + eos : text;
    }

    private static Piece all(long[] ids, boolean value) {
        boolean[] t = new boolean[ids.length];
        Arrays.fill(t, value);
        return new Piece(ids, t);
    }

    private static boolean any(boolean[] b) {
        for (int i = 1; i < b.length; i++) {
            if (b[i]) {
                return true;
            }
        }
        return false;
    }
}
