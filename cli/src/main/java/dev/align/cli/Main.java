package dev.align.cli;

import dev.align.core.AlignException;
import dev.align.core.BadInputException;
import dev.align.core.nd.NativeHeap;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code align} command. Training commands take {@code [--config FILE.yaml] [key=value ...]};
 * tools take {@code --flags}. Exit codes: 0 success, 1 failure, 2 bad input (usage, config or data).
 */
@Command(
        name = "align",
        mixinStandardHelpOptions = true,
        versionProvider = Versions.class,
        description = "Post-training for language models on the JVM: SFT, reward models, DPO, PPO and GRPO.",
        subcommands = {
            LogprobsCommand.class,
            MergeCommand.class,
            DataCommand.class,
            GenerateCommand.class,
            ChatCommand.class,
            BenchCommand.class,
            RmCommand.class,
            ScoreCommand.class,
            DpoCommand.class,
            PpoCommand.class,
            GrpoCommand.class,
            SftCommand.class,
            PretrainCommand.class,
            DemoCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        quietLogging();
        String slack = System.getProperty("align.trim.slack"); // the launcher's, with glibc's malloc
        if (slack != null && !slack.equals("off")) { // docs/performance.md, "Memory"
            NativeHeap.trimAbove(Double.parseDouble(slack), 50); // a daemon thread, for the whole run
        }
        System.exit(run(args));
    }

    /** DJL logs its engine start-up at INFO and a harmless CUDA probe at WARN; keep both off stderr. */
    static void quietLogging() {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        System.setProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error");
        System.setProperty("org.slf4j.simpleLogger.log.ai.djl.pytorch.jni.LibUtils", "warn");
    }

    /** Runs the command line and returns its exit code. */
    public static int run(String... args) {
        return commandLine(new Main()).execute(args);
    }

    /** A command line for {@code command} with Align's exit codes for user errors (1, and 2 for bad input). */
    static CommandLine commandLine(Object command) {
        CommandLine cl = new CommandLine(command);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof BadInputException b) {
                b.problems().forEach(p -> cmd.getErr().println(p));
                return 2;
            }
            if (ex instanceof AlignException) {
                cmd.getErr().println("error: " + ex.getMessage());
                return 1;
            }
            throw ex;
        });
        return cl;
    }
}
