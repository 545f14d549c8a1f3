package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code generate --edit} and layer prompts, {@code diff} and {@code sweep} on the bundled model (written into a
 * temporary folder): files, manifests and their hashes, exact properties of the differences, and bad input that exits
 * non-zero without writing anything.
 */
class InterventionCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** 64×64, 2 DDIM steps, CFG: small and fast. */
    private static final List<String> FAST = List.of("--steps", "2", "--height", "64", "--width", "64", "--seed", "5",
            "--scheduler", "ddim", "--guidance", "7.5");

    @TempDir
    static Path shared;
    static Path model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void writeModel() {
        model = TinyModel.write(shared);
    }

    private static CliRun cli(String command, List<String> args) {
        List<String> all = new ArrayList<>(List.of(command, "--model", model.toString()));
        all.addAll(FAST);
        all.addAll(args);
        return CliRun.of(all);
    }

    private static JsonNode entry(JsonNode manifest, String file) {
        for (JsonNode f : manifest.get("files")) {
            if (f.get("file").asText().equals(file)) {
                return f;
            }
        }
        throw new AssertionError(file + " is not in the manifest");
    }

    private static JsonNode manifest(Path dir) throws Exception {
        return JSON.readTree(dir.resolve("manifest.json").toFile());
    }

    /** Every file the manifest lists exists with its size and hash, and every file in the folder is listed. */
    private static void assertManifestComplete(Path dir) throws Exception {
        JsonNode m = manifest(dir);
        List<String> listed = new ArrayList<>();
        for (JsonNode f : m.get("files")) {
            Path p = dir.resolve(f.get("file").asText());
            assertThat(p).exists();
            assertThat(Files.size(p)).isEqualTo(f.get("bytes").asLong());
            assertThat(dev.unetlens.io.OutputDirectory.sha256(p)).isEqualTo(f.get("sha256").asText());
            listed.add(f.get("file").asText());
        }
        try (Stream<Path> s = Files.walk(dir)) {
            List<String> present = s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString())
                    .filter(n -> !n.equals("manifest.json")).toList();
            assertThat(listed).containsExactlyInAnyOrderElementsOf(present);
        }
    }

    @Test
    void generateWithEditsAndLayerPrompts() throws Exception {
        Path plain = tmp.resolve("plain");
        Path edited = tmp.resolve("edited");
        assertThat(cli("generate", List.of("-p", "a cat", "--out", plain.toString())).code()).isZero();
        CliRun r = cli("generate", List.of("-p", "a (~: IN00, M00: dog ; _: cat :~)", "--edit", "mid_block:scale=0.5@steps=1",
                "--edit", "OUT11:zero@channels=0-3,box=0,0,0.5,0.5", "--out", edited.toString()));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("warning: IN00 has no cross-attention; a layer prompt there has no effect");
        assertThat(edited.resolve("image.png")).exists();
        assertManifestComplete(edited);
        JsonNode m = manifest(edited);
        assertThat(m.get("edits")).hasSize(2);
        assertThat(m.get("edits").get(0).get("edit").asText()).isEqualTo("mid_block:scale=0.5@steps=1");
        assertThat(m.get("edits").get(1).get("point").asText()).isEqualTo("up_blocks.3.attentions.2");
        JsonNode lp = m.get("layer_prompts");
        assertThat(lp.get("blocks")).hasSize(25);
        assertThat(lp.get("no_effect").get(0).asText()).isEqualTo("IN00");
        assertThat(lp.get("blocks").get(12).get("prompts").get(0).asText()).isEqualTo("a  dog ");
        assertThat(m.get("request").get("prompts").get(0).asText()).isEqualTo("a (~: IN00, M00: dog ; _: cat :~)");
        assertThat(Npy.read(edited.resolve("latents.npy")).toFloats())
                .isNotEqualTo(Npy.read(plain.resolve("latents.npy")).toFloats());
    }

    /** Layer prompts, edits and patches that are wrong fail with exit 1 and one message, before writing anything. */
    @Test
    void badInputWritesNothing() {
        Path out = tmp.resolve("never");
        CliRun caret = cli("generate", List.of("-p", "a (~: IN00 cute :~) girl", "--out", out.toString()));
        assertThat(caret.code()).isEqualTo(1);
        assertThat(caret.err()).contains("""
                unetlens: error: bad layer prompt at column 12: expected ':' after the block names (separate blocks with ',')
                  a (~: IN00 cute :~) girl
                             ^""");
        for (List<String> args : List.of(
                List.of("generate", "-p", "a", "--edit", "mid_block:scal=1"),
                List.of("generate", "-p", "a", "--edit", "mid_blok:zero"),
                List.of("generate", "-p", "a", "--edit", "M00:zero@channels=0-999"),
                List.of("generate", "-p", "a", "--edit", "M00:patch"),
                List.of("generate", "-p", "a", "--source-prompt", "b"),
                List.of("diff", "-p", "a plain prompt"),
                List.of("diff", "-p", "a (~:M00:b:~)", "--at", "IN99"),
                List.of("diff", "-p", "a (~:M00:b:~)", "--at-steps", "9"),
                List.of("sweep", "-p", "a", "--blocks", "IN00-IN99", "--layer-text", "x"),
                List.of("sweep", "-p", "a", "--blocks", "M00"),
                List.of("sweep", "-p", "a", "--layer-text", "x", "--edit", "zero"),
                List.of("sweep", "-p", "a", "--edit", "M00:zero"),
                List.of("sweep", "-p", "a", "--edit", "zero@steps=1", "--sweep-steps", "1-2"),
                List.of("sweep", "-p", "a (~:{block}:b", "--blocks", "M00"))) {
            List<String> rest = new ArrayList<>(args.subList(1, args.size()));
            rest.addAll(List.of("--out", out.toString()));
            CliRun r = cli(args.getFirst(), rest);
            assertThat(r.code()).as(args + ": " + r.err()).isEqualTo(1);
            assertThat(r.err()).as(args.toString()).startsWith("unetlens: error: ");
            assertThat(out).as(args + " wrote nothing").doesNotExist();
        }
    }

    /**
     * M00 alone reads "dog": at step 1 IN04 (upstream of M00) is unchanged, exactly zero difference, and M00 changes;
     * both images, image and latent differences, pictures and the table are written and listed.
     */
    @Test
    void diffOfALayerPrompt() throws Exception {
        Path out = tmp.resolve("diff");
        CliRun r = cli("diff", List.of("-p", "a (~: M00: dog ; _: cat :~)", "--baseline-prompt", "a cat", "--at", "IN04,M00,OUT11",
                "--at-steps", "1,2", "--out", out.toString()));
        assertThat(r.code()).as(r.err()).isZero();
        for (String f : List.of("baseline.png", "changed.png", "image_diff.png", "image_diff.npy", "latents_diff.npy",
                "differences.csv", "diff/IN04/step-001.npy", "diff/M00/step-001.npy", "diff/M00/step-001-signed.png",
                "diff/M00/step-001-norm.png", "diff/OUT11/step-002.npy")) {
            assertThat(out.resolve(f)).as(f).exists();
        }
        assertManifestComplete(out);
        assertThat(Npy.read(out.resolve("diff/IN04/step-001.npy")).toFloats()).containsOnly(0f);
        assertThat(Npy.read(out.resolve("diff/M00/step-001.npy")).toFloats()).isNotEqualTo(
                new float[(int) Npy.read(out.resolve("diff/M00/step-001.npy")).size()]);
        assertThat(Npy.read(out.resolve("diff/M00/step-001.npy")).shape()).containsExactly(1, 64, 1, 1);
        JsonNode m = manifest(out);
        assertThat(m.get("baseline_request").get("prompts").get(0).asText()).isEqualTo("a cat");
        assertThat(m.get("captured").get("steps").toString()).isEqualTo("[1,2]");
        assertThat(m.get("results").get("latent_l2").asDouble()).isPositive();
        assertThat(Files.readAllLines(out.resolve("differences.csv"))).hasSize(1 + 3 * 2);
        assertThat(entry(m, "image_diff.png").get("unit").asText()).contains("VAE output");
        assertThat(dev.unetlens.io.RgbImage.read(out.resolve("image_diff.png")).width())
                .as("a titled picture with a colour bar, wider than the 64 px image").isGreaterThan(200);
        // an existing folder is not overwritten without --force
        CliRun again = cli("diff", List.of("-p", "a (~: M00: dog ; _: cat :~)", "--out", out.toString()));
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("--force");
    }

    /** A diff of an edit: zero at up_blocks.3.attentions.2 at step 2: its difference there is −baseline, elsewhere zero before it. */
    @Test
    void diffOfAnEdit() throws Exception {
        Path out = tmp.resolve("diff-edit");
        CliRun r = cli("diff", List.of("-p", "a cat", "--edit", "OUT11:zero@steps=2", "--at", "OUT10,OUT11", "--at-steps", "1-2",
                "--rows", "all", "--out", out.toString()));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Npy.read(out.resolve("diff/OUT11/step-001.npy")).toFloats()).containsOnly(0f);
        assertThat(Npy.read(out.resolve("diff/OUT10/step-002.npy")).toFloats()).containsOnly(0f);
        assertThat(Npy.read(out.resolve("diff/OUT11/step-002.npy")).shape()).containsExactly(2, 32, 8, 8);
        assertThat(manifest(out).get("edits").get(0).get("edit").asText()).isEqualTo("OUT11:zero@steps=2");
    }

    /** One block at a time: blocks without cross-attention change nothing; a contact sheet, metrics and manifest. */
    @Test
    void sweepOfALayerText() throws Exception {
        Path out = tmp.resolve("sweep");
        CliRun r = cli("sweep", List.of("-p", "a cute girl", "--layer-text", "bad anatomy", "--blocks", "IN00,IN05,M00",
                "--out", out.toString()));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("sweep: IN05 (2/3)");
        for (String f : List.of("baseline.png", "contact_sheet.png", "contact_sheet_diff.png", "metrics.csv",
                "blocks/IN00/image.png", "blocks/IN05/image.png", "blocks/IN05/image_diff.png",
                "blocks/IN05/diff/IN05/step-002.npy", "blocks/M00/diff/M00/step-002-signed.png")) {
            assertThat(out.resolve(f)).as(f).exists();
        }
        assertManifestComplete(out);
        List<String> metrics = Files.readAllLines(out.resolve("metrics.csv"));
        assertThat(metrics).hasSize(4);
        assertThat(metrics.get(1)).startsWith("IN00,,false,0.0,0.0,");
        assertThat(metrics.get(2)).startsWith("IN05,,true,").doesNotContain(",0.0,0.0,");
        JsonNode m = manifest(out);
        assertThat(entry(m, "contact_sheet_diff.png").get("unit").asText()).contains("8-bit");
        assertThat(m.get("baseline_request").get("prompts").get(0).asText()).isEqualTo("a cute girl, ");
        assertThat(m.get("cells")).hasSize(3);
        assertThat(m.get("cells").get(1).get("prompts").get(0).asText()).isEqualTo("a cute girl, (~:IN05:bad anatomy:~)");
        assertThat(Files.readAllBytes(out.resolve("blocks/IN00/image.png"))).isEqualTo(Files.readAllBytes(out.resolve("baseline.png")));
    }

    /** An edit swept over blocks × steps, and a patching sweep from a source run. */
    @Test
    void sweepOfEditsAndPatches() throws Exception {
        Path out = tmp.resolve("sweep-edit");
        CliRun r = cli("sweep", List.of("-p", "a cat", "--edit", "scale=0", "--blocks", "M00,OUT00", "--sweep-steps", "1-2",
                "--columns", "3", "--out", out.toString()));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(out.resolve("blocks/M00/step-001/image.png")).exists();
        assertThat(out.resolve("blocks/OUT00/step-002/diff/OUT00/step-002.npy")).exists();
        // scale=0 at OUT00's step 2: the output there is 0, so its difference is −baseline: relative norm exactly 1
        List<String> table = Files.readAllLines(out.resolve("blocks/OUT00/step-002/differences.csv"));
        assertThat(table.get(1).split(",")).startsWith("up_blocks.0.resnets.0", "OUT00", "2");
        assertThat(table.get(1).split(",")[table.get(1).split(",").length - 2]).isEqualTo("1.0");
        assertThat(Npy.read(out.resolve("blocks/OUT00/step-001/diff/OUT00/step-002.npy")).toFloats()).as("edited at step 1 only")
                .isNotEqualTo(Npy.read(out.resolve("blocks/OUT00/step-002/diff/OUT00/step-002.npy")).toFloats());
        JsonNode m = manifest(out);
        assertThat(m.get("cells")).hasSize(4);
        assertThat(m.get("cells").get(1).get("edits").get(0).get("edit").asText()).isEqualTo("M00:scale=0@steps=2");

        Path patch = tmp.resolve("sweep-patch");
        CliRun p = cli("sweep", List.of("-p", "a cat", "--edit", "{block}:patch", "--source-prompt", "a dog", "--blocks", "IN00,M00", "--out", patch.toString()));
        assertThat(p.code()).as(p.err()).isZero();
        List<String> metrics = Files.readAllLines(patch.resolve("metrics.csv"));
        assertThat(metrics.get(0)).endsWith(",latent_l2_to_source");
        assertThat(metrics.get(1).split(",")).hasSize(6);
        assertThat(manifest(patch).get("cells").get(1).has("latent_l2_to_source")).isTrue();
    }
}
