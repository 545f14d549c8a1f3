package dev.unetlens.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.cli.Main;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorInfo;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Each image's rows of {@code batch} (two timesteps, two draws, seeds from the paths, pooled features and float16
 * tensors) equal {@code extract} and {@code analyze dispersion} run on that image alone with the seed its rows record:
 * every module's channel mean |x| and pooled features of every draw, computed from extract's float32 maps; the tensor
 * file's maps, at float16's precision; and the aggregate row's dispersion (map and mean) at the reference module.
 */
class BatchImageTest extends SparkTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Integer> TIMESTEPS = List.of(50, 400);
    private static final int DRAWS = 2;
    /** Two runs of the same float32 U-Net: only the order of additions differs. */
    private static final double REL = 1e-4;

    @Test
    void rowsEqualExtractAndDispersionImageByImage() throws Exception {
        BatchTestData.shared();
        Path images = BatchTestData.images(tmp.resolve("images"), 2);
        String model = BatchTestData.model(0);
        Path batch = tmp.resolve("batch");
        assertThat(Main.run("batch", "--model", model, "--input", images.toString(), "--out", batch.toString(),
                "--timesteps", "50,400", "--samples", "2", "--spatial-mean", "--tensors", "--partitions", "2",
                "--threads-per-task", "1")).isZero();
        JsonNode request = JSON.readTree(batch.resolve("manifest.json").toFile()).path("request");
        List<String> modules = new ArrayList<>();
        request.path("modules").forEach(m -> modules.add(m.asText()));
        String reference = request.path("anomaly_reference").asText();
        List<Row> rows = BatchTestData.shared().read().parquet(batch.resolve("tables/features").toString()).collectAsList();
        assertThat(rows).hasSize(2 * modules.size() * TIMESTEPS.size() * (DRAWS + 1));
        for (String image : List.of("img00.png", "img01.png")) {
            String path = images.resolve(image).toString();
            List<Row> mine = rows.stream().filter(r -> r.<String>getAs("path").equals(path)).toList();
            long seed = mine.getFirst().getAs("seed");
            assertThat(seed).isEqualTo(new BatchRequest(model, "", modules, TIMESTEPS, DRAWS, 42, true, "", "SAMPLE",
                    false, null, false, null, 512, reference, 6, false, null, false, 1).seedFor(path));
            try (SafetensorsFile tensors = SafetensorsFile.open(batch.resolve(mine.getFirst().<String>getAs("tensor_file")))) {
                assertThat(tensors.metadata()).containsEntry("path", path).containsEntry("timesteps", "50,400");
                for (int ti = 0; ti < TIMESTEPS.size(); ti++) {
                    int t = TIMESTEPS.get(ti);
                    try (SafetensorsFile maps = extract(model, path, seed, t, modules)) {
                        for (String m : modules) {
                            drawsEqual(mine, maps, tensors, m, t, ti);
                        }
                    }
                }
            }
            dispersionEquals(model, path, seed, reference, mine);
        }
        JsonNode results = JSON.readTree(batch.resolve("results.json").toFile());
        assertThat(results.path("modules").size()).isEqualTo(modules.size() * TIMESTEPS.size());
        for (JsonNode m : results.path("modules")) {
            assertThat(m.path("draws").asInt()).as(m.path("module").asText()).isEqualTo(2 * DRAWS);
            assertThat(m.path("dispersion").path("images").asInt()).isEqualTo(2);
        }
    }

    /** Every draw's row of module {@code m} at timestep {@code t} against extract's maps [draws, C, H, W]. */
    private static void drawsEqual(List<Row> mine, SafetensorsFile maps, SafetensorsFile tensors, String m, int t, int ti) {
        TensorInfo info = maps.info(m).orElseThrow();
        long[] s = info.shape();
        int size = (int) (s[1] * s[2] * s[3]);
        int positions = (int) (s[2] * s[3]);
        float[] all = floats(maps, m);
        float[] half = floats(tensors, m);
        assertThat(tensors.info(m).orElseThrow().shape()).containsExactly(TIMESTEPS.size(), DRAWS, s[1], s[2], s[3]);
        for (int k = 0; k < DRAWS; k++) {
            Row row = row(mine, m, t, k);
            String where = m + " t=" + t + " draw " + k;
            List<Float> meanAbs = row.getList(row.fieldIndex("channel_mean_abs"));
            List<Float> pooled = row.getList(row.fieldIndex("pooled"));
            assertThat(meanAbs).as(where).hasSize((int) s[1]);
            for (int c = 0; c < s[1]; c++) {
                double abs = 0;
                double sum = 0;
                for (int p = 0; p < positions; p++) {
                    float x = all[k * size + c * positions + p];
                    abs += Math.abs(x);
                    sum += x;
                }
                close(meanAbs.get(c), abs / positions, where + " channel " + c + " mean |x|");
                close(pooled.get(c), sum / positions, where + " channel " + c + " pooled");
            }
            int at = (ti * DRAWS + k) * size;
            for (int i = 0; i < size; i++) {
                float x = all[k * size + i];
                assertThat((double) half[at + i]).as(where + " float16 value " + i)
                        .isCloseTo(x, within(Math.abs(x) * 0x1p-11 + 0x1p-24 + REL * Math.abs(x)));
            }
        }
    }

    /** The aggregate rows of the reference module against analyze dispersion on this image at that module alone. */
    private void dispersionEquals(String model, String path, long seed, String reference, List<Row> mine) throws Exception {
        Path out = tmp.resolve("dispersion-" + Path.of(path).getFileName());
        assertThat(Main.run("analyze", "dispersion", "--model", model, "--images", path, "--at", reference, "--timesteps",
                "50,400", "--samples", "2", "--seed", Long.toString(seed), "--batch-size", "1", "--out", out.toString())).isZero();
        JsonNode meanStd = JSON.readTree(out.resolve("results.json").toFile()).path("images").get(0).path("mean_std").path("values");
        NpyArray maps;
        try (Stream<Path> f = Files.walk(out.resolve("dispersion"))) {
            maps = dev.unetlens.io.Npy.read(f.filter(p -> p.toString().endsWith(".npy")).findFirst().orElseThrow());
        }
        double[] expected = maps.toDoubles();
        for (int ti = 0; ti < TIMESTEPS.size(); ti++) {
            Row agg = row(mine, reference, TIMESTEPS.get(ti), null);
            close(agg.<Double>getAs("dispersion_mean"), meanStd.get(ti).asDouble(), reference + " mean std t=" + TIMESTEPS.get(ti));
            List<Double> map = agg.getList(agg.fieldIndex("dispersion_map"));
            int n = map.size();
            assertThat(n * TIMESTEPS.size()).isEqualTo(expected.length);
            for (int i = 0; i < n; i++) {
                close(map.get(i), expected[ti * n + i], reference + " std map t=" + TIMESTEPS.get(ti) + " at " + i);
            }
        }
    }

    /** extract's float32 maps of {@code path} at {@code t}: every module, both draws, from {@code seed}. */
    private SafetensorsFile extract(String model, String path, long seed, int t, List<String> modules) throws Exception {
        Path out = tmp.resolve("extract-" + Path.of(path).getFileName() + "-" + t);
        assertThat(Main.run("extract", "--model", model, "--images", path, "--timestep", Integer.toString(t), "--samples",
                "2", "--batch-size", "1", "--seed", Long.toString(seed), "--at", String.join(",", modules), "--format",
                "safetensors", "--out", out.toString())).isZero();
        try (Stream<Path> f = Files.list(out)) {
            return SafetensorsFile.open(f.filter(p -> p.toString().endsWith(".safetensors")).findFirst().orElseThrow());
        }
    }

    private static Row row(List<Row> rows, String module, int t, Integer sample) {
        return rows.stream().filter(r -> r.getAs("module").equals(module) && r.<Integer>getAs("timestep") == t
                && java.util.Objects.equals(r.getAs("sample"), sample)).findFirst().orElseThrow();
    }

    private static float[] floats(SafetensorsFile f, String name) {
        TensorInfo info = f.info(name).orElseThrow();
        byte[] bytes = f.data(name).toArray(ValueLayout.JAVA_BYTE);
        return NpyArray.ofBytes(info.dtype(), info.shape(), bytes).toFloats();
    }

    private static void close(double actual, double expected, String where) {
        assertThat(actual).as(where).isCloseTo(expected, within(REL * Math.abs(expected) + 1e-7));
    }
}
