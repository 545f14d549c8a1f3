package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.model.Module;

/**
 * diffusers embeddings.py {@code Timesteps} ({@code get_timestep_embedding}, max_period 10⁴, scale 1): sinusoidal
 * features of (possibly fractional) timesteps, in diffusers' float32 arithmetic. With half = D/2 and
 * k = 0 … half−1:
 * <pre>
 *   f_k    = exp(fl32(−ln 10⁴) · k / (half − downscale_freq_shift))      float32, in this order
 *   emb    = [sin(t·f_k), cos(t·f_k)]   or [cos, sin] with flip_sin_to_cos, zero-padded to odd D
 * </pre>
 * t [N] → [N, D]; hook: this path ({@code time_proj}, SDXL's {@code add_time_proj}). No weights.
 */
public final class Timesteps extends Module {
    private static final float MINUS_LOG_MAX_PERIOD = (float) -Math.log(10000);   // Python scalar cast by torch
    private final int numChannels;
    private final boolean flipSinToCos;
    private final double downscaleFreqShift;

    public Timesteps(String path, int numChannels, boolean flipSinToCos, double downscaleFreqShift) {
        super(path);
        this.numChannels = numChannels;
        this.flipSinToCos = flipSinToCos;
        this.downscaleFreqShift = downscaleFreqShift;
    }

    /** timesteps [N] (any numeric type; used as float32) → [N, D]. */
    public NDArray forward(NDArray timesteps) {
        int half = numChannels / 2;
        NDArray exponent = timesteps.getManager().arange(0, half, 1, DataType.FLOAT32)
                .mul(MINUS_LOG_MAX_PERIOD)
                .div((float) (half - downscaleFreqShift));                        // [half]
        NDArray freqs = exponent.exp().expandDims(0);                              // [1, half]
        NDArray arg = timesteps.toType(DataType.FLOAT32, false).expandDims(1).mul(freqs); // [N, half]
        NDArray emb = flipSinToCos ? arg.cos().concat(arg.sin(), 1) : arg.sin().concat(arg.cos(), 1); // [N, 2·half]
        if (numChannels % 2 == 1) {
            emb = emb.pad(new Shape(0, 1), 0);                                     // zero column at the end
        }
        return emit(timesteps, emb);
    }

    long[] shapes(ShapeSink s, long n) {
        return s.put(this, n, numChannels);
    }
}
