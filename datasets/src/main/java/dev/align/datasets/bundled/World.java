package dev.align.datasets.bundled;

import dev.align.datasets.batch.SeededRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The bundled data's small synthetic world, made from a seed: fictional animals with made-up names,
 * each with a color, a home, a food and a size, plus small-number arithmetic (a plus b and a minus b
 * with a, b ≤ 9 and results 0..18; a times b with a, b ≤ 5).
 *
 * @param entities the animals, in a fixed order
 * @param equations every equation, in a fixed order
 */
public record World(List<Entity> entities, List<Equation> equations) {
    public static final List<String> COLORS = List.of("red", "blue", "green", "yellow", "purple", "orange", "white",
            "black", "pink", "brown", "gray", "silver");
    public static final List<String> HOMES = List.of("forest", "river", "cave", "hill", "lake", "meadow", "desert",
            "island", "marsh", "valley", "mountain", "garden");
    public static final List<String> FOODS = List.of("apples", "fish", "seeds", "honey", "grass", "berries", "bread",
            "nuts", "leaves", "mushrooms", "carrots", "cheese");
    public static final List<String> SIZES = List.of("tiny", "small", "big", "huge");

    /** The attributes every entity has, as the questions and files name them. */
    public static final List<String> ATTRIBUTES = List.of("color", "home", "food", "size");

    private static final String[] ONSETS = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "sh",
        "ch", "tr", "pl", "gr", "fl", "sn", "bl"};
    private static final String[] VOWELS = {"a", "e", "i", "o", "u", "oo", "ee", "ai"};
    private static final String[] CODAS = {"", "", "", "n", "m", "k", "b", "x", "z", "p", "l", "sh"};

    /** An animal and its four attributes. */
    public record Entity(String name, String color, String home, String food, String size) {
        /** The value of {@code attribute} (one of {@link #ATTRIBUTES}). */
        public String get(String attribute) {
            return switch (attribute) {
                case "color" -> color;
                case "home" -> home;
                case "food" -> food;
                case "size" -> size;
                default -> throw new IllegalArgumentException(attribute);
            };
        }
    }

    /** {@code a op b = result}, op one of plus, minus, times. */
    public record Equation(int a, String op, int b, int result) {}

    /** The world of {@code count} entities made from {@code rng}. */
    public static World create(SeededRandom rng, int count) {
        Set<String> reserved = new TreeSet<>();
        reserved.addAll(COLORS);
        reserved.addAll(HOMES);
        reserved.addAll(FOODS);
        reserved.addAll(SIZES);
        reserved.addAll(Texts.WORDS);
        Set<String> names = new TreeSet<>();
        List<Entity> entities = new ArrayList<>();
        while (entities.size() < count) {
            String name = syllable(rng) + (rng.nextInt(3) == 0 ? "" : syllable(rng));
            if (name.length() < 3 || name.length() > 8 || reserved.contains(name) || !names.add(name)) {
                continue;
            }
            entities.add(new Entity(name, pick(rng, COLORS), pick(rng, HOMES), pick(rng, FOODS), pick(rng, SIZES)));
        }
        List<Equation> eqs = new ArrayList<>();
        for (int a = 0; a <= 9; a++) {
            for (int b = 0; b <= 9; b++) {
                eqs.add(new Equation(a, "plus", b, a + b));
            }
        }
        for (int a = 0; a <= 18; a++) {
            for (int b = 0; b <= 9; b++) {
                if (a - b >= 0 && a - b <= 9) {
                    eqs.add(new Equation(a, "minus", b, a - b));
                }
            }
        }
        for (int a = 0; a <= 5; a++) {
            for (int b = 0; b <= 5; b++) {
                eqs.add(new Equation(a, "times", b, a * b));
            }
        }
        return new World(List.copyOf(entities), List.copyOf(eqs));
    }

    private static String syllable(SeededRandom rng) {
        return ONSETS[rng.nextInt(ONSETS.length)] + VOWELS[rng.nextInt(VOWELS.length)] + CODAS[rng.nextInt(CODAS.length)];
    }

    static <T> T pick(SeededRandom rng, List<T> xs) {
        return xs.get(rng.nextInt(xs.size()));
    }
}
