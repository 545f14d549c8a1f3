package dev.unetlens.cli.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.golden.Golden;
import dev.unetlens.io.DiffusersFolder;

import java.util.List;

/** Runs a self-timed bench case small, on the first golden model, as the bench tests do. */
final class SmallCases {
    private SmallCases() {
    }

    /** The case's result on the first model of the golden index; its progress lines go to {@code progress}. */
    static ObjectNode measure(BenchCase c, List<String> progress) {
        Golden g = Golden.get();
        try (NDManager m = NDManager.newBaseManager();
             BenchCase.SelfTimedWorkload w = (BenchCase.SelfTimedWorkload) c.open(
                     DiffusersFolder.open(g.path("models/" + g.models().getFirst())), m)) {
            return w.measure(progress::add);
        }
    }
}
