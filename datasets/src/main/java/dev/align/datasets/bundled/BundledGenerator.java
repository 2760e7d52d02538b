package dev.align.datasets.bundled;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.io.AtomicFiles;
import dev.align.datasets.batch.SeededRandom;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Generates the bundled data (see {@code bundled/README.md}) from a seed: the same seed gives the same
 * bytes. Everything comes from one {@link SeededRandom} stream, drawn in a fixed order.
 *
 * <p>Splits: every entity has one of its four attributes held out (and 20% of the equations are held
 * out); {@code qa_test}, {@code rankings_test}, {@code preferences_test} and {@code verifiable_test}
 * ask only about held-out facts, the train files only about the others. The pre-training corpus states
 * every fact and equation, so held-out questions test whether fine-tuning taught the model to answer
 * from what it read in pre-training.
 */
public final class BundledGenerator {
    /** The seed of the checked-in files. */
    public static final long DEFAULT_SEED = 20250101L;
    /** Number of animals. */
    public static final int ENTITIES = 300;
    /** Train-corpus paragraphs per animal, and held-out ones. */
    static final int PARAGRAPHS_PER_ENTITY = 30;
    static final int TEST_PARAGRAPHS_PER_ENTITY = 2;
    /** Times each equation is stated in the train corpus, and in the held-out one. */
    static final int EQUATION_REPEATS = 20;
    static final int TEST_EQUATION_REPEATS = 2;
    static final int EQUATIONS_PER_PARAGRAPH = 6;

    /** The special tokens, in id order. */
    public static final List<String> SPECIAL_TOKENS = List.of("<unk>", "<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>");

    /** ChatML, with the assistant turns inside {@code {% generation %}} blocks. */
    public static final String CHAT_TEMPLATE = "{{ bos_token }}{% for message in messages %}"
            + "{{ '<|im_start|>' + message['role'] + '\\n' }}"
            + "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}"
            + "{% endgeneration %}{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}{{ '\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /** HF's Whitespace pre-tokenizer: {@code \w+|[^\w\s]+}. */
    static final Pattern WORD = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectWriter PRETTY = JSON.writer(new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private BundledGenerator() {}

    /** One question: a fact about an entity, or an equation. */
    private record Item(String kind, World.Entity e, World.Equation q) {
        String value() {
            return q != null ? Integer.toString(q.result()) : e.get(kind);
        }

        String name() {
            return e == null ? null : e.name();
        }

        String prompt() {
            return String.format(Texts.PROMPT, Texts.fill(Texts.QUESTIONS.get(kind), name(), null, q));
        }

        String correct() {
            return Texts.fill(Texts.ANSWERS.get(kind), name(), q == null ? value() : null, q);
        }

        String curt() {
            return Texts.fill(Texts.CURT.get(kind), name(), q == null ? value() : null, q);
        }

        String wrong(SeededRandom rng) {
            if (q != null) {
                int w;
                do {
                    w = q.result() + (rng.nextInt(2) == 0 ? -1 : 1) * (1 + rng.nextInt(3));
                } while (w < 0 || w == q.result());
                World.Equation bad = new World.Equation(q.a(), q.op(), q.b(), w);
                return Texts.fill(Texts.ANSWERS.get(kind), null, null, bad);
            }
            List<String> values = switch (kind) {
                case "color" -> World.COLORS;
                case "home" -> World.HOMES;
                case "food" -> World.FOODS;
                default -> World.SIZES;
            };
            String v;
            do {
                v = World.pick(rng, values);
            } while (v.equals(value()));
            return Texts.fill(Texts.ANSWERS.get(kind), name(), v, null);
        }
    }

    /** Every file, name → bytes, for {@code seed}. */
    public static Map<String, byte[]> generate(long seed) {
        SeededRandom rng = new SeededRandom(seed);
        World world = World.create(rng, ENTITIES);

        // held-out facts: one attribute per entity; held-out equations: 20%
        List<Item> trainItems = new ArrayList<>();
        List<Item> testItems = new ArrayList<>();
        for (World.Entity e : world.entities()) {
            int held = rng.nextInt(World.ATTRIBUTES.size());
            for (int a = 0; a < World.ATTRIBUTES.size(); a++) {
                (a == held ? testItems : trainItems).add(new Item(World.ATTRIBUTES.get(a), e, null));
            }
        }
        for (World.Equation q : world.equations()) {
            (rng.nextInt(5) == 0 ? testItems : trainItems).add(new Item(q.op(), null, q));
        }
        rng.shuffle(trainItems);
        rng.shuffle(testItems);

        List<String> trainDocs = corpus(world, rng, PARAGRAPHS_PER_ENTITY, EQUATION_REPEATS);
        List<String> testDocs = corpus(world, rng, TEST_PARAGRAPHS_PER_ENTITY, TEST_EQUATION_REPEATS);

        Map<String, byte[]> out = new LinkedHashMap<>();
        out.put("corpus.txt", lines(trainDocs));
        out.put("pretrain_train.jsonl", jsonl(trainDocs.stream().map(d -> obj("text", d)).toList()));
        out.put("pretrain_test.jsonl", jsonl(testDocs.stream().map(d -> obj("text", d)).toList()));
        out.put("qa_train.jsonl", jsonl(trainItems.stream().map(BundledGenerator::qa).toList()));
        out.put("qa_test.jsonl", jsonl(testItems.stream().map(BundledGenerator::qa).toList()));
        List<ObjectNode> rankTrain = rankings(trainItems, rng);
        List<ObjectNode> rankTest = rankings(testItems, rng);
        out.put("rankings_train.jsonl", jsonl(rankTrain));
        out.put("rankings_test.jsonl", jsonl(rankTest));
        out.put("preferences_train.jsonl", jsonl(preferences(rankTrain)));
        out.put("preferences_test.jsonl", jsonl(preferences(rankTest)));
        out.put("verifiable_train.jsonl", jsonl(verifiable(trainItems)));
        out.put("verifiable_test.jsonl", jsonl(verifiable(testItems)));
        out.put("world.json", pretty(worldJson(world)));

        Set<String> vocab = new TreeSet<>(Texts.ROLES);
        for (Map.Entry<String, byte[]> f : out.entrySet()) {
            Matcher m = WORD.matcher(new String(f.getValue(), StandardCharsets.UTF_8));
            if (f.getKey().endsWith(".jsonl")) {
                // words of the values, not of the JSON syntax: read back every string
                m = WORD.matcher(jsonStrings(f.getValue()));
            } else if (f.getKey().endsWith(".json")) {
                continue;
            }
            while (m.find()) {
                vocab.add(m.group());
            }
        }
        vocab.removeAll(SPECIAL_TOKENS);
        out.put("tokenizer.json", pretty(tokenizerJson(vocab)));
        out.put("tokenizer_config.json", pretty(tokenizerConfig()));
        return out;
    }

    /** Writes every file into {@code dir} (atomically each) and returns the names written. */
    public static List<String> writeTo(Path dir, long seed) {
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, byte[]> f : generate(seed).entrySet()) {
            byte[] bytes = f.getValue();
            AtomicFiles.write(dir.resolve(f.getKey()), ch -> {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            });
            names.add(f.getKey());
        }
        return names;
    }

