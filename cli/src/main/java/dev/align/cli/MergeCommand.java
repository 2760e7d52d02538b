package dev.align.cli;

import ai.djl.ndarray.NDManager;
import dev.align.core.Engines;
import dev.align.core.lora.LoraAdapters;
import dev.align.core.model.DecoderLM;
import dev.align.core.tokenizer.Tokenizer;
import dev.align.rm.RewardModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code align merge}: folds LoRA adapters into their base model and writes a plain HF checkpoint. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge a LoRA adapter (PEFT format) into its base model and save a full Hugging Face checkpoint.")
final class MergeCommand implements Callable<Integer> {
    @Option(names = "--base", required = true, description = "base model directory")
    Path base;

    @Option(names = "--adapter", required = true, description = "adapter directory (adapter_config.json, adapter_model.safetensors)")
    Path adapter;

    @Option(names = "--out", required = true, description = "output directory for the merged model")
    Path out;

    @Override
    public Integer call() {
        try (NDManager root = Engines.newManager()) {
            if (RewardModels.isRewardAdapter(adapter)) { // SEQ_CLS: the base as a reward model, the head from the adapter
                try (DecoderLM model = RewardModels.loadAdapter(base, adapter, root)) {
                    model.save(out);
                }
            } else {
                try (DecoderLM model = DecoderLM.load(base, root); LoraAdapters lora = LoraAdapters.load(adapter, model)) {
                    lora.mergeInto(model);
                    model.save(out);
                }
            }
        }
        if (Files.isRegularFile(base.resolve("tokenizer.json"))) {
            try (Tokenizer tok = Tokenizer.load(base)) {
                tok.copyFilesTo(out);
            }
        }
        System.err.println("merged " + adapter + " into " + base + " -> " + out);
        return 0;
    }
}
