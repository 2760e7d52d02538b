package dev.align.core.nd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Small tensor helpers that keep Align clear of the engine's sharp edges (see docs/architecture.md):
 *
 * <ul>
 *   <li>DJL's {@code create(buffer)} does not copy: the tensor points into the Java buffer, which the
 *       garbage collector may free while autograd still holds the tensor. Everything Align hands the
 *       engine goes through {@link #owned} (a copy into libtorch's own memory).
 *   <li>{@code array.op(javaNumber)} wraps the number in such a buffer, so it is never used on a
 *       differentiated path: scalars are 0-dim tensors from {@link #scalar}.
 * </ul>
 */
public final class Tensors {
    private Tensors() {}

    /** A copy of {@code data} (a direct or heap buffer, native byte order) in engine-owned memory. */
    public static NDArray owned(NDManager manager, ByteBuffer data, Shape shape, DataType type) {
        ByteBuffer direct = data;
        if (!data.isDirect()) {
            direct = ByteBuffer.allocateDirect(data.remaining()).order(ByteOrder.nativeOrder());
            direct.put(data.duplicate()).flip();
        }
        try (NDArray view = manager.create(direct, shape, type)) {
            return view.duplicate();
        }
    }

    /** An engine-owned INT64 tensor of {@code shape} from row-major {@code data}. */
    public static NDArray longs(NDManager manager, long[] data, Shape shape) {
        ByteBuffer b = ByteBuffer.allocateDirect(data.length * 8).order(ByteOrder.nativeOrder());
        b.asLongBuffer().put(data);
        return owned(manager, b, shape, DataType.INT64);
    }

    /** An engine-owned INT32 tensor of {@code shape} from row-major {@code data}. */
    public static NDArray ints(NDManager manager, int[] data, Shape shape) {
        ByteBuffer b = ByteBuffer.allocateDirect(data.length * 4).order(ByteOrder.nativeOrder());
        b.asIntBuffer().put(data);
        return owned(manager, b, shape, DataType.INT32);
    }

    /** An engine-owned FLOAT32 tensor of {@code shape} from row-major {@code data}. */
    public static NDArray floats(NDManager manager, float[] data, Shape shape) {
        ByteBuffer b = ByteBuffer.allocateDirect(data.length * 4).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(data);
        return owned(manager, b, shape, DataType.FLOAT32);
    }

    /** A 0-dim FLOAT32 constant made by the engine (safe on differentiated paths). */
    public static NDArray scalar(NDManager manager, float value) {
        return manager.full(new Shape(), value, DataType.FLOAT32);
    }

    /**
     * Runs {@code body} in a scope of its own: every array it creates is closed except the one it
     * returns, which joins the caller's scope (if any).
     */
    public static NDArray scoped(java.util.function.Supplier<NDArray> body) {
        NDArray result;
        try (NDScope scope = new NDScope()) {
            result = body.get();
            NDScope.unregister(result);
        }
        NDScope.register(result);
        return result;
    }

    /** Concatenates along {@code axis} (the parts stay open). */
    public static NDArray concat(NDList parts, int axis) {
        if (parts.size() == 1) {
            return parts.get(0).duplicate();
        }
        return ai.djl.ndarray.NDArrays.concat(parts, axis);
    }

    /** The values of a FLOAT32 tensor as a Java array (contiguous, row-major). */
    public static float[] toFloats(NDArray a) {
        NDArray f = a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
        try {
            return f.toFloatArray();
        } finally {
            if (f != a) {
                f.close();
            }
        }
    }
}
