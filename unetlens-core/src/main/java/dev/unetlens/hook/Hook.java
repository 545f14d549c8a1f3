package dev.unetlens.hook;

import ai.djl.ndarray.NDArray;

/**
 * Sees a hook point's tensor and returns it unchanged (to observe) or a replacement of the same shape (to
 * intervene). Must not modify {@code value} in place: downstream modules and other hooks share it.
 */
@FunctionalInterface
public interface Hook {
    NDArray apply(NDArray value, HookContext context);
}