    /** Paragraphs: per entity, its four facts in random forms and order; equations six to a paragraph. */
    private static List<String> corpus(World w, SeededRandom rng, int perEntity, int eqRepeats) {
        List<String> docs = new ArrayList<>();
        for (int p = 0; p < perEntity; p++) {
            for (World.Entity e : w.entities()) {
                List<String> s = new ArrayList<>();
                for (String attr : World.ATTRIBUTES) {
                    s.add(Texts.fill(World.pick(rng, Texts.FACT_FORMS.get(attr)), e.name(), e.get(attr), null));
                }
                rng.shuffle(s);
                docs.add(String.join(" ", s));
            }
        }
        List<World.Equation> eqs = new ArrayList<>();
        for (int r = 0; r < eqRepeats; r++) {
            eqs.addAll(w.equations());
        }
        rng.shuffle(eqs);
        for (int i = 0; i < eqs.size(); i += EQUATIONS_PER_PARAGRAPH) {
            List<String> s = new ArrayList<>();
            for (World.Equation q : eqs.subList(i, Math.min(eqs.size(), i + EQUATIONS_PER_PARAGRAPH))) {
                s.add(Texts.fill(World.pick(rng, Texts.EQUATION_FORMS.get(q.op())), null, null, q));
            }
            docs.add(String.join(" ", s));
        }
        rng.shuffle(docs);
        return docs;
    }

    private static ObjectNode qa(Item it) {
        ObjectNode n = JSON.createObjectNode();
        n.put("prompt", it.prompt());
        n.put("completion", " " + it.correct());
        return n;
    }

    /**
     * Four responses ranked as people would: polite, helpful and correct (rank 0) &gt; correct but curt
     * (1) &gt; evasive (2) &gt; wrong, rude, or both (3); shown in random order.
     */
    private static List<ObjectNode> rankings(List<Item> items, SeededRandom rng) {
        List<ObjectNode> out = new ArrayList<>();
        for (Item it : items) {
            String[] byRank = new String[4];
            byRank[0] = World.pick(rng, Texts.POLITE_OPENINGS) + " " + it.correct() + World.pick(rng, Texts.POLITE_CLOSINGS);
            byRank[1] = it.curt();
            byRank[2] = World.pick(rng, Texts.EVASIVE);
            byRank[3] = switch (rng.nextInt(3)) {
                case 0 -> it.wrong(rng);
                case 1 -> World.pick(rng, Texts.RUDE) + " " + it.wrong(rng);
                default -> World.pick(rng, Texts.RUDE) + " " + it.correct();
            };
            int[] order = {0, 1, 2, 3};
            rng.shuffle(order);
            ObjectNode n = JSON.createObjectNode();
            n.put("prompt", it.prompt());
            ArrayNode responses = n.putArray("responses");
            ArrayNode ranking = n.putArray("ranking");
            for (int r : order) {
                responses.add(" " + byRank[r]);
                ranking.add(r);
            }
            out.add(n);
        }
        return out;
    }

