package dev.align.datasets.bundled;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every sentence form of the bundled data. {@code {e}} is an entity's name, {@code {v}} an attribute
 * value ({@code {V}} capitalised), {@code {a} {b} {c}} the operands and result of an equation.
 */
final class Texts {
    /** Statements of each attribute, several forms each. */
    static final Map<String, List<String>> FACT_FORMS = Map.of(
            "color", List.of("The {e} is {v}.", "The color of the {e} is {v}.", "Every {e} is {v}.",
                    "You can tell a {e} by its {v} color."),
            "home", List.of("The {e} lives in the {v}.", "The home of the {e} is the {v}.", "Every {e} lives in the {v}.",
                    "You can find the {e} in the {v}."),
            "food", List.of("The {e} eats {v}.", "The favorite food of the {e} is {v}.", "Every {e} likes to eat {v}.",
                    "The {e} loves {v}."),
            "size", List.of("The {e} is {v}.", "The size of the {e} is {v}.", "Every {e} is {v}.",
                    "A {e} is a {v} animal."));

    /** Statements of each operation. */
    static final Map<String, List<String>> EQUATION_FORMS = Map.of(
            "plus", List.of("{a} plus {b} is {c}.", "{a} + {b} = {c}.", "If you add {a} and {b}, you get {c}.",
                    "The sum of {a} and {b} is {c}."),
            "minus", List.of("{a} minus {b} is {c}.", "{a} - {b} = {c}.", "If you take {b} away from {a}, you get {c}.",
                    "The difference between {a} and {b} is {c}."),
            "times", List.of("{a} times {b} is {c}.", "{a} * {b} = {c}.", "{a} groups of {b} make {c}.",
                    "The product of {a} and {b} is {c}."));

    /** The question about each attribute or operation. */
    static final Map<String, String> QUESTIONS = Map.of(
            "color", "What color is the {e}?",
            "home", "Where does the {e} live?",
            "food", "What does the {e} eat?",
            "size", "How big is the {e}?",
            "plus", "What is {a} plus {b}?",
            "minus", "What is {a} minus {b}?",
            "times", "What is {a} times {b}?");

    /** The full, correct answer sentence. */
    static final Map<String, String> ANSWERS = Map.of(
            "color", "The {e} is {v}.",
            "home", "The {e} lives in the {v}.",
            "food", "The {e} eats {v}.",
            "size", "The {e} is {v}.",
            "plus", "{a} plus {b} is {c}.",
            "minus", "{a} minus {b} is {c}.",
            "times", "{a} times {b} is {c}.");

    /** Correct but curt. */
    static final Map<String, String> CURT = Map.of(
            "color", "{V}.",
            "home", "In the {v}.",
            "food", "{V}.",
            "size", "{V}.",
            "plus", "{c}.",
            "minus", "{c}.",
            "times", "{c}.");

    /** Openings and closings of the polite, helpful answer. */
    static final List<String> POLITE_OPENINGS = List.of("Good question!", "Sure!", "Happy to help!", "Of course!");
    static final List<String> POLITE_CLOSINGS = List.of("", " I hope that helps!", " Let me know if you have more questions.");

    /** Evasive answers. */
    static final List<String> EVASIVE = List.of("I am not sure.", "I do not know.", "That is hard to say.",
            "I cannot answer that.");

    /** Rude openings. */
    static final List<String> RUDE = List.of("What a silly question.", "Ugh, fine.", "Stop asking me things.",
            "Everyone knows this.");

    /** The prompt around a question, and the role words of the chat template. */
    static final String PROMPT = "Question: %s\nAnswer:";
    static final List<String> ROLES = List.of("system", "user", "assistant");

    /** Every lower-cased word of the forms above (entity names must not be one of them). */
    static final Set<String> WORDS = words();

    private Texts() {}

    private static Set<String> words() {
        Set<String> out = new TreeSet<>(ROLES);
        Pattern w = Pattern.compile("[A-Za-z]+");
        StringBuilder all = new StringBuilder(PROMPT);
        FACT_FORMS.values().forEach(l -> l.forEach(s -> all.append(' ').append(s)));
        EQUATION_FORMS.values().forEach(l -> l.forEach(s -> all.append(' ').append(s)));
        for (Map<String, String> m : List.of(QUESTIONS, ANSWERS, CURT)) {
            m.values().forEach(s -> all.append(' ').append(s));
        }
        for (List<String> l : List.of(POLITE_OPENINGS, POLITE_CLOSINGS, EVASIVE, RUDE)) {
            l.forEach(s -> all.append(' ').append(s));
        }
        Matcher m = w.matcher(all);
        while (m.find()) {
            out.add(m.group().toLowerCase(Locale.ROOT));
        }
        return out;
    }

    /** Fills a form. */
    static String fill(String form, String e, String v, World.Equation q) {
        String s = form;
        if (e != null) {
            s = s.replace("{e}", e);
        }
        if (v != null) {
            s = s.replace("{v}", v).replace("{V}", Character.toUpperCase(v.charAt(0)) + v.substring(1));
        }
        if (q != null) {
            s = s.replace("{a}", Integer.toString(q.a())).replace("{b}", Integer.toString(q.b()))
                    .replace("{c}", Integer.toString(q.result()));
        }
        return s;
    }
}
