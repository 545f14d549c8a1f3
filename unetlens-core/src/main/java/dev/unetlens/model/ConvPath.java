package dev.unetlens.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The ways {@link Conv2d} can compute one convolution call; all give the same sums up to the order of the additions.
 * Which one a shape uses is decided by {@link dev.unetlens.model.check.KernelChecks}: the preferred one, unless its
 * output fails the float64 check, then the next in {@link #order}.
 */
enum ConvPath {
    /** libtorch's convolution in bfloat16 (oneDNN's AVX512_BF16/AMX kernels, float32 accumulation): input cast, the
     *  weights' bf16 copy, output widened to float32. Only for a bf16 model, tried first there. */
    BF16,
    /** libtorch's convolution: oneDNN's kernels for this CPU. */
    ONEDNN,
    /** The same with the input channels zero-padded to a multiple of 16 (the weight padded once): oneDNN then takes
     *  its whole-block code, which is right where its tail handling is not (AVX-512, Cin over 20, not a multiple of 16). */
    PADDED_CHANNELS,
    /** The k² shifted copies of the input side by side times the weight as one matrix product (MKL's sgemm). */
    IM2COL,
    /** libtorch's convolution in float64 (its own im2col and dgemm, not oneDNN), rounded to float32: slow, last. */
    FLOAT64;

    /** Channel block of oneDNN's blocked layouts on AVX-512 (16 floats to a register). */
    static final long CHANNEL_BLOCK = 16;

    boolean usesOneDnn() {
        return this == ONEDNN || this == PADDED_CHANNELS || this == BF16;
    }

    /** The arithmetic this way's check holds it to. */
    dev.unetlens.model.check.Arithmetic arithmetic() {
        return this == BF16 ? dev.unetlens.model.check.Arithmetic.BFLOAT16 : dev.unetlens.model.check.Arithmetic.FLOAT32;
    }

    /** {@link #order}, after the bf16 way when {@code bf16}: a bf16 kernel that fails its check falls back to fp32. */
    static List<ConvPath> order(ConvPath preferred, long inChannels, boolean bf16) {
        List<ConvPath> out = new ArrayList<>(order(preferred, inChannels));
        if (bf16) {
            out.addFirst(BF16);
        }
        return out;
    }

    /**
     * The ways to try, in order: {@code preferred}, then padded channels (where Cin is not a multiple of 16), oneDNN,
     * im2col, float64. Where oneDNN is preferred and Cin is over 16 and not a multiple of 16, padded channels come
     * first: on AVX-512 oneDNN reads the unwritten tail of its padded channel block there, so its answer depends on
     * what that memory held — right on one call, wrong on the next — and a check cannot prove it right.
     */
    static List<ConvPath> order(ConvPath preferred, long inChannels) {
        boolean ragged = inChannels % CHANNEL_BLOCK != 0;
        List<ConvPath> out = new ArrayList<>();
        if (preferred == ONEDNN && ragged && inChannels > CHANNEL_BLOCK) {
            out.add(PADDED_CHANNELS);
        }
        out.add(preferred);
        for (ConvPath p : values()) {
            if (p != BF16 && (p != PADDED_CHANNELS || ragged) && !out.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
