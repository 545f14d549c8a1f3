package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.model.check.Arithmetic;
import dev.unetlens.model.check.Comparison;
import dev.unetlens.model.check.KernelChecks;
import dev.unetlens.model.check.LinearCheck;
import dev.unetlens.model.check.WeightRows;

import java.util.List;
import java.util.Locale;

/**
 * torch.nn.Linear: {@code y = x·Wᵀ + b} over the last axis. x [..., in] → [..., out]; hook: this path.
 *
 * <p>Each new input shape's first product is checked against float64 sums at sampled entries
 * ({@link KernelChecks}); if libtorch's (MKL's sgemm) is wrong, the product is taken in float64.
 */
public final class Linear extends Module {
    private final NDArray weight;   // [out, in]
    private final NDArray bias;     // [out] or null
    private final NDArray weightBf16;   // bf16 copies for a bf16 model ({@link Weights#reduced}), else null
    private final NDArray biasBf16;
    private volatile NDArray weight64;
    private volatile NDArray bias64;
    private volatile WeightRows spotRows;

    /** The ways to the product, in the order tried. */
    enum Path {
        /** libtorch's product in bfloat16 (oneDNN, float32 accumulation), float32 in and out: a bf16 model's first. */
        BF16, LIBTORCH, FLOAT64;

        Arithmetic arithmetic() {
            return this == BF16 ? Arithmetic.BFLOAT16 : Arithmetic.FLOAT32;
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Linear(Weights w, String path, long in, long out, boolean bias) {
        super(path);
        this.weight = w.take(sub("weight"), out, in);
        this.bias = bias ? w.take(sub("bias"), out) : null;
        this.weightBf16 = w.reduced(weight);
        this.biasBf16 = w.reduced(this.bias);
    }

    /** Whether this layer computes in bf16 now: a bf16 model's, outside {@link Bf16#suspended}. */
    boolean bf16() {
        return weightBf16 != null && Bf16.active();
    }

    public NDArray forward(NDArray x) {
        boolean bf16 = bf16();
        Key key = new Key(x.getShape(), weight.getShape(), bias != null, bf16);
        List<Path> paths = bf16 ? List.of(Path.values()) : List.of(Path.LIBTORCH, Path.FLOAT64);
        NDArray y = KernelChecks.run("linear", key, paths, p -> false, new KernelChecks.Way<>() {
            @Override
            public NDArray compute(Path path) {
                return switch (path) {
                    case BF16 -> bf16(x);
                    case LIBTORCH -> linear(x, weight, bias);
                    case FLOAT64 -> float64(x);
                };
            }

            @Override
            public Comparison check(Path path, NDArray y, boolean thorough, java.util.SplittableRandom random) {
                return thorough ? LinearCheck.compare(x, weight, bias, y, random, path.arithmetic())
                        : LinearCheck.spot(x, weight.getShape().get(1), weight.getShape().get(0), spotRows(), y, random,
                                path.arithmetic());
            }
        });
        return emit(x, y);
    }

    private WeightRows spotRows() {
        WeightRows r = spotRows;
        if (r == null) {
            r = WeightRows.of(weight, bias);
            spotRows = r;
        }
        return r;
    }

    /** A product's shape and arithmetic. */
    record Key(Shape input, Shape weight, boolean bias, boolean bf16) {
        @Override
        public String toString() {
            return "x" + input + " w" + weight + (bias ? " with bias" : "") + (bf16 ? " bf16" : "");
        }
    }

    private static NDArray linear(NDArray x, NDArray w, NDArray b) {
        return ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow();
    }

    /** The product in bfloat16: x cast, the weights' bf16 copies, the output widened to float32 (exactly). */
    private NDArray bf16(NDArray x) {
        return Bf16.apply(x, xb -> linear(xb, weightBf16, biasBf16));
    }

    private NDArray float64(NDArray x) {
        if (weight64 == null) {
            synchronized (this) {
                if (weight64 == null) {
                    bias64 = bias == null ? null : kept(bias.toType(DataType.FLOAT64, true));
                    weight64 = kept(weight.toType(DataType.FLOAT64, true));
                }
            }
        }
        try (NDArray x64 = x.toType(DataType.FLOAT64, true); NDArray y64 = linear(x64, weight64, bias64)) {
            return y64.toType(DataType.FLOAT32, true);
        }
    }

    private NDArray kept(NDArray a) {
        ForwardScope.detach(a).attach(weight.getManager());
        return a;
    }
}
