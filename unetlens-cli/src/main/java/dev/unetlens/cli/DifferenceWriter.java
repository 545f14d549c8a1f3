package dev.unetlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.intervene.Differences;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.pipeline.GenerationResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a difference set: per point and step the tensor changed − baseline ({@code .npy}, float32, [rows, …]) and its
 * pictures (a signed Red/Blue grid of every channel and a channel-norm map, for feature maps [C, H, W] and tokens of a
 * level [H·W, C]); the difference of the final images and latents; and a table of norms. Files go under
 * {@code prefix} in the output directory and into its manifest.
 */
final class DifferenceWriter {
    private final OutputDirectory out;
    private final String prefix;
    private final BlockNames blocks;
    private final int latentH;
    private final int latentW;
    private final List<String> rows = new ArrayList<>();
    /** What the values of image_diff.npy and .png are. */
    static final String IMAGE_UNIT = "Δ pixel value (VAE output, black −1 … white 1)";

    DifferenceWriter(OutputDirectory out, String prefix, BlockNames blocks, int latentH, int latentW) {
        this.out = out;
        this.prefix = prefix;
        this.blocks = blocks;
        this.latentH = latentH;
        this.latentW = latentW;
    }

    /** The file-name stem of a point: its block name if it is a block's output, else its path ({@code :} as {@code __}). */
    String name(String point) {
        return blocks.blockName(point).orElse(point.isEmpty() ? "output" : point.replace(":", "__"));
    }

    /** Writes one difference and its pictures. */
    void accept(Differences.Difference d) {
        String stem = prefix + "diff/" + name(d.point()) + "/" + String.format(Locale.ROOT, "step-%03d", d.step() + 1);
        NpyArray delta = d.delta();
        ObjectNode e = out.write(stem + ".npy", o -> o.write(Npy.toBytes(delta)),
                "difference with − without of " + d.point() + " at step " + (d.step() + 1) + ", float32");
        describe(e, d);
        float[] v = delta.toFloats();
        long[] s = delta.shape();
        int[] chw = mapOf(d.point(), s);
        if (chw != null) {
            int per = chw[0] * chw[1] * chw[2];
            int shown = (int) Math.min(s[0], 4);
            for (int r = 0; r < shown; r++) {
                float[] map = s.length == 4 ? java.util.Arrays.copyOfRange(v, r * per, (r + 1) * per)
                        : transpose(v, r * per, chw[1] * chw[2], chw[0]);
                String suffix = s[0] == 1 ? "" : "-row" + r;
                MapLabel label = new MapLabel(d.point() + " with − without" + (s[0] == 1 ? "" : " row " + r),
                        d.step() + 1, d.timestep());
                describe(Pictures.channelGrid(map, chw[0], chw[1], chw[2], label).write(out, stem + suffix + "-signed.png"), d);
                describe(Pictures.norm(map, chw[0], chw[1], chw[2], label).write(out, stem + suffix + "-norm.png"), d);
            }
        }
        rows.add(String.join(",", csv(d.point()), blocks.blockName(d.point()).orElse(""), Integer.toString(d.step() + 1),
                Double.toString(d.timestep()), csv(java.util.Arrays.toString(s)), Double.toString(d.baselineNorm()),
                Double.toString(d.deltaNorm()), Double.toString(d.relative()), Double.toString(d.maxAbs())));
    }

    private void describe(ObjectNode e, Differences.Difference d) {
        e.put("point", d.point());
        blocks.blockName(d.point()).ifPresent(b -> e.put("block", b));
        e.put("step", d.step() + 1);
        e.put("timestep", d.timestep());
        e.put("delta_norm", d.deltaNorm());
        e.put("relative_norm", d.relative());
        e.put("max_abs", d.maxAbs());
    }

    /** [C, H, W] of one row of a feature map [R, C, H, W] or level tokens [R, H·W, C]; null for other tensors. */
    private int[] mapOf(String point, long[] s) {
        if (point.endsWith(":probs")) {
            return null;
        }
        if (s.length == 4) {
            return new int[] {(int) s[1], (int) s[2], (int) s[3]};
        }
        if (s.length == 3) {
            int h = latentH;
            int w = latentW;
            for (int l = 0; l < 16; l++) {
                if ((long) h * w == s[1]) {
                    return new int[] {(int) s[2], h, w};
                }
                h = (h + 1) / 2;
                w = (w + 1) / 2;
            }
        }
        return null;
    }

