package dev.unetlens.spark;

import dev.unetlens.golden.Golden;
import dev.unetlens.golden.TestImages;
import dev.unetlens.io.AtomicFiles;
import dev.unetlens.io.RgbImage;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Small inputs for the batch tests: distinct gradient images on the first fixture model, and reading tables back. */
final class BatchTestData {
    static final int SIDE = 96;

    private BatchTestData() {
    }

    static String model(int i) {
        return Golden.get().path("models/" + Golden.get().models().get(i)).toString();
    }

    /** {@code n} distinct PNG images in {@code folder}. */
    static Path images(Path folder, int n) {
        RgbImage g = TestImages.gradient(SIDE, SIDE);
        for (int i = 0; i < n; i++) {
            byte[] px = g.rgb().clone();
            for (int k = 0; k < px.length; k++) {
                px[k] = (byte) (px[k] + 37 * i * (k % 3 + 1) + (k / 3 % SIDE) * i);
            }
            RgbImage img = new RgbImage(SIDE, SIDE, px);
            AtomicFiles.write(folder.resolve(String.format("img%02d.png", i)), o -> img.writePng(o, Map.of()));
        }
        return folder;
    }

    /**
     * The test class's Spark session (local[2]), started on first use: batch runs without --master, or with local[2],
     * run in it, and the tables are read back with it. {@link #stopShared} (after a class) ends it.
     */
    static SparkSession shared() {
        return BatchSpark.open("local[2]").spark();
    }

    /** Stops the shared session, if one runs, so that a batch can start its own (another master). */
    static void stopShared() {
        scala.Option<SparkSession> running = SparkSession.getDefaultSession();
        if (running.isDefined()) {
            running.get().stop();
        }
    }

    /** A table's rows without the chunk column, sorted, as strings (arrays spelled out): comparable across runs. */
    static List<String> table(Path dir) {
        var d = shared().read().parquet(dir.toString()).drop("chunk");
        String[] cols = d.columns();
        return d.collectAsList().stream().map(r -> row(r, cols)).sorted().toList();
    }

    private static String row(Row r, String[] cols) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cols.length; i++) {
            Object v = r.get(i);
            b.append(cols[i]).append('=').append(v instanceof scala.collection.Seq<?> s ? s.mkString("[", ",", "]") : v).append(' ');
        }
        return b.toString();
    }
}
