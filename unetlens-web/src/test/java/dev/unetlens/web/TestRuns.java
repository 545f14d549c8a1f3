package dev.unetlens.web;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.AtomicFiles;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Runs for the server's tests, written with the writers {@code extract} uses ({@link OutputDirectory}, {@link Npy}):
 * a generation dump of two modules over two steps, with an image; and the broken kinds the Runs page must list.
 */
final class TestRuns {
    /** Module, block, [C, H, W] of the dump. */
    static final String[][] MODULES = {{"down_blocks.1.attentions.0", "IN04", "6,4,5"}, {"mid_block", "M00", "3,2,2"}};

    private TestRuns() {
    }

    /** The value of element i of module m at step s: distinct everywhere, so a wrong slice shows. */
    static float value(int m, int step, int i) {
        return (float) (m * 1000 + step * 100 + Math.sin(i) * 10 + i * 0.01);
    }

    /** A generation dump under {@code dir} (prompt "a red fox", seed 7), complete. */
    static Path generation(Path dir) {
        OutputDirectory out = OutputDirectory.open(dir, "extract", false);
        out.manifest().put("mode", "generation");
        ObjectNode req = out.manifest().putObject("request");
        req.putArray("prompts").add("a red fox");
        req.put("seed", 7);
        out.manifest().putObject("scheduler").put("_class_name", "PNDMScheduler");
        out.manifest().putObject("model").put("path", "/models/tiny-sd15-v1");
        out.manifest().putObject("seconds").put("load", 1.5).put("total", 4.25);
        RgbImage img = gradient(40, 30);
        out.write("image.png", o -> img.writePng(o, Map.of()), "generated image");
        for (int m = 0; m < MODULES.length; m++) {
            String[] c = MODULES[m][2].split(",");
            long[] shape = {1, Long.parseLong(c[0]), Long.parseLong(c[1]), Long.parseLong(c[2])};
            for (int step = 1; step <= 2; step++) {
                float[] v = new float[(int) NpyArray.elementCount(shape)];
                for (int i = 0; i < v.length; i++) {
                    v[i] = value(m, step, i);
                }
                String entry = MODULES[m][0] + "/step-00" + step;
                ObjectNode f = out.write(entry + ".npy", o -> o.write(Npy.toBytes(NpyArray.ofFloats(shape, v))), "features");
                ObjectNode t = f.putArray("tensors").addObject();
                t.put("module", MODULES[m][0]).put("block", MODULES[m][1]).put("step", step)
                        .put("timestep", step == 1 ? 751.0 : 501.0).put("cfg_branch", "conditional").put("entry", entry);
                t.putArray("shape").add(shape[0]).add(shape[1]).add(shape[2]).add(shape[3]);
                out.saveManifest();
            }
        }
        out.finish();
        return dir;
    }

    /** Attention modules of {@link #attention}: hook point, [B, N, T, S] (latent 4×4: maps 4×4 and 2×2). */
    static final String CROSS = "down_blocks.1.attentions.0.transformer_blocks.0.attn2";
    static final String CROSS_SMALL = "up_blocks.1.attentions.0.transformer_blocks.0.attn2";
    static final String SELF = "down_blocks.1.attentions.0.transformer_blocks.0.attn1";
    static final String[][] ATTENTION = {{CROSS, "1,2,16,8"}, {CROSS_SMALL, "1,2,4,8"}, {SELF, "1,2,16,16"}};

    /** Probability i of attention module m at step s: positive, distinct everywhere (a wrong slice shows). */
    static float attention(int m, int step, int i) {
        return (float) (0.05 + 0.04 * m + 0.02 * step + 0.01 * Math.abs(Math.sin(1.3 * i)) + i * 1e-4);
    }

    /**
     * A generation dump with attention probabilities, as extract --prompt … --at '…attn2:probs, …attn1:probs' writes
     * it: prompt "a red fox" (tokens [SOT] a red fox [EOT]), two cross-attentions and a self-attention at steps 1
     * and 2, the conditional half, and the generated image.
     */
    static Path attention(Path dir) {
        OutputDirectory out = OutputDirectory.open(dir, "extract", false);
        out.manifest().put("mode", "generation");
        out.manifest().putObject("request").put("seed", 7).putArray("prompts").add("a red fox");
        RgbImage img = gradient(32, 32);
        out.write("image.png", o -> img.writePng(o, Map.of()), "generated image");
        for (int m = 0; m < ATTENTION.length; m++) {
            long[] shape = java.util.Arrays.stream(ATTENTION[m][1].split(",")).mapToLong(Long::parseLong).toArray();
            for (int step = 1; step <= 2; step++) {
                float[] v = new float[(int) NpyArray.elementCount(shape)];
                for (int i = 0; i < v.length; i++) {
                    v[i] = attention(m, step, i);
                }
                String entry = ATTENTION[m][0].replace(':', '-') + "-probs/step-00" + step;
                ObjectNode f = out.write(entry + ".npy", o -> o.write(Npy.toBytes(NpyArray.ofFloats(shape, v))), "features");
                ObjectNode t = f.putArray("tensors").addObject();
                t.put("module", ATTENTION[m][0] + ":probs").put("component", "unet").put("step", step)
                        .put("timestep", step == 1 ? 667.0 : 334.0).put("cfg_branch", "conditional").put("entry", entry);
                t.putArray("latent").add(4).add(4);
                t.putArray("prompt_index").add(0);
                t.putArray("shape").add(shape[0]).add(shape[1]).add(shape[2]).add(shape[3]);
                out.saveManifest();
            }
        }
        out.finish();
        return dir;
    }

