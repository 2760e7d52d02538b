package dev.align.cli;

import picocli.CommandLine;

/** {@code align --version}: Align's version and the engine's (read without starting libtorch). */
public final class Versions implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return new String[] {"align " + (v == null ? "dev" : v) + " (DJL " + ai.djl.engine.Engine.getDjlVersion() + ")"};
    }
}
