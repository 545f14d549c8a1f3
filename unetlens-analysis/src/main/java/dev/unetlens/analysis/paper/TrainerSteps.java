package dev.unetlens.analysis.paper;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;

import java.lang.reflect.Field;

/**
 * {@link Trainer#step()} without DJL's false alarm. On a trainer's first step DJL 0.35 sums every gradient and
 * refuses the step ("Gradient values are all zeros") if the sum is 0 — meant to catch a missing backward. For a
 * linear probe under softmax cross-entropy the sum is 0 analytically (each head's bias gradients sum to
 * Σ_k (p_k − y_k) = 0, its weight gradients to that times Σ_j x_j), so float32 rounding alone decides, and the sum
 * is exactly 0 often enough to fail a run (seen: {@code analyze paper} on the tiny model once SDPA moved its features
 * in the last bits). Here the first step checks what DJL means to check — that some gradient is not zero — and then
 * marks DJL's check as done; if DJL's field cannot be set (another DJL), its own check runs.
 */
final class TrainerSteps {
    private static final Field CHECKED = checkedField();

    private TrainerSteps() {
    }

    /** One optimizer step; the first one of a trainer checks that backward produced a gradient that is not zero. */
    static void step(Trainer trainer) {
        if (CHECKED != null && !checked(trainer)) {
            if (!anyGradient(trainer)) {
                throw new IllegalStateException("every gradient of the probe is zero: backward did not reach its"
                        + " parameters");
            }
            mark(trainer);
        }
        trainer.step();
    }

    /** Whether some trainable parameter has a gradient element that is not zero. */
    static boolean anyGradient(Trainer trainer) {
        for (Parameter p : trainer.getModel().getBlock().getParameters().values()) {
            if (p.requiresGradient()) {
                try (NDArray g = p.getArray().getGradient(); NDArray max = g.abs().max()) {
                    if (max.getFloat() > 0) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static boolean checked(Trainer trainer) {
        try {
            return CHECKED.getBoolean(trainer);
        } catch (IllegalAccessException e) {
            return true;                                                        // leave it to DJL
        }
    }

    private static void mark(Trainer trainer) {
        try {
            CHECKED.setBoolean(trainer, true);
        } catch (IllegalAccessException e) {                                    // DJL's own check runs
        }
    }

    private static Field checkedField() {
        try {
            Field f = Trainer.class.getDeclaredField("gradientsChecked");
            f.setAccessible(true);
            return f.getType() == boolean.class ? f : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
