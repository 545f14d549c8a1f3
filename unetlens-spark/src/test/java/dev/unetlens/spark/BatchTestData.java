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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Small inputs for the batch tests: distinct gradient images on the first fixture model, and reading tables back. */
final class BatchTestData {
    /** A number in a row's text: a float or an integer, not a digit inside a name (img00.png, chunk=00001). */
    private static final Pattern NUMBER = Pattern.compile("(?<![\\w.])-?\\d+(\\.\\d+)?([eE]-?\\d+)?(?![\\w.])");
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

    /**
     * The two tables hold the same rows up to float rounding: sorted as by {@link #table}, each pair of rows has the same
     * text between its numbers, its integers are equal and each pair of other numbers is within {@code rel} (relative, or absolute
     * below 1).
     */
    static void assertSameRows(Path a, Path b, double rel) {
        List<String> ra = table(a);
        List<String> rb = table(b);
        org.assertj.core.api.Assertions.assertThat(ra).as(a + " rows").hasSameSizeAs(rb);
        for (int i = 0; i < ra.size(); i++) {
            Matcher ma = NUMBER.matcher(ra.get(i));
            Matcher mb = NUMBER.matcher(rb.get(i));
            String where = a.getFileName() + " row " + i + ": " + ra.get(i).substring(0, Math.min(160, ra.get(i).length()));
            org.assertj.core.api.Assertions.assertThat(NUMBER.matcher(ra.get(i)).replaceAll("#"))
                    .as(where).isEqualTo(NUMBER.matcher(rb.get(i)).replaceAll("#"));
            while (ma.find() && mb.find()) {
                if (ma.group(1) == null && ma.group(2) == null) {                // an integer: a count, a seed, an index
                    org.assertj.core.api.Assertions.assertThat(ma.group()).as(where).isEqualTo(mb.group());
                    continue;
                }
                double x = Double.parseDouble(ma.group());
                double y = Double.parseDouble(mb.group());
                org.assertj.core.api.Assertions.assertThat(x).as(where).isCloseTo(y,
                        org.assertj.core.api.Assertions.within(rel * Math.max(1, Math.abs(y))));
            }
        }
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
