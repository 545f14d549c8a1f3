package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * A child process for {@link NnpackTest}: the small convolutions for which libtorch asks NNPACK first (3 and 4 input
 * channels), on a manager from {@link TorchRuntime} unless {@code args[0]} is "plain".
 */
public final class QuietConvolution {
    private QuietConvolution() {
    }

    public static void main(String[] args) {
        boolean plain = args.length > 0 && args[0].equals("plain");
        try (NDManager m = plain ? NDManager.newBaseManager() : TorchRuntime.newBaseManager()) {
            for (int c : new int[] {3, 4}) {
                NDArray x = m.randomNormal(new Shape(1, c, 16, 16));
                NDArray w = m.randomNormal(new Shape(8, c, 3, 3));
                x.getNDArrayInternal().convolution(x, w, null, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1);
            }
        }
        System.out.println("done");
    }
}
