package dev.unetlens.io.pickle;

import dev.unetlens.UnetlensException;

/**
 * A checkpoint the restricted reader refuses, in one line: the file, the part of it (the pickle entry), what is
 * wrong and, for the pickle itself, the opcode or global and its byte offset, e.g.
 * {@code m.ckpt: archive/data.pkl: global 'os.system' at byte 2 is not one a PyTorch state dict uses; unetlens never
 * runs pickle code}.
 */
public final class PickleException extends UnetlensException {
    public PickleException(String message) {
        super(message);
    }

    public PickleException(String message, Throwable cause) {
        super(message, cause);
    }
}
