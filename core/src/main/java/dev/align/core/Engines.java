package dev.align.core;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Starts the tensor engine the one way Align uses it: DJL's PyTorch engine, offline, from the native
 * library inside the {@code pytorch-native-cpu} jar. Call {@link #init()} before any tensor work; it is
 * idempotent and cheap after the first call.
 *
 * <p>Threads: {@code ALIGN_THREADS} (or {@code -Dai.djl.pytorch.num_threads}) sets libtorch's intra-op
 * threads; inter-op threads are fixed at 1. OpenMP's wait policy comes from the environment: the
 * {@code ./align} launcher leaves libgomp's default (workers spin 300,000 rounds before they sleep), the
 * test runner sets {@code OMP_WAIT_POLICY=PASSIVE}.
 */
public final class Engines {
    private static volatile Engine engine;

    private Engines() {}

    /** Starts the engine (offline) if it is not started yet and returns it. */
    public static Engine init() {
        Engine e = engine;
        if (e != null) {
            return e;
        }
        synchronized (Engines.class) {
            if (engine == null) {
                offline();
                if (System.getProperty("ai.djl.pytorch.graph_optimizer") == null) {
                    System.setProperty("ai.djl.pytorch.graph_optimizer", "false");
                }
                String threads = System.getenv("ALIGN_THREADS");
                if (threads != null && System.getProperty("ai.djl.pytorch.num_threads") == null) {
                    System.setProperty("ai.djl.pytorch.num_threads", threads.trim());
                }
                if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
                    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
                }
                engine = Engine.getEngine("PyTorch");
                JniUtils.setGradMode(false);
            }
            return engine;
        }
    }

    /**
     * Sets the system properties that keep DJL offline (no model-zoo downloads, no telemetry). Called
     * by {@link #init()} and by anything that touches DJL before the engine (the tokenizer).
     */
    public static void offline() {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }

    /** A new root manager on the CPU. */
    public static NDManager newManager() {
        return NDManager.newBaseManager(init().defaultDevice(), "PyTorch");
    }

    /** Seeds libtorch's global RNG (dropout, {@code randomNormal}). */
    public static void seed(long seed) {
        init();
        JniUtils.setSeed(seed);
    }

    /** The PyTorch version the engine runs on, e.g. {@code 2.7.1}. */
    public static String torchVersion() {
        return init().getVersion();
    }

    /** The DJL version on the class path. */
    public static String djlVersion() {
        return Engine.getDjlVersion();
    }
}
