package dev.align.cli;

/** Entry point of the {@code align} command (filled in below). */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.out.println("align");
    }
}