    /** One pair per ranked prompt: the best response against the response ranked 1, 2, 3 in turn. */
    private static List<ObjectNode> preferences(List<ObjectNode> rankings) {
        List<ObjectNode> out = new ArrayList<>();
        for (int i = 0; i < rankings.size(); i++) {
            ObjectNode r = rankings.get(i);
            String[] byRank = new String[4];
            for (int k = 0; k < 4; k++) {
                byRank[r.get("ranking").get(k).asInt()] = r.get("responses").get(k).asText();
            }
            ObjectNode n = JSON.createObjectNode();
            n.put("prompt", r.get("prompt").asText());
            n.put("chosen", byRank[0]);
            n.put("rejected", byRank[1 + i % 3]);
            out.add(n);
        }
        return out;
    }

    private static List<ObjectNode> verifiable(List<Item> items) {
        List<ObjectNode> out = new ArrayList<>();
        for (Item it : items) {
            if (it.q() != null) {
                ObjectNode n = JSON.createObjectNode();
                n.put("prompt", it.prompt());
                n.put("answer", it.value());
                out.add(n);
            }
        }
        return out;
    }

    private static ObjectNode worldJson(World w) {
        ObjectNode n = JSON.createObjectNode();
        ArrayNode es = n.putArray("entities");
        for (World.Entity e : w.entities()) {
            ObjectNode x = es.addObject();
            x.put("name", e.name());
            for (String a : World.ATTRIBUTES) {
                x.put(a, e.get(a));
            }
        }
        return n;
    }

    /** A WordLevel tokenizer over {@code vocab}: Whitespace pre-tokenizer, {@code <s>} added in front. */
    private static ObjectNode tokenizerJson(Set<String> vocab) {
        ObjectNode t = JSON.createObjectNode();
        t.put("version", "1.0");
        t.putNull("truncation");
        t.putNull("padding");
        ArrayNode added = t.putArray("added_tokens");
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            ObjectNode a = added.addObject();
            a.put("id", i);
            a.put("content", SPECIAL_TOKENS.get(i));
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        t.putNull("normalizer");
        t.putObject("pre_tokenizer").put("type", "Whitespace");
        ObjectNode pp = t.putObject("post_processor");
        pp.put("type", "TemplateProcessing");
        ArrayNode single = pp.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = pp.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode s = pp.putObject("special_tokens").putObject("<s>");
        s.put("id", "<s>");
        s.putArray("ids").add(2);
        s.putArray("tokens").add("<s>");
        t.putNull("decoder");
        ObjectNode model = t.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode v = model.putObject("vocab");
        int id = 0;
        for (String sp : SPECIAL_TOKENS) {
            v.put(sp, id++);
        }
        for (String w : vocab) {
            v.put(w, id++);
        }
        model.put("unk_token", "<unk>");
        return t;
    }

    private static ObjectNode tokenizerConfig() {
        ObjectNode c = JSON.createObjectNode();
        c.put("add_bos_token", true);
        c.put("add_eos_token", false);
        ObjectNode dec = c.putObject("added_tokens_decoder");
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            ObjectNode a = dec.putObject(Integer.toString(i));
            a.put("content", SPECIAL_TOKENS.get(i));
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        c.putArray("additional_special_tokens").add("<|im_start|>").add("<|im_end|>");
        c.put("bos_token", "<s>");
        c.put("chat_template", CHAT_TEMPLATE);
        c.put("clean_up_tokenization_spaces", false);
        c.put("eos_token", "</s>");
        c.put("model_max_length", 512);
        c.put("pad_token", "<pad>");
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        c.put("unk_token", "<unk>");
        return c;
    }

    private static ObjectNode obj(String k, String v) {
        ObjectNode n = JSON.createObjectNode();
        n.put(k, v);
        return n;
    }

    private static byte[] lines(List<String> xs) {
        StringBuilder sb = new StringBuilder();
        for (String x : xs) {
            sb.append(x).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] jsonl(List<ObjectNode> xs) {
        StringBuilder sb = new StringBuilder();
        for (ObjectNode x : xs) {
            sb.append(x.toString()).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] pretty(ObjectNode n) {
        try {
            return (PRETTY.writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** All string values of a JSONL file, newline-separated. */
    private static String jsonStrings(byte[] jsonl) {
        StringBuilder sb = new StringBuilder();
        for (String line : new String(jsonl, StandardCharsets.UTF_8).split("\n")) {
            try {
                collect(JSON.readTree(line), sb);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        return sb.toString();
    }

    private static void collect(com.fasterxml.jackson.databind.JsonNode n, StringBuilder sb) {
        if (n.isTextual()) {
            sb.append(n.asText()).append('\n');
        } else if (n.isContainerNode()) {
            n.forEach(c -> collect(c, sb));
        }
    }
}
