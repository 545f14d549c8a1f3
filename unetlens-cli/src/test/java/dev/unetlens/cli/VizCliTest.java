package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code viz} over the dumps the README makes: a clamp range applies to channel values only (norm maps and strips
 * get their own scale), a range that clamps nearly everything is warned about with the range to use, and a dump of
 * several images gives each image its own pictures, named and titled, each listed once.
 */
class VizCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path shared;
    static Path model;
    /** The README's extract on the tiny model: PNDM (the model's own), 20 steps, CFG, both branches. */
    static Path features;
    @TempDir
    Path tmp;

    @BeforeAll
    static void extract() {
        model = TinyModel.write(shared);
        features = shared.resolve("features");
        assertThat(Main.run("extract", "--model", model.toString(), "--prompt", "a cat", "--steps", "20", "--height", "128",
                "--width", "128", "--seed", "3", "--at", "IN05, M00, OUT06", "--at-steps", "1,5-20(+5)", "--cfg-branch",
                "both", "--out", features.toString())).isZero();
    }

    private static JsonNode manifest(Path dir) throws Exception {
        return JSON.readTree(dir.resolve("manifest.json").toFile());
    }

    private static List<String> files(Path dir) throws Exception {
        List<String> out = new ArrayList<>();
        manifest(dir).get("files").forEach(f -> out.add(f.get("file").asText()));
        return out;
    }

    /** The share of the picture's pixels in its most common colour other than white (the background). */
    private static double dominant(Path png) {
        RgbImage img = RgbImage.read(png);
        byte[] rgb = img.rgb();
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < rgb.length; i += 3) {
            int c = (rgb[i] & 0xff) << 16 | (rgb[i + 1] & 0xff) << 8 | (rgb[i + 2] & 0xff);
            counts.merge(c, 1, Integer::sum);
        }
        counts.remove(0xffffff);
        int max = counts.values().stream().max(Integer::compare).orElse(0);
        return (double) max / (rgb.length / 3);
    }

    @Test
    void theReadmeExampleDrawsNormsOnTheirOwnScale() throws Exception {
        assertThat(manifest(features).get("steps_total").asInt()).isEqualTo(20);
        Path pics = tmp.resolve("pictures");
        CliRun r = CliRun.of("viz", "--dump", features.toString(), "--color", "red-blue", "--transform",
                "linear(-3,3)", "--out", pics.toString());
        assertThat(r.code()).isZero();
        List<String> files = files(pics);
        assertThat(files).contains("mid_block_step-020-l2.png", "mid_block-steps.png", "mid_block-uncond-steps.png");
        for (JsonNode f : manifest(pics).get("files")) {
            String name = f.get("file").asText();
            if (name.endsWith("-l2.png") || name.endsWith("-steps.png")) {
                assertThat(f.get("colorize").asText()).as(name).isEqualTo("magma");
                assertThat(f.get("transform").asText()).as(name).isEqualTo("Auto [0,1]");
                assertThat(dominant(pics.resolve(name))).as(name + ": not one colour").isLessThan(0.3);
            } else if (name.endsWith("-grid.png")) {
                assertThat(f.get("transform").asText()).as(name).isEqualTo("Linear(-3, 3)");
            }
        }
    }

    @Test
    void aClampRangeThatHidesNearlyEverythingIsWarnedAbout() throws Exception {
        Path pics = tmp.resolve("pictures");
        CliRun r = CliRun.of("viz", "--dump", features.toString(), "--transform", "linear(-0.001,0.001)",
                "--out", pics.toString());
        assertThat(r.code()).isZero();
        List<String> warnings = r.err().lines().filter(l -> l.startsWith("unetlens: warning:")).toList();
        assertThat(warnings).singleElement().asString().contains("--transform Linear(-0.001, 0.001) clamps more than 95 %")
                .containsPattern("of 30 of 30 channel grids").containsPattern("call for about --transform \"linear\\(-[0-9.]+,[0-9.]+\\)\"");
        assertThat(manifest(pics).get("files").get(0).get("clamped_fraction").asDouble()).isGreaterThan(0.95);
        Path fit = tmp.resolve("fit");
        String bound = warnings.getFirst().replaceAll(".*linear\\(-([0-9.]+),.*", "$1");
        CliRun again = CliRun.of("viz", "--dump", features.toString(), "--transform",
                "linear(-" + bound + "," + bound + ")", "--out", fit.toString());
        assertThat(again.err()).doesNotContain("warning");
    }

    @Test
    void eachImageOfADumpGetsItsOwnPicturesListedOnce() throws Exception {
        List<String> images = new ArrayList<>();
        for (String name : List.of("cat", "dog", "owl")) {
            Path p = tmp.resolve(name + ".png");
            byte[] rgb = new byte[64 * 64 * 3];
            new java.util.Random(name.hashCode()).nextBytes(rgb);
            new RgbImage(64, 64, rgb).writePng(Files.newOutputStream(p), Map.of());
            images.add(p.toString());
        }
        Path dump = tmp.resolve("dump");
        List<String> args = new ArrayList<>(List.of("extract", "--model", model.toString(), "--images"));
        args.addAll(images);
        args.addAll(List.of("--samples", "2", "--at", "M00", "--out", dump.toString()));
        assertThat(Main.run(args.toArray(String[]::new))).isZero();
        Path pics = tmp.resolve("pictures");
        assertThat(Main.run("viz", "--dump", dump.toString(), "--row", "1", "--out", pics.toString())).isZero();
        List<String> files = files(pics);
        assertThat(files).doesNotHaveDuplicates().containsExactlyInAnyOrder(
                "cat/mid_block-sample-1-grid.png", "cat/mid_block-sample-1-l2.png",
                "dog/mid_block-sample-1-grid.png", "dog/mid_block-sample-1-l2.png",
                "owl/mid_block-sample-1-grid.png", "owl/mid_block-sample-1-l2.png");
        for (JsonNode f : manifest(pics).get("files")) {
            String image = f.get("file").asText().split("/")[0];
            assertThat(f.get("source").asText()).isEqualTo("image " + image + " · noise sample 1 (0–1)");
            assertThat(f.get("description").asText()).contains("image " + image);
        }
        try (Stream<Path> s = Files.walk(pics)) {
            assertThat(s.filter(Files::isRegularFile).count()).isEqualTo(files.size() + 1);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--channels 70-80|--channels 70-80: down_blocks.1.attentions.1 has 64 channels (0–63)",
        "--color custom --rgb v;v+;1|--rgb: expression 2 of 3 (G), column 3",
        "--reduce sum|--reduce: reduction must be mean, l1 or l2, got 'sum'",
        "--row 5|--row 5 is outside the 1 rows of",
    })
    void badOptionsNameThemselves(String options, String message) {
        List<String> args = new ArrayList<>(List.of("viz", "--dump", features.toString(), "--out", tmp.resolve("o").toString()));
        args.addAll(List.of(options.split(" ")));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertThat(r.code()).isNotZero();
        assertThat(r.errorLines()).singleElement().asString().contains(message);
        assertThat(tmp.resolve("o")).doesNotExist();
    }
}
