package dev.align.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.config.Configs;
import dev.align.rm.RmRecipe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code align rm}: trains a reward model on rankings or preference pairs (docs/reward-model.md), or with
 * {@code eval_only=true} evaluates one. Keys come from {@code --config FILE.yaml} and {@code key=value}
 * arguments (the command line wins); {@code --help} lists every key with its default.
 */
@Command(name = "rm", mixinStandardHelpOptions = true,
        description = {"Train a reward model on rankings or preference pairs (eval_only=true:",
            "evaluate one). Writes the model (HF *ForSequenceClassification, or with LoRA",
            "a PEFT adapter with its score head), metrics and checkpoints to output_dir."})
final class RmCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE.yaml", description = "a YAML file of keys (e.g. configs/rm-tiny.yaml)")
    Path config;

    @Option(names = "--resume", description = "continue from the latest checkpoint in output_dir")
    boolean resume;

    @Parameters(paramLabel = "KEY=VALUE", description = "keys, overriding the config file")
    List<String> overrides = new ArrayList<>();

    @CommandLine.Spec
    void setSpec(CommandLine.Model.CommandSpec spec) {
        spec.usageMessage().footer(keys(RmRecipe.defaults()));
    }

    @Override
    public Integer call() {
        List<String> o = new ArrayList<>(overrides);
        if (resume) {
            o.add("resume_from_checkpoint=latest");
        }
        RmRecipe.Result r = RmRecipe.run(RmRecipe.config(config, o));
        if (!r.evalMetrics().isEmpty()) {
            Map<String, Double> m = r.evalMetrics();
            System.out.printf(Locale.ROOT, "eval: loss %.4f  accuracy %.4f  margin %.4f  mean_reward %.4f  (%d pairs)%n",
                    m.get("loss"), m.get("accuracy"), m.get("margin"), m.get("mean_reward"), m.get("pairs").longValue());
        }
        System.err.println((r.steps() > 0 ? "trained " + r.steps() + " steps -> " : "evaluated -> ") + r.outputDir());
        return 0;
    }

    /** The help footer: every key and its default, by group, generated from the config records. */
    static String keys(Object... defaults) {
        StringBuilder sb = new StringBuilder("%nKeys (defaults; set in the config file or as key=value):%n");
        for (Object d : defaults) {
            sb.append("  ").append(d.getClass().getSimpleName()).append(":%n");
            ObjectNode t = Configs.toTree(d);
            t.fields().forEachRemaining(e -> sb.append("    ").append(e.getKey()).append(" = ")
                    .append(show(e.getValue()).replace("%", "%%")).append("%n"));
        }
        return sb.toString();
    }

    private static String show(JsonNode v) {
        if (v.isNull() || (v.isObject() && !v.elements().hasNext())) {
            return "(none)";
        }
        if (v.isObject()) {
            boolean allNull = true;
            for (JsonNode e : v) {
                allNull &= e.isNull();
            }
            if (allNull) {
                return "(none)";
            }
        }
        return v.isTextual() ? v.asText() : v.toString();
    }
}
