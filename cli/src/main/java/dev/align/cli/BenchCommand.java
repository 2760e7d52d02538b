package dev.align.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code align bench}: speed benchmarks on fixed configurations (one subcommand each). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks on fixed model configurations (see docs/performance.md).",
        subcommands = {
            BenchGenerateCommand.class,
            BenchDpoCommand.class,
            BenchSftCommand.class
        })
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
