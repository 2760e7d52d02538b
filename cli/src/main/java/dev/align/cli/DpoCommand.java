package dev.align.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.align.core.config.Configs;
import dev.align.po.dpo.DpoRecipe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code align dpo [--config FILE.yaml] [--resume] [key=value ...]}: DPO and its family (sigmoid/cDPO,
 * robust, hinge, ipo, simpo, orpo) on preference data; see docs/dpo.md. The keys and their defaults are
 * listed by {@code --help}, generated from the config records.
 */
@Command(name = "dpo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Direct preference optimisation and its family: sigmoid (DPO; cDPO with label_smoothing),"
            + " robust, hinge, ipo, simpo, orpo.",
            "Keys come from the defaults, then --config, then key=value (the command line wins)."})
final class DpoCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE.yaml", description = "YAML file of keys (e.g. configs/dpo-tiny.yaml)")
    Path config;

    @Option(names = "--resume", description = "continue from the latest checkpoint in output_dir")
    boolean resume;

    @Parameters(paramLabel = "KEY=VALUE", arity = "0..*", description = "config overrides, e.g. beta=0.2 loss_type=ipo")
    List<String> overrides = new ArrayList<>();

    @Spec
    void spec(CommandSpec spec) {
        Object[] d = DpoRecipe.defaults(); // TrainingArgs, DataSettings, DpoArgs
        spec.usageMessage().footer(
                keys("DPO keys", d[2]) + keys("Training keys", d[0]) + keys("Data keys", d[1]));
    }

    @Override
    public Integer call() {
        List<String> o = new ArrayList<>(overrides);
        if (resume) {
            o.add("resume_from_checkpoint=latest");
        }
        DpoRecipe.Result r = DpoRecipe.run(DpoRecipe.config(config, o));
        StringBuilder sb = new StringBuilder();
        if (r.steps() > 0) {
            sb.append(String.format(Locale.ROOT, "trained %d steps -> %s%n", r.steps(), r.outputDir()));
        }
        for (Map.Entry<String, Double> e : r.evalMetrics().entrySet()) {
            sb.append(String.format(Locale.ROOT, "eval %-20s %.6f%n", e.getKey(), e.getValue()));
        }
        if (!r.evalMetrics().isEmpty()) {
            sb.append("eval metrics -> ").append(r.outputDir().resolve(DpoRecipe.EVAL_METRICS)).append('\n');
        }
        System.err.print(sb);
        return 0;
    }

    /** A help section: every key of {@code defaults} (a config record) with its default value. */
    static String keys(String title, Object defaults) {
        ObjectNode tree = Configs.toTree(defaults);
        StringBuilder sb = new StringBuilder("%n").append(title).append(":%n");
        for (Map.Entry<String, JsonNode> e : tree.properties()) {
            JsonNode n = e.getValue();
            String v = n.isNull() ? "(none)" : n.isObject() ? "{}" : n.isTextual() ? n.asText() : n.toString();
            sb.append(String.format(Locale.ROOT, "  %-28s %s%%n", e.getKey(), v.replace("%", "%%")));
        }
        return sb.toString();
    }
}
