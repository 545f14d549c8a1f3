package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.TestImages;
import dev.unetlens.io.AtomicFiles;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code unetlens analyze} on the bundled tiny model: every number it writes equals a plain float64 recomputation
 * from {@code extract} dumps of the same images, modules, timesteps and seeds (to float rounding), and every plot it
 * lists decodes.
 */
class AnalyzeCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String AT = "mid_block, up_blocks[1]";
    private static final int[] TIMESTEPS = {10, 300};
    private static final int SAMPLES = 4;

    @TempDir
    static Path tmp;
    static Path imageA;
    static Path imageB;
    static String model;

    @BeforeAll
    static void images() throws Exception {
        model = Golden.get().path("models/" + Golden.get().models().getFirst()).toString();
        imageA = write(tmp.resolve("in/a.png"), TestImages.gradient(64, 64));
        imageB = write(tmp.resolve("in/b.png"), flipped(TestImages.gradient(64, 64)));
    }

    private static Path write(Path p, RgbImage img) {
        AtomicFiles.write(p, o -> img.writePng(o, Map.of()));
        return p;
    }

    private static RgbImage flipped(RgbImage img) {
        byte[] px = new byte[img.rgb().length];
        int row = img.width() * 3;
        for (int y = 0; y < img.height(); y++) {
            System.arraycopy(img.rgb(), y * row, px, (img.height() - 1 - y) * row, row);
        }
        return new RgbImage(img.width(), img.height(), px);
    }

    /** extract's dump of each image at a timestep: image name → point → (samples, C, H, W). */
    private static Map<String, Map<String, NpyArray>> dumps(int t, String at, int samples) {
        Path out = tmp.resolve("dump-" + t + "-" + at.hashCode() + "-" + samples);
        if (!Files.exists(out)) {
            assertThat(Main.run("extract", "--model", model, "--images", imageA.toString(), imageB.toString(), "--at", at,
                    "--timestep", Integer.toString(t), "--samples", Integer.toString(samples), "--batch-size", "2",
                    "--seed", "5", "--out", out.toString())).isZero();
        }
        Map<String, Map<String, NpyArray>> d = new java.util.LinkedHashMap<>();
        for (String image : List.of("a", "b")) {
            Map<String, NpyArray> points = new java.util.HashMap<>();
            for (String p : List.of("mid_block", "up_blocks.1")) {
                if (Files.exists(out.resolve(image + "/" + p + ".npy"))) {
                    points.put(p, Npy.read(out.resolve(image + "/" + p + ".npy")));
                }
            }
            d.put(image, points);
        }
        return d;
    }

    private static String[] common(String kind, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("analyze", kind, "--model", model, "--images", imageA.toString(),
                imageB.toString(), "--batch-size", "2", "--seed", "5", "--out", out.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void channelsEqualAFloat64RecomputationFromDumps() throws Exception {
        Path out = tmp.resolve("channels");
        assertThat(Main.run(common("channels", out, "--at", AT, "--timesteps", "10,300", "--samples", "3",
                "--hist-timestep", "300"))).isZero();
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        for (int ti = 0; ti < TIMESTEPS.length; ti++) {
            Map<String, Map<String, NpyArray>> d = dumps(TIMESTEPS[ti], AT, 3);
            for (String point : List.of("mid_block", "up_blocks.1")) {
                double[] expected = null;
                int rows = 0;
                for (String image : List.of("a", "b")) {
                    NpyArray x = d.get(image).get(point);
                    long[] s = x.shape();
                    float[] v = x.toFloats();
                    int hw = (int) (s[2] * s[3]);
                    if (expected == null) {
                        expected = new double[(int) s[1]];
                    }
                    for (int n = 0; n < s[0]; n++) {
                        for (int c = 0; c < s[1]; c++) {
                            double sum = 0;
                            for (int p = 0; p < hw; p++) {
                                sum += Math.abs(v[(int) ((n * s[1] + c) * hw + p)]);
                            }
                            expected[c] += sum / hw;
                        }
                        rows++;
                    }
                }
                double[] got = Npy.read(out.resolve("channels/" + point + ".npy")).toDoubles();
                for (int c = 0; c < expected.length; c++) {
                    assertThat(got[ti * expected.length + c]).as(point + " t=" + TIMESTEPS[ti] + " channel " + c)
                            .isCloseTo(expected[c] / rows, within(1e-12 + 1e-10 * expected[c] / rows));
                }
                JsonNode module = results.get("modules").get(point.equals("mid_block") ? 0 : 1);
                assertThat(module.at("/mean_abs/values/" + ti + "/0").asDouble()).isCloseTo(got[ti * expected.length], within(1e-12));
            }
        }
        assertThat(results.at("/request/hist_timestep").asInt()).isEqualTo(300);
        assertThat(picturesListed(out)).isEqualTo(4);                  // sorted + histogram, 2 modules
    }

    @Test
    void dispersionEqualsAFloat64RecomputationFromDumps() throws Exception {
        Path out = tmp.resolve("dispersion");
        assertThat(Main.run(common("dispersion", out, "--at", AT, "--timesteps", "10,300", "--samples",
                Integer.toString(SAMPLES), "--map-timestep", "10"))).isZero();
        for (String image : List.of("a", "b")) {
            NpyArray maps = Npy.read(out.resolve("dispersion/" + image + ".npy"));
            long[] s = maps.shape();
            double[] got = maps.toDoubles();
            for (int ti = 0; ti < TIMESTEPS.length; ti++) {
                double[] expected = stdMap(dumps(TIMESTEPS[ti], AT, SAMPLES).get(image), (int) s[1], (int) s[2]);
                for (int p = 0; p < expected.length; p++) {
                    assertThat(got[(int) (ti * s[1] * s[2]) + p]).as(image + " t=" + TIMESTEPS[ti] + " position " + p)
                            .isCloseTo(expected[p], within(1e-6 * (1 + expected[p])));
                }
            }
        }
        JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
        assertThat(results.at("/images/0/mean_std/values")).hasSize(2);
        assertThat(picturesListed(out)).isEqualTo(3);                  // two maps and the timestep chart
    }

    /**
     * sdhelper's notebook, written out plainly: each draw's modules concatenated (nearest repetition to the smallest
     * size doubled until it covers the largest, zero-padded), std over draws (n − 1) per channel and position, mean
     * over channels.
     */
    private static double[] stdMap(Map<String, NpyArray> points, int sh, int sw) {
        List<NpyArray> parts = List.of(points.get("mid_block"), points.get("up_blocks.1"));
        int n = (int) parts.getFirst().shape()[0];
        int channels = parts.stream().mapToInt(a -> (int) a.shape()[1]).sum();
        double[][] draws = new double[n][channels * sh * sw];
        for (int k = 0; k < n; k++) {
            int c0 = 0;
            for (NpyArray a : parts) {
                long[] s = a.shape();
                float[] v = a.toFloats();
                int h = (int) s[2];
                int w = (int) s[3];
                for (int c = 0; c < s[1]; c++) {
                    for (int y = 0; y < Math.min(sh, h * (sh / h)); y++) {
                        for (int x = 0; x < Math.min(sw, w * (sw / w)); x++) {
                            draws[k][((c0 + c) * sh + y) * sw + x] = v[(int) (((k * s[1] + c) * h + y / (sh / h)) * w + x / (sw / w))];
                        }
                    }
                }
                c0 += (int) s[1];
            }
        }
        double[] map = new double[sh * sw];
        for (int c = 0; c < channels; c++) {
            for (int p = 0; p < sh * sw; p++) {
                double mean = 0;
                for (int k = 0; k < n; k++) {
                    mean += draws[k][c * sh * sw + p];
                }
                mean /= n;
                double ss = 0;
                for (int k = 0; k < n; k++) {
                    double d = draws[k][c * sh * sw + p] - mean;
                    ss += d * d;
                }
                map[p] += Math.sqrt(ss / (n - 1)) / channels;
            }
        }
        return map;
    }

    @Test
    void similarityEqualsAFloat64RecomputationFromDumps() throws Exception {
        Path out = tmp.resolve("similarity");
        assertThat(Main.run(common("similarity", out, "--at", "up_blocks[1]", "--timesteps", "10,300", "--samples", "2",
                "--token", "1,2", "--measure", "cosine_centered", "--all-tokens"))).isZero();
        for (int ti = 0; ti < TIMESTEPS.length; ti++) {
            Map<String, Map<String, NpyArray>> d = dumps(TIMESTEPS[ti], "up_blocks[1]", 2);
            double[][] a = meanOverDraws(d.get("a").get("up_blocks.1"));
            double[][] b = meanOverDraws(d.get("b").get("up_blocks.1"));
            int w = (int) d.get("a").get("up_blocks.1").shape()[3];
            double[] ma = channelMeans(a);
            double[] mb = channelMeans(b);
            double[] m = new double[ma.length];
            for (int c = 0; c < m.length; c++) {
                m[c] = (ma[c] + mb[c]) / 2;
            }
            double[] ref = minus(a[1 * w + 2], m);
            double[] got = Npy.read(out.resolve("similarity_t" + TIMESTEPS[ti] + ".npy")).toDoubles();
            float[] all = Npy.read(out.resolve("cosine_all_tokens_t" + TIMESTEPS[ti] + ".npy")).toFloats();
            assertThat(got).hasSize(b.length);
            for (int q = 0; q < b.length; q++) {
                double[] bq = minus(b[q], m);
                double expected = dot(ref, bq) / (Math.sqrt(dot(ref, ref)) * Math.sqrt(dot(bq, bq)) + 1e-10);
                assertThat(got[q]).as("t=" + TIMESTEPS[ti] + " token " + q).isCloseTo(expected, within(1e-9));
                double cos = dot(a[1 * w + 2], b[q]) / Math.sqrt(dot(a[1 * w + 2], a[1 * w + 2]) * dot(b[q], b[q]));
                assertThat((double) all[(1 * w + 2) * b.length + q]).isCloseTo(cos, within(1e-5));
            }
        }
        assertThat(picturesListed(out)).isEqualTo(2);
    }

    /** (N, C, H, W) → per position (row-major) the C-vector averaged over the N draws, float64. */
    private static double[][] meanOverDraws(NpyArray x) {
        long[] s = x.shape();
        float[] v = x.toFloats();
        int hw = (int) (s[2] * s[3]);
        double[][] out = new double[hw][(int) s[1]];
        for (int n = 0; n < s[0]; n++) {
            for (int c = 0; c < s[1]; c++) {
                for (int p = 0; p < hw; p++) {
                    out[p][c] += v[(int) ((n * s[1] + c) * hw + p)] / (double) s[0];
                }
            }
        }
        return out;
    }

    private static double[] channelMeans(double[][] tokens) {
        double[] m = new double[tokens[0].length];
        for (double[] t : tokens) {
            for (int c = 0; c < m.length; c++) {
                m[c] += t[c] / tokens.length;
            }
        }
        return m;
    }

    private static double[] minus(double[] a, double[] b) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = a[i] - b[i];
        }
        return o;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** Generated inputs: --prompts for similarity (A and B), --generated for channels; every plot decodes. */
    @Test
    void generatedImages() throws Exception {
        Path prompts = tmp.resolve("prompts.txt");
        Files.writeString(prompts, "a cat\n\n a lighthouse \n");
        Path out = tmp.resolve("generated-similarity");
        assertThat(Main.run("analyze", "similarity", "--model", model, "--prompts", prompts.toString(), "--steps", "2",
                "--height", "64", "--width", "64", "--seed", "11", "--token", "0,0", "--out", out.toString())).isZero();
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(m.at("/request/generated/1/prompt").asText()).isEqualTo("a lighthouse");
        assertThat(m.at("/request/generated/1/seed").asLong()).isEqualTo(12);
        assertThat(out.resolve("images/002.png")).exists();
        assertThat(picturesListed(out)).isEqualTo(1);
        Path ch = tmp.resolve("generated-channels");
        assertThat(Main.run("analyze", "channels", "--model", model, "--generated", "a red car", "--steps", "2",
                "--height", "64", "--width", "64", "--seed", "3", "--timesteps", "0-100(+50)", "--out", ch.toString())).isZero();
        JsonNode r = JSON.readTree(ch.resolve("results.json").toFile());
        assertThat(r.at("/generation/modules/mid_block/last_step_mean_abs").asDouble()).isPositive();
        assertThat(r.at("/request/hist_timestep").asInt()).isEqualTo(100);
        assertThat(picturesListed(ch)).isEqualTo(3);                   // sorted, histogram, generation comparison
    }

    /** Bad input: one line naming the problem, a non-zero exit, nothing written. */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "unknown kind|foo --images A|unknown analysis 'foo'; the kinds are channels, dispersion, similarity, paper, anomalies, groups, probe",
        "no kind|--images A|name an analysis",
        "empty image folder|channels --images EMPTY|no images in",
        "timestep list out of range|dispersion --images A --timesteps 0-1200(+100)|--timesteps '0-1200(+100)' is outside [0, 999]",
        "timestep out of range|channels --images A --timestep 1000|--timestep must be in [0, 999], got 1000",
        "token outside the map|similarity --images A --token 99,0|--token 99,0 is outside the",
        "bad token|similarity --images A --token 3|--token takes ROW,COL",
        "unknown measure|similarity --images A --token 0,0 --measure jaccard|unknown measure 'jaccard'; choose cosine",
        "three images for similarity|similarity --images A A A --token 0,0|one image (compared with itself) or two",
        "no images|dispersion|give --images (files or folders) or --prompts FILE",
        "one draw|dispersion --images A --samples 1|at least 2 noise draws",
        "histogram timestep not asked|channels --images A --timesteps 0,50 --hist-timestep 100|--hist-timestep 100 is not one of",
        "unknown module|channels --images A --at IN99|IN99",
        "damaged image|channels --images BAD|--skip-bad",
        "bad scale|dispersion --images A --scale 4|--scale takes two numbers",
    })
    void badInputFailsInOneLineAndWritesNothing(String what, String args, String message) throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty-folder"));
        Path bad = tmp.resolve("bad.png");
        Files.writeString(bad, "not a png");
        Path out = tmp.resolve("bad-out-" + Math.abs(what.hashCode()));
        List<String> a = new ArrayList<>(List.of("analyze"));
        for (String s : args.split(" ")) {
            a.add(s.replace("EMPTY", empty.toString()).replace("BAD", bad.toString()).replace("A", imageA.toString()));
        }
        a.addAll(List.of("--model", model, "--out", out.toString()));
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertThat(r.code()).as(what).isNotZero();
        assertThat(r.err()).as(what).contains(message);
        assertThat(r.err().lines().filter(l -> l.startsWith("unetlens: error:")).count()).as(what + ": one error line").isEqualTo(1);
        assertThat(out).as(what + ": nothing written").doesNotExist();
    }

    /** Every PNG the manifest lists decodes at its recorded size (each has an SVG twin for charts); returns the count. */
    static int picturesListed(Path out) throws Exception {
        JsonNode m = JSON.readTree(out.resolve("manifest.json").toFile());
        assertThat(m.path("status").asText()).isEqualTo("complete");
        int n = 0;
        for (JsonNode f : m.get("files")) {
            String name = f.get("file").asText();
            if (name.endsWith(".png") && f.has("kind")) {
                BufferedImage img = ImageIO.read(out.resolve(name).toFile());
                assertThat(img.getWidth()).isEqualTo(f.get("width").asInt());
                assertThat(img.getHeight()).isEqualTo(f.get("height").asInt());
                n++;
            }
            assertThat(out.resolve(name)).exists();
        }
        String keep = System.getenv("UNETLENS_TEST_PICTURES");
        if (keep != null) {
            copyTree(out, Path.of(keep).resolve(out.getFileName()));
        }
        return n;
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
