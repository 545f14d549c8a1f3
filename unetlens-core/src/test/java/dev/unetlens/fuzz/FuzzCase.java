package dev.unetlens.fuzz;

import java.nio.file.Path;
import java.util.List;

/**
 * One mutated input and how to load it.
 *
 * @param mutation what was changed, for reports ({@code retype conv_in.weight to I16})
 * @param blame    paths a rejection may name: the mutated file, and the files read with it (its component's weights
 *                 or config, its folder); a rejection must name one of them
 * @param load     loads the input through the project's public API and, when it is accepted, checks what was
 *                 loaded (float32 tensors of the right shapes, a forward pass), failing with an AssertionError
 * @param fifos    FIFOs the case created, opened for writing if the load hangs on one so that its thread ends
 */
record FuzzCase(String mutation, List<Path> blame, Load load, List<Path> fifos) {
    /** A load of the case's input; throws the project's exception to reject it. */
    @FunctionalInterface
    interface Load {
        void run() throws Exception;
    }

    FuzzCase(String mutation, List<Path> blame, Load load) {
        this(mutation, blame, load, List.of());
    }
}
