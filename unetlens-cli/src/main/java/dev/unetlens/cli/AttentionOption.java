package dev.unetlens.cli;

import dev.unetlens.UnetlensException;
import dev.unetlens.model.AttentionKernel;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --attention explicit|sdpa}: the kernel of every attention core in this run ({@link AttentionKernel}), for
 * the commands that run the U-Net. The manifest's {@code compute.attention} records the kernel asked for and the one
 * that ran (SDPA falls back to explicit, with a one-line warning, where it cannot be loaded).
 */
public final class AttentionOption {
    @Option(names = "--attention", paramLabel = "KERNEL", defaultValue = "sdpa", converter = Converter.class,
            description = "Attention kernel: sdpa (torch's fused flash attention, the default, as diffusers on torch 2"
                    + " uses) or explicit (unetlens' chunked softmax, 2-3× slower at 4096 tokens); outputs agree within"
                    + " float rounding.")
    AttentionKernel kernel = AttentionKernel.SDPA;

    /** Selects the kernel for this process; call before the first forward. */
    void apply() {
        AttentionKernel.select(kernel);
    }

    /** picocli converter: explicit or sdpa, any case. */
    static final class Converter implements CommandLine.ITypeConverter<AttentionKernel> {
        @Override
        public AttentionKernel convert(String value) {
            try {
                return AttentionKernel.parse(value);
            } catch (UnetlensException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not an attention kernel; choose explicit or sdpa");
            }
        }
    }
}
