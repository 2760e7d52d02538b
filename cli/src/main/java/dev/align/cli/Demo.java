package dev.align.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import dev.align.core.io.AtomicFiles;
import dev.align.core.model.DecoderLM;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.core.train.Metrics;
import dev.align.datasets.bundled.Bundled;
import dev.align.po.dpo.DpoDemo;
import dev.align.po.dpo.WinRate;
import dev.align.po.grpo.GrpoDemo;
import dev.align.po.ppo.PpoDemo;
import dev.align.rm.RewardScorer;
import dev.align.rm.RmDemo;
import dev.align.rm.RmRecipe;
import dev.align.sft.ExactMatch;
import dev.align.sft.SftRecipe;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code align demo}: the whole pipeline on the bundled data with the tiny base model, one method per
 * stage, each reading what the one before wrote under the output directory:
 *
 * <ol>
 *   <li>{@link #data}: the bundled files extracted to {@code <out>/data};
 *   <li>{@link #sft}: exact match of greedy answers on the held-out questions ({@code qa_test}) before and
 *       after supervised fine-tuning on {@code qa_train} (the keys of {@code configs/sft-tiny.yaml});
 *       the fine-tuned model goes to {@code <out>/sft}.
 *   <li>{@link #rewardModel}: a reward model trained from the SFT model on the bundled K=4 rankings
 *       ({@code configs/rm-tiny.yaml}); held-out pairwise accuracy on {@code rankings_test}.
 *   <li>{@link #dpo}: DPO of the SFT model on the bundled preference pairs ({@code configs/dpo-tiny.yaml});
 *       held-out {@code rewards/accuracies}, and the win-rate of the DPO model's greedy answers over the SFT
 *       model's on the held-out prompts, judged by the reward model.
 *   <li>{@link #grpo}: GRPO with the exact-match reward on the bundled arithmetic prompts
 *       ({@code configs/grpo-tiny.yaml}); mean held-out reward of greedy answers before and after.
 *   <li>{@link #ppo}: PPO against the reward model ({@code configs/ppo-tiny.yaml}); mean reward-model score of
 *       greedy answers on held-out questions before and after.
 * </ol>
 */
final class Demo {
    /** Where the tiny base model lives, relative to the repository root. */
    static final String DEFAULT_MODEL = "models/tiny-base";

    /**
     * The SFT stage's keys: {@code configs/sft-tiny.yaml} holds the same (with repository paths), and a
     * test keeps the two equal.
     */
    static final List<String> SFT_KEYS = List.of(
            "learning_rate=3.0e-4",
            "lr_scheduler_type=cosine",
            "warmup_ratio=0.05",
            "weight_decay=0.0",
            "batch_size=32",
            "epochs=8",
            "max_length=64",
            "logging_steps=10",
            "save_steps=10000",
            "seed=42");
    /** Greedy answers: at most this many new tokens (the longest reference answer has 11 with eos). */
    static final int MAX_NEW_TOKENS = 24;
    /** Questions per generation batch. */
    static final int GENERATION_BATCH = 64;
    /** The SFT stage's answers, in its output directory. */
    static final String ANSWERS = "qa_test_answers.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The arithmetic questions of the bundled Q&A ("What is 3 plus 5?"); the others ask about animals. */
    private static final Pattern ARITHMETIC = Pattern.compile("\\b(plus|minus|times)\\b");

    /**
     * What the SFT stage measured.
     *
     * @param model the fine-tuned model's directory
     * @param before exact match of the base model on the held-out questions
     * @param after exact match of the fine-tuned model
     * @param trainSeconds the fine-tuning's wall time
     * @param steps optimizer steps
     */
    record SftStage(Path model, ExactMatch.Result before, ExactMatch.Result after, double trainSeconds, long steps) {}

    private final Path out;
    private final Path baseModel;
    private final PrintStream log;
    private final List<String> overrides;
    private final int questionLimit;

    /**
     * @param out the demo's output directory (stage directories inside are replaced)
     * @param baseModel the tiny base model
     * @param log where the demo reports
     */
    Demo(Path out, Path baseModel, PrintStream log) {
        this(out, baseModel, log, List.of(), Integer.MAX_VALUE);
    }

    /**
     * For tests: extra keys for every stage (e.g. {@code max_steps=2}) and at most {@code questionLimit}
     * held-out questions.
     */
    Demo(Path out, Path baseModel, PrintStream log, List<String> overrides, int questionLimit) {
        this.out = out;
        this.baseModel = baseModel;
        this.log = log;
        this.overrides = List.copyOf(overrides);
        this.questionLimit = questionLimit;
    }

    /** The base model's directory: {@code --model}, else models/tiny-base under the repository root. */
    static Path defaultModel() {
        String home = System.getProperty("align.home");
        Path p = home != null ? Path.of(home, DEFAULT_MODEL) : Path.of(DEFAULT_MODEL);
        if (!Files.isRegularFile(p.resolve("config.json"))) {
            throw new AlignException(p + ": the tiny base model is not there (run from the repository root, or pass"
                    + " --model DIR)");
        }
        return p;
    }

    /** Every stage in order, then the total time. */
    void run() {
        long t0 = System.nanoTime();
        log.printf(Locale.ROOT, "Align demo: post-training the tiny base model %s on the bundled data -> %s%n",
                baseModel, out);
        Path data = data();
        SftStage sft = sft(data);
        Path rm = rewardModel(data, sft.model());
        dpo(sft.model(), rm);
        grpo(sft.model());
        ppo(sft.model(), rm);
        log.printf(Locale.ROOT, "%ndemo finished in %.1f s%n", seconds(t0));
    }

    /** Stage 0: the bundled data, extracted to {@code <out>/data}. */
    Path data() {
        Path dir = Bundled.extractTo(out.resolve("data"));
        log.printf(Locale.ROOT, "data: bundled files in %s (qa_train: questions to train on; qa_test: questions about"
                + " facts the corpus states but training never asks)%n", dir);
        return dir;
    }

    /**
     * Stage 1, SFT: greedy exact match on {@code qa_test} for the base model, fine-tuning on
     * {@code qa_train}, exact match again.
     */
    SftStage sft(Path data) {
        log.printf(Locale.ROOT, "%n== SFT: supervised fine-tuning on question/answer pairs ==%n");
        List<ExactMatch.Item> test = ExactMatch.read(data.resolve("qa_test.jsonl"));
        if (test.size() > questionLimit) {
            test = test.subList(0, questionLimit);
        }
        long t0 = System.nanoTime();
        ExactMatch.Result before = exactMatch(baseModel, test);
        report("base model", before, seconds(t0));

        Path dir = out.resolve("sft");
        deleteTree(dir);
        List<String> keys = new ArrayList<>(SFT_KEYS);
        keys.add("model=" + baseModel);
        keys.add("train_file=" + data.resolve("qa_train.jsonl"));
        keys.add("output_dir=" + dir);
        keys.add("progress=false");
        keys.addAll(overrides);
        long t1 = System.nanoTime();
        SftRecipe.Result r = SftRecipe.run(SftRecipe.Mode.SFT, SftRecipe.config(SftRecipe.Mode.SFT, null, keys),
                line -> log.println("  " + line));
        double trainSeconds = seconds(t1);
        List<JsonNode> lines = Metrics.read(dir.resolve(Metrics.FILE));
        log.printf(Locale.ROOT, "  trained %d steps in %.1f s: loss %.3f -> %.3f (metrics: %s)%n", r.steps(),
                trainSeconds, lines.get(0).path("loss").asDouble(), lines.get(lines.size() - 1).path("loss").asDouble(),
                dir.resolve(Metrics.FILE));

        long t2 = System.nanoTime();
        ExactMatch.Result after = exactMatch(dir, test);
        report("after SFT", after, seconds(t2));
        Path answers = dir.resolve(ANSWERS);
        writeAnswers(answers, before, after);
        log.printf(Locale.ROOT, "  SFT model -> %s; every answer before and after -> %s%n", dir, answers);
        return new SftStage(dir, before, after, trainSeconds, r.steps());
    }

    /**
     * Stage 2, reward model: trained from the SFT model on {@code rankings_train} (every ordered pair of
     * the four ranked responses of each question), evaluated on {@code rankings_test}.
     */
    Path rewardModel(Path data, Path sftModel) {
        log.printf(Locale.ROOT, "%n== Reward model: trained on human-style rankings (K=4 responses per question) ==%n");
        Path dir = out.resolve("rm");
        deleteTree(dir);
        long t0 = System.nanoTime();
        RmRecipe.Result r = RmDemo.train(sftModel, data.resolve("rankings_train.jsonl"),
                data.resolve("rankings_test.jsonl"), dir, stageKeys());
        log.printf(Locale.ROOT, "  trained %d steps in %.1f s%n", r.steps(), seconds(t0));
        log.printf(Locale.ROOT, "  held-out pairwise accuracy on rankings_test: %.3f (%d pairs; correct, polite and"
                + " helpful above curt, evasive, wrong or rude)%n", r.accuracy(), r.evalMetrics().get("pairs").intValue());
        log.printf(Locale.ROOT, "  reward model -> %s%n", dir);
        return dir;
    }

    /**
     * Stage 3, DPO: the SFT model optimised on the preference pairs; held-out implicit-reward accuracy, and
     * the win-rate of its greedy answers over the SFT model's on the held-out prompts, judged by the reward
     * model.
     */
    void dpo(Path sftModel, Path rewardModel) {
        log.printf(Locale.ROOT, "%n== DPO: preference optimisation of the SFT model ==%n");
        deleteTree(out.resolve("dpo"));
        long t0 = System.nanoTime();
        DpoDemo.Result r = DpoDemo.run(sftModel, out, stageKeys());
        log.printf(Locale.ROOT, "  trained in %.1f s; held-out rewards/accuracies: %.3f%n", seconds(t0),
                r.heldOutAccuracy());
        List<String> prompts = DpoDemo.heldOutPrompts(questionLimit == Integer.MAX_VALUE ? 0 : questionLimit);
        long t1 = System.nanoTime();
        List<String> dpoAnswers;
        List<String> sftAnswers;
        WinRate.Result w;
        try (RewardScorer judge = RewardScorer.load(rewardModel, 64)) {
            dpoAnswers = greedyAnswers(r.modelDir(), prompts);
            sftAnswers = greedyAnswers(sftModel, prompts);
            w = WinRate.of(prompts, answered(dpoAnswers), answered(sftAnswers), new WinRate.Scorer() {
                @Override
                public double score(String prompt, String completion) {
                    return judge.score(prompt, completion);
                }

                @Override
                public double[] scoreAll(List<String> ps, List<String> cs) {
                    float[] f = judge.score(ps, cs);
                    double[] d = new double[f.length];
                    for (int i = 0; i < f.length; i++) {
                        d[i] = f[i];
                    }
                    return d;
                }
            });
        }
        log.printf(Locale.ROOT, "  win-rate of DPO over SFT on %d held-out prompts, judged by the reward model: %.3f"
                + " (%d wins, %d ties, %d losses; mean reward %.2f vs %.2f)  [greedy answers, %.1f s]%n", w.prompts(),
                w.winRate(), w.wins(), w.ties(), w.losses(), w.meanCandidate(), w.meanBaseline(), seconds(t1));
        for (int i = 0; i < Math.min(2, prompts.size()); i++) {
            log.printf(Locale.ROOT, "    %s%n      SFT: %s%n      DPO: %s%n", prompts.get(i).replace('\n', ' '),
                    sftAnswers.get(i), dpoAnswers.get(i));
        }
        log.printf(Locale.ROOT, "  DPO model -> %s%n", r.modelDir());
    }

    /** Stage 4, GRPO: exact-match reward on the arithmetic prompts; greedy held-out reward before and after. */
    void grpo(Path sftModel) {
        log.printf(Locale.ROOT, "%n== GRPO: reinforcement learning with a verifiable reward (exact answer of a sum) ==%n");
        deleteTree(out.resolve("grpo"));
        deleteTree(out.resolve("grpo-base-eval"));
        long t0 = System.nanoTime();
        GrpoDemo.Result r = GrpoDemo.train(sftModel, out.resolve("data/verifiable_train.jsonl"),
                out.resolve("data/verifiable_test.jsonl"), out.resolve("grpo"), stageKeys());
        log.printf(Locale.ROOT, "  %d steps in %.1f s; mean held-out reward (share of sums answered right, greedy):"
                + " %.3f -> %.3f (%+.0f%%)%n", r.run().steps(), seconds(t0), r.before(), r.after(),
                100 * r.relativeGain());
        log.printf(Locale.ROOT, "  GRPO model -> %s%n", out.resolve("grpo"));
    }

    /** Stage 5, PPO: against the reward model; its mean score of greedy held-out answers before and after. */
    void ppo(Path sftModel, Path rewardModel) {
        log.printf(Locale.ROOT, "%n== PPO: reinforcement learning from the reward model (KL-penalised, with a critic) ==%n");
        deleteTree(out.resolve("ppo"));
        deleteTree(out.resolve("ppo-base-eval"));
        long t0 = System.nanoTime();
        PpoDemo.Result r = PpoDemo.train(sftModel, rewardModel, out.resolve("data/qa_train.jsonl"),
                out.resolve("data/qa_test.jsonl"), out.resolve("ppo"), stageKeys());
        log.printf(Locale.ROOT, "  %d rollouts in %.1f s; mean reward-model score of held-out greedy answers: %.3f ->"
                + " %.3f%n", r.run().steps(), seconds(t0), r.before(), r.after());
        log.printf(Locale.ROOT, "  PPO model -> %s%n", out.resolve("ppo"));
    }

    /** The keys every stage adds to its own: no progress bar, and the test overrides. */
    private List<String> stageKeys() {
        List<String> keys = new ArrayList<>();
        keys.add("progress=false");
        keys.addAll(overrides);
        return keys;
    }

    /** A completer whose answers to the demo's prompts were generated already (in prompt order). */
    private static WinRate.Completer answered(List<String> answers) {
        return new WinRate.Completer() {
            @Override
            public String complete(String prompt) {
                throw new IllegalStateException("answers are given for the whole prompt list only");
            }

            @Override
            public List<String> completeAll(List<String> prompts) {
                return answers;
            }
        };
    }

    /** Greedy answers of a model to prompts (first line, stripped), batched. */
    private static List<String> greedyAnswers(Path modelDir, List<String> prompts) {
        List<ExactMatch.Item> items = new ArrayList<>();
        for (String p : prompts) {
            items.add(new ExactMatch.Item(p, ""));
        }
        List<String> out = new ArrayList<>();
        for (ExactMatch.Answer a : exactMatch(modelDir, items).answers()) {
            out.add(" " + a.generated());
        }
        return out;
    }

    private static ExactMatch.Result exactMatch(Path modelDir, List<ExactMatch.Item> items) {
        try (NDManager root = Engines.newManager();
                Tokenizer tok = Tokenizer.load(modelDir);
                DecoderLM model = DecoderLM.load(modelDir, root)) {
            return ExactMatch.evaluate(model, tok, items, GENERATION_BATCH, MAX_NEW_TOKENS);
        }
    }

    private void report(String who, ExactMatch.Result r, double secs) {
        int facts = 0;
        int factsRight = 0;
        for (ExactMatch.Answer a : r.answers()) {
            if (!ARITHMETIC.matcher(a.item().prompt()).find()) {
                facts++;
                factsRight += a.correct() ? 1 : 0;
            }
        }
        int sums = r.answers().size() - facts;
        log.printf(Locale.ROOT, "  %-10s exact match on qa_test: %d/%d (%.1f%%; animal facts %d/%d, arithmetic %d/%d)"
                + "  [greedy, %.1f s]%n", who, r.correct(), r.answers().size(), 100 * r.accuracy(), factsRight, facts,
                r.correct() - factsRight, sums, secs);
        for (ExactMatch.Answer a : r.answers().subList(0, Math.min(3, r.answers().size()))) {
            String q = a.item().prompt().replace('\n', ' ');
            String got = a.generated().isEmpty() ? "(nothing)"
                    : a.generated().length() > 72 ? a.generated().substring(0, 72) + " ..." : a.generated();
            log.printf(Locale.ROOT, "    %s%n      expected: %s%n      got:      %s %s%n", q, a.item().reference().strip(),
                    got, a.correct() ? "(right)" : "(wrong)");
        }
    }

    /** One line per question: prompt, reference, the answers before and after, and whether each matched. */
    private static void writeAnswers(Path file, ExactMatch.Result before, ExactMatch.Result after) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < before.answers().size(); i++) {
            ExactMatch.Answer b = before.answers().get(i);
            ExactMatch.Answer a = after.answers().get(i);
            ObjectNode n = JSON.createObjectNode().put("prompt", b.item().prompt()).put("reference", b.item().reference())
                    .put("before", b.generated()).put("before_correct", b.correct())
                    .put("after", a.generated()).put("after_correct", a.correct());
            sb.append(n).append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Removes a stage's previous output (only ever a directory under the demo's own output). */
    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new AlignException(root + ": cannot remove the previous demo output: " + e.getMessage(), e);
        }
    }
}
