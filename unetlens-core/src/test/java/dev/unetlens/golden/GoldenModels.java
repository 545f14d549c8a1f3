package dev.unetlens.golden;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.io.NpyArray;
import dev.unetlens.model.Tensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Helpers shared by the golden model tests: listing case files, loading inputs, comparing NDArrays. */
public final class GoldenModels {
    private GoldenModels() {
    }

    /** File names in {@code cases/<model>/<kind>/} (sorted), relative to the golden root. */
    public static List<String> caseFiles(String model, String kind) {
        Path dir = Golden.get().path("cases/" + model + "/" + kind);
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).map(p -> "cases/" + model + "/" + kind + "/" + p.getFileName())
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads an npy fixture as an NDArray (float32, or int64 for integer files). */
    public static NDArray load(NDManager m, String relative) {
        return Tensors.fromNpy(m, Golden.get().npy(relative));
    }

    /** Asserts {@code actual} equals the fixture within atol + rtol·|expected|. */
    public static void assertClose(String relative, NDArray actual, double atol, double rtol) {
        NpyArray expected = Golden.get().npy(relative);
        Close.assertClose(relative, actual.getShape().getShape(), actual.toFloatArray(), expected, atol, rtol);
    }
}
