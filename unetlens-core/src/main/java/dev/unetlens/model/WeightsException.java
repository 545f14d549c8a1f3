package dev.unetlens.model;

import dev.unetlens.UnetlensException;

/** Weights that do not fit the model built from the config: missing, unexpected or wrongly shaped tensors. */
public final class WeightsException extends UnetlensException {
    public WeightsException(String message) {
        super(message);
    }
}
