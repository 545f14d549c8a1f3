package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A consuming scope frees a large module output once the next module has read it, never the forward's inputs, keeps
 * small ones to its end, and hands the forward a copy where a hook gives back one of its inputs.
 */
class ForwardScopeTest {
    /** A module that emits f(x). */
    private static final class Step extends Module {
        private final UnaryOperator<NDArray> f;

        Step(UnaryOperator<NDArray> f) {
            super("step");
            this.f = f;
        }

        NDArray forward(NDArray x) {
            return emit(x, f.apply(x));
        }
    }

    @Test
    void largeModuleOutputsAreFreedOnceReadAndInputsNever() {
        try (NDManager m = NDManager.newBaseManager()) {
            long large = ForwardScope.EARLY_FREE_BYTES / Float.BYTES + 1;
            NDArray x = m.zeros(new Shape(large));
            NDArray small = m.zeros(new Shape(16));
            Step plusOne = new Step(v -> v.add(1));
            NDArray out;
            NDArray h1;
            NDArray s1;
            try (ForwardScope scope = ForwardScope.consuming(x, small)) {
                h1 = plusOne.forward(x);                                       // reads the input: kept
                NDArray h2 = plusOne.forward(h1);                              // reads h1, large: freed
                s1 = plusOne.forward(small);
                NDArray s2 = plusOne.forward(s1);                              // s1 is small: freed at the end
                assertThat(x.isReleased()).isFalse();
                assertThat(h1.isReleased()).isTrue();
                assertThat(s1.isReleased()).isFalse();
                assertThat(s2.getFloat(0)).isEqualTo(2f);
                out = scope.keep(plusOne.forward(h2));
            }
            assertThat(s1.isReleased()).isTrue();
            assertThat(out.isReleased()).isFalse();
            assertThat(out.getFloat(large - 1)).isEqualTo(3f);
        }
    }

    @Test
    void anInputHandedBackAsAModuleOutputIsCopied() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {-2f, 0f, 3f});
            try (ForwardScope scope = ForwardScope.consuming(x)) {
                NDArray h = ForwardScope.read(x, x);                          // a hook returned the input itself
                assertThat(h).isNotSameAs(x);
                Activations.SILU.overwrite(h);                                 // the forward may write over it
                assertThat(x.toFloatArray()).containsExactly(-2f, 0f, 3f);
            }
            try (ForwardScope plain = new ForwardScope()) {
                assertThat(ForwardScope.read(x, x)).isSameAs(x);             // a plain scope changes nothing
            }
        }
    }
}
