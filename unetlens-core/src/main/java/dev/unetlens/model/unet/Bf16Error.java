package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.Bf16;
import dev.unetlens.model.HookTable;

/**
 * How far a bf16 U-Net's output is from fp32's, measured at run time on the model's first forward (a generation's
 * first step: the prediction; an extraction that stops after the deepest module it needs: that stage's output): the
 * same input through the same model, as far, with the bf16 ways suspended ({@link Bf16#suspended}, the
 * float32 weights and kernels, exactly the fp32 path) — one extra forward per run, about 1/(steps·1.6) of a
 * generation's U-Net time. The reference runs with every hook point detached, so captures and edits see it not; where
 * the run's own forward had listeners (an edit may change it), its output is not comparable, and one more bf16
 * forward, detached too, is the one compared.
 *
 * @param stage          the stage whose output was compared ({@code ""}: the prediction)
 * @param timestep       the forward's first timestep
 * @param maxAbs         max |bf16 − fp32| over the prediction
 * @param maxReference   max |fp32|, the scale maxAbs is of
 * @param relativeL2     ‖bf16 − fp32‖₂ / ‖fp32‖₂
 * @param extraBf16      whether a second, detached bf16 forward was compared (the run's own had listeners)
 * @param seconds        what the measurement cost
 */
public record Bf16Error(String stage, double timestep, double maxAbs, double maxReference, double relativeL2, boolean extraBf16,
                        double seconds) {

    static Bf16Error measure(UNet2DConditionModel unet, UNetInput in, StopAfter stop, NDArray output) {
        long t0 = System.nanoTime();
        boolean listened = unet.hooks().hasListeners();
        float[] bf16;
        float[] fp32;
        try (HookTable.Detached detached = unet.hooks().detach()) {
            try (NDArray ref = Bf16.suspended(() -> unet.forward(in, stop))) {
                fp32 = ref.toFloatArray();
            }
            if (listened) {
                try (NDArray again = unet.forward(in, stop)) {
                    bf16 = again.toFloatArray();
                }
            } else {
                bf16 = output.toFloatArray();
            }
        }
        Difference d = Difference.of(bf16, fp32);
        float[] t = in.timestep().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        return new Bf16Error(stop.stage(), t.length == 0 ? Double.NaN : t[0], d.maxAbs(), d.maxReference(),
                d.relativeL2(), listened, (System.nanoTime() - t0) / 1e9);
    }

    /** How far {@code values} are from {@code reference}: max |v − r|, max |r|, ‖v − r‖₂ / ‖r‖₂ (0 for a zero reference). */
    public record Difference(double maxAbs, double maxReference, double relativeL2) {
        public static Difference of(float[] values, float[] reference) {
            if (values.length != reference.length) {
                throw new IllegalArgumentException(values.length + " values against " + reference.length);
            }
            double max = 0;
            double ref = 0;
            double d2 = 0;
            double r2 = 0;
            for (int i = 0; i < reference.length; i++) {
                double d = (double) values[i] - reference[i];
                max = Math.max(max, Math.abs(d));
                ref = Math.max(ref, Math.abs(reference[i]));
                d2 += d * d;
                r2 += (double) reference[i] * reference[i];
            }
            return new Difference(max, ref, r2 == 0 ? 0 : Math.sqrt(d2 / r2));
        }
    }
}
