package dev.align.po.rollout;

import dev.align.core.BadInputException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes the reward functions a config names: the built-ins by name, anything else as a class on the class
 * path (loaded with the thread's context class loader, else this class's), which must implement
 * {@link RewardFunction} and have a public no-argument constructor. Every problem is a
 * {@link BadInputException} naming {@code reward_funcs} and the entry.
 */
public final class RewardFunctions {
    /** The built-in names. */
    public static final List<String> BUILT_INS = List.of(ExactMatch.NAME, RegexReward.NAME, LengthPenalty.NAME);

    private RewardFunctions() {}

    /**
     * A reward function with the name metrics use ({@code rewards/<name>/mean}) and its weight.
     *
     * @param name the built-in name, or the class's simple name
     */
    public record Named(String name, RewardFunction function, double weight) {}

    /**
     * The functions of {@code args}, in order.
     *
     * @param maxCompletionLength the method's maximum completion length (the length penalty's default L_max)
     */
    public static List<Named> create(RewardArgs args, int maxCompletionLength) {
        List<Named> out = new ArrayList<>();
        List<String> names = args.rewardFuncs();
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i) == null ? "" : names.get(i).trim();
            RewardFunction f;
            String label;
            switch (n) {
                case ExactMatch.NAME -> {
                    f = new ExactMatch();
                    label = n;
                }
                case RegexReward.NAME -> {
                    f = new RegexReward(args.regexPattern(), args.regexScore());
                    label = n;
                }
                case LengthPenalty.NAME -> {
                    int max = args.lengthPenaltyMax() != null ? args.lengthPenaltyMax() : maxCompletionLength;
                    int cache = args.lengthPenaltyCache() != null ? args.lengthPenaltyCache() : Math.max(1, max / 5);
                    f = new LengthPenalty(max, cache);
                    label = n;
                }
                default -> {
                    f = load(n);
                    label = f.getClass().getSimpleName();
                }
            }
            out.add(new Named(unique(label, out), f, args.weight(i)));
        }
        return out;
    }

    private static String unique(String label, List<Named> so) {
        String l = label;
        int k = 2;
        while (true) {
            boolean taken = false;
            for (Named n : so) {
                taken |= n.name().equals(l);
            }
            if (!taken) {
                return l;
            }
            l = label + "_" + k++;
        }
    }

    /** Loads and instantiates the user class {@code className}. */
    public static RewardFunction load(String className) {
        if (className.isEmpty()) {
            throw new BadInputException("reward_funcs: an empty name (built-ins: " + String.join(", ", BUILT_INS) + ")");
        }
        Class<?> c;
        try {
            ClassLoader cl = Thread.currentThread().getContextClassLoader();
            c = Class.forName(className, true, cl != null ? cl : RewardFunctions.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new BadInputException("reward_funcs: '" + className + "' is neither a built-in reward function ("
                    + String.join(", ", BUILT_INS) + ") nor a class on the class path"
                    + (e instanceof LinkageError ? " (it failed to load: " + e + ")" : ""));
        }
        if (!RewardFunction.class.isAssignableFrom(c)) {
            throw new BadInputException("reward_funcs: class " + className + " does not implement "
                    + RewardFunction.class.getName());
        }
        if (Modifier.isAbstract(c.getModifiers()) || !Modifier.isPublic(c.getModifiers())) {
            throw new BadInputException("reward_funcs: class " + className + " must be a public, non-abstract class");
        }
        Constructor<?> ctor;
        try {
            ctor = c.getConstructor();
        } catch (NoSuchMethodException e) {
            throw new BadInputException("reward_funcs: class " + className + " has no public no-argument constructor");
        }
        try {
            return (RewardFunction) ctor.newInstance();
        } catch (InvocationTargetException e) {
            throw new BadInputException("reward_funcs: class " + className + ": its constructor failed: " + e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new BadInputException("reward_funcs: class " + className + " cannot be instantiated: " + e);
        }
    }
}
