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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code analyze paper} and its parts on the bundled tiny model with non-square images: the group similarities (all
 * three variants), norm maps and the paper's anomaly ratios equal plain float64 recomputations from {@code extract}
 * dumps of the same images, modules, timestep and seed; every figure decodes; bad input fails in one line.
 */
class AnalyzePaperCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String AT = "conv_in, down_blocks[1].resnets[0], up_blocks[1].upsamplers[0], up_blocks[2].attentions[0]";
    private static final List<String> MODULES = List.of("conv_in", "down_blocks.1.resnets.0", "up_blocks.1.upsamplers.0",
            "up_blocks.2.attentions.0");
    private static final String REF = "up_blocks.1.upsamplers.0";
    private static final int W = 192;
    private static final int H = 128;

    @TempDir
    static Path tmp;
    static Path folder;
    static List<Path> files = new ArrayList<>();
    static String model;
    static Path labels;

    @BeforeAll
    static void images() throws Exception {
        model = Golden.get().path("models/" + Golden.get().models().getFirst()).toString();
        folder = tmp.resolve("images");
        RgbImage g = TestImages.gradient(W, H);
        for (int i = 0; i < 4; i++) {
            byte[] px = g.rgb().clone();
            for (int k = 0; k < px.length; k++) {
                px[k] = (byte) (px[k] + 37 * i * (k % 3 + 1) + (k / 3 % W) * i);
            }
            files.add(write(folder.resolve("img" + i + ".png"), new RgbImage(W, H, px)));
        }
        labels = tmp.resolve("labels.npy");
        Npy.write(labels, NpyArray.ofLongs(new long[] {3, 3}, new long[] {0, 3, 2, 2, 11, 7, 3, 0, 0}));
    }

    static Path write(Path p, RgbImage img) {
        AtomicFiles.write(p, o -> img.writePng(o, Map.of()));
        return p;
    }

    /** extract's dump at t = 50, seed 42, one draw: image stem → module → (1, C, H, W). */
    static Map<String, Map<String, NpyArray>> dumps(List<Path> images, String at, String name) {
        Path out = tmp.resolve("dump-" + name);
        List<String> a = new ArrayList<>(List.of("extract", "--model", model, "--images"));
        images.forEach(p -> a.add(p.toString()));
        a.addAll(List.of("--at", at, "--timestep", "50", "--samples", "1", "--seed", "42", "--out", out.toString()));
        assertThat(Main.run(a.toArray(String[]::new))).isZero();
        Map<String, Map<String, NpyArray>> d = new java.util.LinkedHashMap<>();
        for (Path p : images) {
            String stem = p.getFileName().toString().replace(".png", "");
            Map<String, NpyArray> m = new java.util.HashMap<>();
            for (String module : MODULES) {
                Path f = out.resolve(stem + "/" + module + ".npy");
                if (Files.exists(f)) {
                    m.put(module, Npy.read(f));
                }
            }
            d.put(stem, m);
        }
        return d;
    }

    /** Cosine of every pair of tokens of the (ring-cropped) map, mean over the pairs of two groups, self left out. */
    static double[][] groups(NpyArray x, int ring) {
        long[] s = x.shape();
        int c = (int) s[1];
        int h = (int) s[2];
        int w = (int) s[3];
        float[] v = x.toFloats();
        int ih = h - 2 * ring;
        int iw = w - 2 * ring;
        double[][] sum = new double[3][3];
        long[][] n = new long[3][3];
        for (int a = 0; a < ih * iw; a++) {
            for (int b = 0; b < ih * iw; b++) {
                if (a == b) {
                    continue;
                }
                int pa = (a / iw + ring) * w + a % iw + ring;
                int pb = (b / iw + ring) * w + b % iw + ring;
                double dot = 0;
                double na = 0;
                double nb = 0;
                for (int k = 0; k < c; k++) {
                    double u = v[k * h * w + pa];
                    double q = v[k * h * w + pb];
                    dot += u * q;
                    na += u * u;
                    nb += q * q;
                }
                int ga = group(a / iw, a % iw, ih, iw);
                int gb = group(b / iw, b % iw, ih, iw);
                sum[ga][gb] += dot / Math.sqrt(na * nb);
                n[ga][gb]++;
            }
        }
        double[][] m = new double[3][3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                m[i][j] = n[i][j] == 0 ? Double.NaN : sum[i][j] / n[i][j];
            }
        }
        return m;
    }

    static int group(int r, int c, int h, int w) {
        boolean er = r == 0 || r == h - 1;
        boolean ec = c == 0 || c == w - 1;
        return er && ec ? 0 : er || ec ? 1 : 2;
    }

    static double[] norms(NpyArray x) {
        long[] s = x.shape();
        int p = (int) (s[2] * s[3]);
        float[] v = x.toFloats();
        double[] n = new double[p];
        for (int k = 0; k < s[1]; k++) {
            for (int i = 0; i < p; i++) {
                n[i] += (double) v[k * p + i] * v[k * p + i];
            }
        }
        for (int i = 0; i < p; i++) {
            n[i] = Math.sqrt(n[i]);
        }
        return n;
    }

    /** run_anomaly_analysis, written out as the paper's script computes it. */
    static double paperRatio(NpyArray x, int xi, int yi, int hRef) {
        long[] s = x.shape();
        int h = (int) s[2];
        int w = (int) s[3];
        double[] n = norms(x);
        double scale = (double) h / hRef;
        int hs = (int) (yi * scale);
        int ws = (int) (xi * scale);
        int offset = Math.max(1, (int) (2 * scale));
        double sum = 0;
        int cnt = 0;
        for (int r = hs; r < Math.min(h, hs + offset); r++) {
            for (int c = ws; c < Math.min(w, ws + offset); c++) {
                sum += n[r * w + c];
                cnt++;
            }
        }
        double mean = java.util.Arrays.stream(n).average().orElseThrow();
        return sum / cnt / mean;
    }

    @Test
    void paperEqualsAFloat64RecomputationFromDumpsAndDrawsEveryFigure() throws Exception {
        Path out = tmp.resolve("paper");
        assertThat(Main.run("analyze", "paper", "--model", model, "--images", folder.toString(), "--at", AT,
                "--labels", labels.toString(), "--out", out.toString())).isZero();
        JsonNode r = JSON.readTree(out.resolve("results.json").toFile());
        Map<String, Map<String, NpyArray>> d = dumps(files, AT, "paper");
        double[] ratios = Npy.read(out.resolve("anomaly_ratios.npy")).toDoubles();
        long[][] lab = {{0, 3, 2}, {2, 11, 7}, {3, 0, 0}};
        int hRef = (int) d.get("img0").get(REF).shape()[2];
        for (int mi = 0; mi < MODULES.size(); mi++) {
            String module = MODULES.get(mi);
            JsonNode mj = r.get("modules").get(mi);
            assertThat(mj.get("module").asText()).isEqualTo(module);
            double[][] plain = new double[3][3];
            double[][] ring = new double[3][3];
            for (var img : d.values()) {
                add(plain, groups(img.get(module), 0), 4);
                add(ring, groups(img.get(module), 1), 4);
            }
            assertMatrix(mj.at("/groups/plain/values"), plain, module + " plain");
            assertMatrix(mj.at("/groups/ring_dropped/values"), ring, module + " ring dropped");
            double[] npy = Npy.read(out.resolve("groups/" + module + ".npy")).toDoubles();
            assertThat(npy[0]).isEqualTo(mj.at("/groups/plain/values/0/0").asDouble());
            NpyArray norms = Npy.read(out.resolve("norms/" + module + ".npy"));
            long[] ns = norms.shape();
            assertThat(ns[1]).as(module + " non-square").isNotEqualTo(ns[2]);
            float[] nv = norms.toFloats();
            for (int i = 0; i < 4; i++) {
                double[] want = norms(d.get("img" + i).get(module));
                for (int p = 0; p < want.length; p++) {
                    assertThat((double) nv[(int) (i * want.length + p)]).isCloseTo(want[p], within(1e-6 * (1 + want[p])));
                }
            }
            for (int l = 0; l < lab.length; l++) {
                double want = paperRatio(d.get("img" + lab[l][0]).get(module), (int) lab[l][1], (int) lab[l][2], hRef);
                assertThat(ratios[mi * lab.length + l]).as(module + " label " + l).isCloseTo(want, within(1e-9));
            }
            assertThat(mj.at("/anomalies/ratio_mean").asDouble()).isCloseTo(
                    (ratios[mi * 3] + ratios[mi * 3 + 1] + ratios[mi * 3 + 2]) / 3, within(1e-12));
            assertThat(mj.at("/anomalies/precision").isNumber() || mj.at("/anomalies/precision").isNull()).isTrue();
            assertThat(mj.at("/probe/accuracy/values")).hasSize(5);
        }
        croppedVariantIsTheCroppedImagesExtractedAgain(r);
        assertThat(AnalyzeCliTest.picturesListed(out)).isEqualTo(7);
        assertThat(Npy.read(out.resolve("detected_anomalies.npy")).shape()[1]).isEqualTo(3);
        assertThat(Npy.read(out.resolve("probe_accuracy.npy")).shape()).containsExactly(4, 5, 4);
    }

    /** conv_in's tokens are 8 px: the images cut by 8 px on every side, extracted again, averaged as the plain variant. */
    private static void croppedVariantIsTheCroppedImagesExtractedAgain(JsonNode r) {
        List<Path> cropped = new ArrayList<>();
        for (Path p : files) {
            RgbImage img = RgbImage.read(p);
            int w = img.width() - 16;
            int h = img.height() - 16;
            byte[] px = new byte[w * h * 3];
            for (int y = 0; y < h; y++) {
                System.arraycopy(img.rgb(), ((y + 8) * img.width() + 8) * 3, px, y * w * 3, w * 3);
            }
            cropped.add(write(tmp.resolve("cropped/" + p.getFileName()), new RgbImage(w, h, px)));
        }
        Map<String, Map<String, NpyArray>> d = dumps(cropped, "conv_in", "cropped");
        double[][] want = new double[3][3];
        for (var img : d.values()) {
            add(want, groups(img.get("conv_in"), 0), 4);
        }
        assertMatrix(r.at("/modules/0/groups/image_cropped/values"), want, "conv_in image cropped");
    }

    static void add(double[][] acc, double[][] m, int n) {
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                acc[i][j] += m[i][j] / n;
            }
        }
    }

    static void assertMatrix(JsonNode got, double[][] want, String what) {
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                if (Double.isNaN(want[i][j])) {
                    assertThat(got.get(i).get(j).isNull()).as(what + " [" + i + "][" + j + "] NaN").isTrue();
                } else {
                    assertThat(got.get(i).get(j).asDouble()).as(what + " [" + i + "][" + j + "]").isCloseTo(want[i][j], within(1e-9));
                }
            }
        }
    }

    /** JSON labels by image name give the ratios the .npy labels give; the detector's patches come in the paper's format. */
    @Test
    void jsonLabelsByNameEqualTheNpyLabels() throws Exception {
        Path json = tmp.resolve("labels.json");
        Files.writeString(json, "{\"img0\": [{\"x\": 3, \"y\": 2}], \"img2\": [{\"x\": 11, \"y\": 7}], \"img3\": [{\"x\": 0, \"y\": 0}]}");
        Path a = tmp.resolve("anomalies-json");
        Path b = tmp.resolve("anomalies-npy");
        for (Path[] run : new Path[][] {{json, a}, {labels, b}}) {
            assertThat(Main.run("analyze", "anomalies", "--model", model, "--images", folder.toString(), "--at", AT,
                    "--labels", run[0].toString(), "--out", run[1].toString())).isZero();
        }
        assertThat(Npy.read(a.resolve("anomaly_ratios.npy")).toDoubles()).containsExactly(Npy.read(b.resolve("anomaly_ratios.npy")).toDoubles());
        assertThat(AnalyzeCliTest.picturesListed(a)).isEqualTo(2);
    }

    /** --timesteps and --seeds: the atlas, rate and stability per module × timestep, and its heat maps. */
    @Test
    void theAtlasCoversEveryModuleTimestepAndSeed() throws Exception {
        Path out = tmp.resolve("atlas");
        assertThat(Main.run("analyze", "anomalies", "--model", model, "--images", folder.toString(), "--at", AT,
                "--timesteps", "50,400", "--seeds", "1-3", "--k", "3", "--out", out.toString())).isZero();
        JsonNode r = JSON.readTree(out.resolve("results.json").toFile());
        assertThat(r.at("/request/seeds")).hasSize(3);
        assertThat(r.at("/anomalous_rate/values")).hasSize(4);
        for (JsonNode row : r.at("/anomalous_rate/values")) {
            assertThat(row).hasSize(2);
            row.forEach(v -> assertThat(v.asDouble()).isBetween(0.0, 1.0));
        }
        assertThat(Npy.read(out.resolve("atlas_stability.npy")).shape()).containsExactly(4, 2);
        assertThat(AnalyzeCliTest.picturesListed(out)).isEqualTo(1);
    }

    /** Bad input: one line naming the problem, a non-zero exit, nothing written. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "label outside the reference map|anomalies --labels OUTSIDE|is outside the 8×12 map of up_blocks.1.upsamplers.0",
        "label of a missing image|anomalies --labels NOIMAGE|names image 9; there are 4 images",
        "label file of the wrong shape|anomalies --labels SHAPE|expected (N, 3) rows of (image index, x, y)",
        "label file of the wrong dtype|anomalies --labels FLOATS|the paper's labels are integers",
        "labels not JSON|anomalies --labels NOTJSON|is not valid JSON",
        "limit 0|groups --limit 0|--limit must be at least 1, got 0",
        "reference not among the modules|anomalies --at conv_in|the anomaly reference module up_blocks.1.upsamplers.0 is not among the modules",
        "two timesteps|paper --timesteps 50,100|the paper's experiments run at one timestep",
        "two draws|groups --samples 2|one noise draw per image",
        "labels without anomalies|groups --labels OUTSIDE|--labels is for the anomaly experiment",
        "bad seed list|anomalies --seeds x|--seeds takes seeds like 1,2,3",
        "labels with the atlas|anomalies --seeds 1,2 --labels OUTSIDE|leave out --labels",
        "resume with force|paper --resume --force|give --resume (continue the run in --out) or --force",
        "one image for the probe|probe --images ONE|1 image is too few (at least 2)",
    })
    void badInputFailsInOneLineAndWritesNothing(String what, String args, String message) throws Exception {
        Map<String, Path> files = Map.of(
                "OUTSIDE", npy("outside.npy", NpyArray.ofLongs(new long[] {1, 3}, new long[] {0, 12, 0})),
                "NOIMAGE", npy("noimage.npy", NpyArray.ofLongs(new long[] {1, 3}, new long[] {9, 0, 0})),
                "SHAPE", npy("shape.npy", NpyArray.ofLongs(new long[] {2, 2}, new long[] {0, 0, 0, 0})),
                "FLOATS", npy("floats.npy", NpyArray.ofFloats(new long[] {1, 3}, new float[] {0, 1, 1})),
                "NOTJSON", text("bad.json", "[{x: 1"),
                "ONE", oneImage());
        Path out = tmp.resolve("bad-out-" + Math.abs(what.hashCode()));
        List<String> a = new ArrayList<>(List.of("analyze"));
        for (String s : args.split(" ")) {
            a.add(files.containsKey(s) ? files.get(s).toString() : s);
        }
        if (!args.contains("--at")) {
            a.addAll(List.of("--at", AT));
        }
        if (!args.contains("--images")) {
            a.addAll(List.of("--images", folder.toString()));
        }
        a.addAll(List.of("--model", model, "--out", out.toString()));
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertThat(r.code()).as(what).isNotZero();
        assertThat(r.err()).as(what).contains(message);
        assertThat(r.err().lines().filter(l -> l.startsWith("unetlens: error:")).count()).as(what + ": one error line").isEqualTo(1);
        assertThat(out).as(what + ": nothing written").doesNotExist();
    }

    /** The folder's first image alone. */
    private static Path oneImage() {
        try (var files = Files.list(folder)) {
            return files.sorted().findFirst().orElseThrow();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Path npy(String name, NpyArray a) {
        Path p = tmp.resolve("labels-" + name);
        if (!Files.exists(p)) {
            Npy.write(p, a);
        }
        return p;
    }

    private static Path text(String name, String s) throws Exception {
        return Files.writeString(tmp.resolve("labels-" + name), s);
    }
}
