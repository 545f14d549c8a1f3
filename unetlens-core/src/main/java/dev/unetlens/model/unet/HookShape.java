package dev.unetlens.model.unet;

import ai.djl.ndarray.types.Shape;

/**
 * A hook point's output shape for a given input size, computed from the config without running the model.
 *
 * @param name      the point's name ({@code down_blocks.1.attentions.0}, {@code …attn1:probs})
 * @param className the diffusers / torch class of the module that emits it ({@code Transformer2DModel})
 * @param shape     the tensor's shape
 */
public record HookShape(String name, String className, Shape shape) {
}