    /** [T, C] at {@code offset} → [C, T]. */
    private static float[] transpose(float[] v, int offset, int t, int c) {
        float[] out = new float[t * c];
        for (int i = 0; i < t; i++) {
            for (int ch = 0; ch < c; ch++) {
                out[ch * t + i] = v[offset + i * c + ch];
            }
        }
        return out;
    }

    /**
     * The differences of the final results: {@code image_diff.npy} (decoded images, [B, 3, H, W], before clamping),
     * {@code image_diff.png} (mean over RGB, signed), {@code latents_diff.npy}. Returns per image the mean absolute
     * difference of the 8-bit images in [0, 1].
     */
    double[] results(GenerationResult baseline, GenerationResult changed) {
        Differences.Difference img = Differences.of("image", -1, Double.NaN, List.of(), baseline.decoded(), changed.decoded());
        Differences.Difference lat = Differences.of("latents", -1, Double.NaN, List.of(), baseline.finalLatents(), changed.finalLatents());
        out.write(prefix + "image_diff.npy", o -> o.write(Npy.toBytes(img.delta())),
                "decoded image with − without, [batch, 3, H, W], float32 (VAE output before clamping)").put("delta_norm", img.deltaNorm());
        out.write(prefix + "latents_diff.npy", o -> o.write(Npy.toBytes(lat.delta())),
                "final latents with − without, float32").put("delta_norm", lat.deltaNorm());
        long[] s = img.delta().shape();
        int b = (int) s[0];
        int h = (int) s[2];
        int w = (int) s[3];
        float[] v = img.delta().toFloats();
        double[] mae = new double[b];
        for (int i = 0; i < b; i++) {
            float[] mean = new float[h * w];
            double max = 0;
            for (int k = 0; k < h * w; k++) {
                mean[k] = (v[(i * 3) * h * w + k] + v[(i * 3 + 1) * h * w + k] + v[(i * 3 + 2) * h * w + k]) / 3;
                max = Math.max(max, Math.abs(mean[k]));
            }
            RgbImage pic = Pictures.signedPicture("Image difference: with − without" + (b == 1 ? "" : ", image " + (i + 1)),
                    "decoded image, mean over R, G, B; red brighter, blue darker; Red/Blue over ±max |Δ|", mean, h, w, max,
                    IMAGE_UNIT);
            String name = prefix + (b == 1 ? "image_diff.png" : String.format(Locale.ROOT, "image_diff-%03d.png", i));
            ObjectNode e = out.write(name, o -> pic.writePng(o, Map.of()),
                    "image with − without, mean over RGB: red brighter, blue darker (one scale: max |Δ|)");
            e.put("max_abs", max);
            e.put("unit", IMAGE_UNIT);
            mae[i] = meanAbs(baseline.images().get(i), changed.images().get(i));
        }
        return mae;
    }

    /** Mean |a − b| over the 8-bit values, in [0, 1]. */
    static double meanAbs(RgbImage a, RgbImage b) {
        long s = 0;
        for (int k = 0; k < a.rgb().length; k++) {
            s += Math.abs((a.rgb()[k] & 0xff) - (b.rgb()[k] & 0xff));
        }
        return s / 255.0 / a.rgb().length;
    }

    /** Writes {@code differences.csv} under the prefix (if anything was captured). */
    void writeTable() {
        if (rows.isEmpty()) {
            return;
        }
        String header = "point,block,step,timestep,shape,baseline_norm,delta_norm,relative_norm,max_abs\n";
        String body = header + String.join("\n", rows) + "\n";
        out.write(prefix + "differences.csv", o -> o.write(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                "per point and step: ‖baseline‖, ‖Δ‖, ‖Δ‖/‖baseline‖ and max |Δ| over the kept rows");
    }

    private static String csv(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
