package dev.unetlens.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.DType;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.Tensors;
import dev.unetlens.model.TorchRuntime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A component's weights with LoRA differences merged in: each changed tensor reads as float32
 * W + Σ scale · ΔW, computed with libtorch when it is first read and freed when the loader
 * {@link #release releases} it (so a model with a LoRA peaks at one merged tensor more, not one model more); every
 * other tensor is the base's, unchanged.
 */
final class MergedSource implements TensorSource {
    /** One module's difference to one tensor. */
    record Change(LoraFile file, LoraFile.Module module, String part, double scale) {
    }

    private final TensorSource base;
    private final Map<String, List<Change>> changes;
    private final Map<String, Arena> merged = new LinkedHashMap<>();
    private final Map<String, MemorySegment> values = new LinkedHashMap<>();

    MergedSource(TensorSource base, Map<String, List<Change>> changes) {
        this.base = base;
        this.changes = changes;
    }

    @Override
    public List<String> names() {
        return base.names();
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        Optional<TensorInfo> t = base.info(name);
        if (t.isEmpty() || !changes.containsKey(name)) {
            return t;
        }
        TensorInfo b = t.get();
        return Optional.of(new TensorInfo(name, DType.F32, b.shape(), 0, 4 * b.elementCount()));
    }

    @Override
    public synchronized MemorySegment data(String name) {
        List<Change> list = changes.get(name);
        if (list == null) {
            return base.data(name);
        }
        MemorySegment done = values.get(name);
        if (done != null) {
            return done;
        }
        TensorInfo info = base.info(name).orElseThrow();
        if (!Tensors.loadable(info.dtype())) {
            throw new UnetlensException(base.describe() + ": tensor " + Messages.quote(name) + " has dtype "
                    + info.dtype() + "; a LoRA changes floating weights only");
        }
        Arena arena = Arena.ofShared();
        try (NDManager m = TorchRuntime.newBaseManager()) {
            NDArray w = Tensors.load(m, info, base.data(name));
            boolean finite = finite(w);
            for (Change c : list) {
                w = w.add(Deltas.delta(c.file(), c.module(), c.part(), info.shape(), m).mul(c.scale()));
                if (finite && !finite(w)) {
                    throw new UnetlensException(c.file().spec().file() + ": module " + Messages.quote(c.module().key())
                            + " at scale " + c.scale() + " makes " + Messages.quote(name) + " infinite or NaN");
                }
            }
            float[] v = w.toFloatArray();
            MemorySegment out = arena.allocate(4L * v.length, 8);
            MemorySegment.copy(v, 0, out, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, v.length);
            merged.put(name, arena);
            values.put(name, out);
            return out;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static boolean finite(NDArray x) {
        return !x.isNaN().any().getBoolean() && !x.isInfinite().any().getBoolean();
    }

    /** Frees a merged tensor once the loader has copied it (it is computed again if read again). */
    @Override
    public synchronized void release(String name) {
        Arena a = merged.remove(name);
        values.remove(name);
        if (a != null) {
            a.close();
        }
    }

    @Override
    public String describe() {
        return base.describe();
    }

    @Override
    public synchronized void close() {
        merged.values().forEach(Arena::close);
        merged.clear();
        values.clear();
    }
}
