package dev.unetlens.analysis;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.extract.ImageFeatures;
import dev.unetlens.io.OutputDirectory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Constructed representations fed to an analysis' accumulator as the U-Net would stream them: value(image, timestep,
 * point, draw, c, h, w) in batches of {@code batch} draws, then the end of each image's draws at each timestep.
 */
public final class Planted {
    private Planted() {
    }

    /** A planted value. */
    @FunctionalInterface
    public interface Value {
        double at(int image, int timestep, String point, int draw, int c, int h, int w);
    }

    /** Streams images × timesteps × draws in the order {@link ImageFeatures#stream} does. */
    public static void feed(ImageFeatures.BatchSink sink, List<java.util.Map<String, MapShape>> shapes,
                            List<Integer> timesteps, int draws, int batch, Value v) {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int i = 0; i < shapes.size(); i++) {
                for (int t : timesteps) {
                    for (int k0 = 0; k0 < draws; k0 += batch) {
                        int b = Math.min(batch, draws - k0);
                        for (var e : shapes.get(i).entrySet()) {
                            MapShape s = e.getValue();
                            float[] x = new float[b * s.size()];
                            for (int r = 0; r < b; r++) {
                                for (int c = 0; c < s.channels(); c++) {
                                    for (int h = 0; h < s.height(); h++) {
                                        for (int w = 0; w < s.width(); w++) {
                                            x[((r * s.channels() + c) * s.height() + h) * s.width() + w] =
                                                    (float) v.at(i, t, e.getKey(), k0 + r, c, h, w);
                                        }
                                    }
                                }
                            }
                            NDArray value = m.create(x, new Shape(b, s.channels(), s.height(), s.width()));
                            sink.accept(new ImageFeatures.Batch(i, t, e.getKey(), k0, value));
                            value.close();
                        }
                    }
                    sink.samplesDone(i, t);
                }
            }
        }
    }

    /**
     * Where tests draw their pictures: {@code $UNETLENS_TEST_PICTURES/name} (kept, to look at) or a fresh folder
     * under {@code tmp}.
     */
    public static OutputDirectory pictures(Path tmp, String name) {
        String keep = System.getenv("UNETLENS_TEST_PICTURES");
        Path dir = keep != null ? Path.of(keep).resolve(name) : tmp.resolve(name);
        return OutputDirectory.open(dir, "test", true);
    }

    /** Every PNG the manifest lists decodes to its recorded size; every SVG is an SVG. */
    public static int checkPictures(OutputDirectory out) throws Exception {
        int n = 0;
        for (var f : out.manifest().get("files")) {
            Path p = out.dir().resolve(f.get("file").asText());
            if (p.toString().endsWith(".png")) {
                var img = javax.imageio.ImageIO.read(p.toFile());
                if (img == null || img.getWidth() != f.get("width").asInt() || img.getHeight() != f.get("height").asInt()) {
                    throw new AssertionError(p + " does not decode to its recorded size");
                }
                n++;
            } else if (p.toString().endsWith(".svg") && !Files.readString(p).contains("<svg")) {
                throw new AssertionError(p + " is not an SVG");
            }
        }
        return n;
    }
}
