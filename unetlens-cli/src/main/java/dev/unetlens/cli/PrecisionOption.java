package dev.unetlens.cli;

import dev.unetlens.model.Bf16;
import dev.unetlens.model.Precision;
import picocli.CommandLine.Option;

/** {@code --precision fp32|bf16}: the arithmetic of the U-Net's products (generate, extract, analyze, bench). */
public final class PrecisionOption {
    @Option(names = "--precision", paramLabel = "fp32|bf16",
            description = "Arithmetic of the U-Net's convolutions, linear layers and attention products: fp32 (default,"
                    + " exact to diffusers) or bf16 (opt-in, about 1.6-2x faster on CPUs with AVX512_BF16 or AMX; its error"
                    + " against fp32 on the first step goes into the manifest).")
    String precision;

    /** The chosen precision (fp32 unless given); bf16 is refused in one line on a CPU without bf16 arithmetic. */
    Precision value() {
        Precision p = precision == null ? Precision.FP32 : Precision.parse(precision);
        if (p == Precision.BF16) {
            Bf16.requireSupported();
        }
        return p;
    }
}