    /** Module and [samples, C, H, W] of {@link #images}. */
    static final String IMAGE_MODULE = "up_blocks.1";
    static final long[] IMAGE_SHAPE = {2, 4, 3, 3};

    /**
     * An image dump of two images, cat and dog (2 noise samples each), whose inputs lie in the run's folder, as when
     * the images of a generate run under --runs are extracted; or, with {@code outside}, in that folder instead.
     */
    static Path images(Path dir, Path outside) throws Exception {
        OutputDirectory out = OutputDirectory.open(dir, "extract", false);
        out.manifest().put("mode", "images");
        var paths = out.manifest().putObject("request").putArray("images");
        String[] names = {"cat", "dog"};
        for (int i = 0; i < names.length; i++) {
            RgbImage img = gradient(24 + 8 * i, 24);
            if (outside == null) {
                out.write("inputs/" + names[i] + ".png", o -> img.writePng(o, Map.of()), "input image");
                paths.add(dir.resolve("inputs/" + names[i] + ".png").toAbsolutePath().toString());
            } else {
                Files.createDirectories(outside);
                Path p = outside.resolve(names[i] + ".png");
                AtomicFiles.write(p, o -> img.writePng(o, Map.of()));
                paths.add(p.toAbsolutePath().toString());
            }
            float[] v = new float[(int) NpyArray.elementCount(IMAGE_SHAPE)];
            for (int k = 0; k < v.length; k++) {
                v[k] = (float) Math.sin(1.7 * k + i) * (1 + k % 5);
            }
            String entry = IMAGE_MODULE;
            ObjectNode f = out.write(names[i] + "/" + entry + ".npy",
                    o -> o.write(Npy.toBytes(NpyArray.ofFloats(IMAGE_SHAPE, v))), "features");
            ObjectNode t = f.putArray("tensors").addObject();
            t.put("module", IMAGE_MODULE).put("block", "OUT03").put("image", names[i]).put("image_index", i)
                    .put("timestep", 50.0).put("entry", entry);
            t.putArray("shape").add(IMAGE_SHAPE[0]).add(IMAGE_SHAPE[1]).add(IMAGE_SHAPE[2]).add(IMAGE_SHAPE[3]);
            out.saveManifest();
        }
        out.finish();
        return dir;
    }

    /** Where {@link #planted} plants its 2×2 high-norm patch: upper-left token (x = column, y = row). */
    static final int PLANTED_X = 5;
    static final int PLANTED_Y = 2;

    /**
     * An image dump of one image ("planted") whose 8×8 map of 8 channels has a smooth norm (2.7 … 3.2) except a 2×2
     * patch at ({@link #PLANTED_X}, {@link #PLANTED_Y}) six times as large: what the anomaly detector must find.
     */
    static Path planted(Path dir) {
        OutputDirectory out = OutputDirectory.open(dir, "extract", false);
        out.manifest().put("mode", "images");
        out.manifest().putObject("request").putArray("images").add(dir.resolve("inputs/planted.png").toAbsolutePath().toString());
        RgbImage img = gradient(64, 64);
        out.write("inputs/planted.png", o -> img.writePng(o, Map.of()), "input image");
        long[] shape = {1, 8, 8, 8};
        float[] v = new float[(int) NpyArray.elementCount(shape)];
        for (int c = 0; c < 8; c++) {
            for (int i = 0; i < 64; i++) {
                int row = i / 8;
                int col = i % 8;
                boolean patch = row >= PLANTED_Y && row <= PLANTED_Y + 1 && col >= PLANTED_X && col <= PLANTED_X + 1;
                v[c * 64 + i] = (float) ((1 + 0.5 * Math.sin(0.7 * i + c)) * (patch ? 6 : 1));
            }
        }
        ObjectNode f = out.write("planted/" + IMAGE_MODULE + ".npy", o -> o.write(Npy.toBytes(NpyArray.ofFloats(shape, v))), "features");
        ObjectNode t = f.putArray("tensors").addObject();
        t.put("module", IMAGE_MODULE).put("block", "OUT03").put("image", "planted").put("image_index", 0)
                .put("timestep", 50.0).put("entry", IMAGE_MODULE);
        t.putArray("shape").add(shape[0]).add(shape[1]).add(shape[2]).add(shape[3]);
        out.finish();
        return dir;
    }

    static RgbImage gradient(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < w * h; i++) {
            rgb[3 * i] = (byte) (i % w * 255 / w);
            rgb[3 * i + 1] = (byte) (i / w * 255 / h);
            rgb[3 * i + 2] = (byte) r.nextInt(256);
        }
        return new RgbImage(w, h, rgb);
    }

    /** A folder whose manifest.json is not JSON. */
    static Path corrupt(Path dir) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("manifest.json"), "{\"command\": \"generate\", \"files\": [");
        return dir;
    }

    /** A run being written: partial files, no manifest yet. */
    static Path halfWritten(Path dir) throws Exception {
        Files.createDirectories(dir.resolve(OutputDirectory.PARTIAL_PREFIX + "1"));
        return dir;
    }

    /** A generation dump whose tensor file was cut short after it was listed. */
    static Path truncated(Path dir) throws Exception {
        generation(dir);
        Path f = dir.resolve(MODULES[0][0] + "/step-001.npy");
        byte[] b = Files.readAllBytes(f);
        AtomicFiles.writeBytes(f, java.util.Arrays.copyOf(b, b.length / 2));
        return dir;
    }
}
