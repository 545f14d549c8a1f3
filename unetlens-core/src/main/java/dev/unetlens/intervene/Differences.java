package dev.unetlens.intervene;

import ai.djl.ndarray.NDArray;
import dev.unetlens.UnetlensException;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.HookScope;
import dev.unetlens.io.NpyArray;
import dev.unetlens.model.ForwardContext;
import dev.unetlens.model.Tensors;

import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * Differences between two runs of one seed, "with − without": per hook point and step, the changed run's tensor
 * minus the baseline's (recorded with {@link Recording}), computed while the changed run goes and handed on at once,
 * so only the baseline is held in memory.
 */
public final class Differences {
    private Differences() {
    }

    /**
     * One point at one step.
     *
     * @param point        the hook point
     * @param step         0-based step
     * @param timestep     the model timestep
     * @param rows         labels of the rows kept
     * @param delta        changed − baseline, float32, the point's shape with the kept rows
     * @param baselineNorm ‖baseline‖₂ over the kept rows
     * @param deltaNorm    ‖delta‖₂
     * @param maxAbs       max |delta|
     */
    public record Difference(String point, int step, double timestep, List<ForwardContext.RowLabel> rows, NpyArray delta,
                             double baselineNorm, double deltaNorm, double maxAbs) {
        /** ‖delta‖ / ‖baseline‖ (0 when both are 0). */
        public double relative() {
            return deltaNorm == 0 ? 0 : deltaNorm / baselineNorm;
        }
    }

    /**
     * Adds hooks to {@code scope} (the changed run's) that subtract {@code baseline}'s tensor from each of
     * {@code points} at the steps {@code steps} accepts (0-based), on the rows {@code rows} keeps — the same rows the
     * baseline recorded — and give the result to {@code sink}. Add it after the run's edits to see edited outputs.
     */
    public static void observe(HookScope scope, Recording baseline, Collection<String> points, IntPredicate steps,
                               Capture.Rows rows, Consumer<Difference> sink) {
        scope.capture(points, rows, c -> {
            if (!steps.test(c.step())) {
                return;
            }
            NDArray base = baseline.get(c.point(), c.evaluation());
            if (!base.getShape().equals(c.value().getShape())) {
                throw new UnetlensException(c.point() + " is " + c.value().getShape() + " in this run but "
                        + base.getShape() + " in the baseline; compare runs of the same size and batch");
            }
            NpyArray now = Tensors.toNpy(c.value());
            NpyArray before = Tensors.toNpy(base);
            sink.accept(of(c.point(), c.step(), c.timestep(), c.rows(), before, now));
        });
    }

    /** {@code after − before} with its norms. */
    public static Difference of(String point, int step, double timestep, List<ForwardContext.RowLabel> rows,
                                NpyArray before, NpyArray after) {
        float[] a = before.toFloats();
        float[] b = after.toFloats();
        if (a.length != b.length) {
            throw new UnetlensException(point + ": tensors of different sizes cannot be subtracted");
        }
        float[] d = new float[a.length];
        double base = 0;
        double norm = 0;
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            d[i] = b[i] - a[i];
            base += (double) a[i] * a[i];
            norm += (double) d[i] * d[i];
            max = Math.max(max, Math.abs(d[i]));
        }
        return new Difference(point, step, timestep, rows, NpyArray.ofFloats(after.shape(), d), Math.sqrt(base),
                Math.sqrt(norm), max);
    }
}
