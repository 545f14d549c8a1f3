package dev.unetlens.cli;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.pipeline.ImageProcessor;
import dev.unetlens.pipeline.Images;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.viz.render.Layout;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code generate --previews}: the denoising trajectory at chosen steps, as sdhelper's per-step images — for each
 * image of the batch, the step's x̂₀ (the scheduler's estimate of the clean latents; PNDM's computed from ε) decoded by
 * the VAE, and the latents x_t after the step as a channel grid; at the end a strip per image of the decoded x̂₀ over
 * the steps above the latents' channels, one colour scale for all of them.
 */
final class PreviewWriter implements Pipeline.StepCallback {
    /** Side of a strip's thumbnails. */
    static final int THUMB = 160;

    private final OutputDirectory out;
    private final StableDiffusion sd;
    private final Set<Integer> steps;
    private final Map<Integer, Step> kept = new TreeMap<>();
    private double decodeSeconds;

    /** One previewed step: its decoded x̂₀ per image, and the latents [B, C, h, w]. */
    private record Step(int step, double timestep, List<RgbImage> x0, float[] latents, long[] shape) {
    }

    /** @param steps the 1-based steps to preview */
    PreviewWriter(OutputDirectory out, StableDiffusion sd, Set<Integer> steps) {
        this.out = out;
        this.sd = sd;
        this.steps = Set.copyOf(steps);
    }

    private List<RgbImage> pending;

    @Override
    public boolean wantsPrediction() {
        return true;
    }

    @Override
    public void onPrediction(int step, NDArray x0) {
        if (!steps.contains(step + 1)) {
            return;
        }
        long t0 = System.nanoTime();
        try (ForwardScope scope = new ForwardScope()) {
            NDArray z = x0.div(sd.vae().scalingFactor());
            pending = ImageProcessor.toImages(sd.vae().decode(z));
        }
        decodeSeconds += (System.nanoTime() - t0) / 1e9;
    }

    @Override
    public void onStep(int step, int totalSteps, double timestep, NDArray latents) {
        if (!steps.contains(step + 1)) {
            return;
        }
        Step s = new Step(step + 1, timestep, pending, latents.toFloatArray(), latents.getShape().getShape());
        pending = null;
        kept.put(s.step(), s);
        for (int i = 0; i < s.x0().size(); i++) {
            RgbImage img = s.x0().get(i);
            String stem = String.format(Locale.ROOT, "previews/step-%03d", s.step()) + suffix(i, s.x0().size());
            ObjectNode e = out.write(stem + "-x0.png", o -> img.writePng(o, Map.of()),
                    "step " + s.step() + " (t=" + t(timestep) + "): the predicted x̂₀ decoded by the VAE, image " + (i + 1));
            e.put("step", s.step()).put("timestep", timestep).put("image_index", i).put("kind", "preview-x0");
            int c = (int) s.shape()[1];
            int h = (int) s.shape()[2];
            int w = (int) s.shape()[3];
            float[] row = java.util.Arrays.copyOfRange(s.latents(), i * c * h * w, (i + 1) * c * h * w);
            RgbImage lat = latentsPicture("latents x_t after step " + s.step() + " (t=" + t(timestep) + ")"
                    + (s.x0().size() > 1 ? " · image " + (i + 1) : ""), row, c, h, w);
            ObjectNode g = out.write(stem + "-latents.png", o -> lat.writePng(o, Map.of()),
                    "step " + s.step() + ": the latents' channels, image " + (i + 1));
            g.put("kind", "preview-latents");
            g.put("step", s.step()).put("timestep", timestep).put("image_index", i);
        }
    }

    /** Each channel of one image's latents [C, h, w], enlarged to about 128 px, Red/Blue over ±max |x|. */
    private static RgbImage latentsPicture(String title, float[] chw, int c, int h, int w) {
        double scale = maxAbs(chw, 0, chw.length);
        int k = Math.max(1, 128 / Math.max(h, w));
        List<Layout.Panel> panels = new ArrayList<>();
        for (int ch = 0; ch < c; ch++) {
            BufferedImage img = Pictures.signed(chw, ch * h * w, h, w, scale).toBufferedImage();
            panels.add(new Layout.Panel(Layout.scaled(img, w * k, h * k), "channel " + ch));
        }
        String sub = "[" + c + ", " + h + ", " + w + "] as the U-Net sees them · Red/Blue over ±"
                + String.format(Locale.ROOT, "%.3g", scale) + " (max |x|)";
        return RgbImage.of(Layout.panels(title, List.of(sub), List.of(new Layout.Row(null, panels)),
                Pictures.signedBar(scale, "latent value")));
    }

    private static double maxAbs(float[] v, int from, int to) {
        double m = 0;
        for (int i = from; i < to; i++) {
            m = Math.max(m, Math.abs(v[i]));
        }
        return m;
    }

    /** Writes a strip per image and the previews' record into the manifest. */
    void finish() {
        if (kept.isEmpty()) {
            return;
        }
        int images = kept.values().iterator().next().x0().size();
        for (int i = 0; i < images; i++) {
            strip(i, images);
        }
        ObjectNode p = out.manifest().putObject("previews");
        ArrayNode at = p.putArray("steps");
        kept.keySet().forEach(at::add);
        p.put("x0", "the scheduler's pred_original_sample at the step (PNDM, which has none: computed from the guided"
                + " model output as DDIM does), divided by the scaling factor and decoded by the VAE");
        p.put("latents", "the latents after the step, as the U-Net sees them (scaling factor applied)");
        p.put("decode_seconds", decodeSeconds);
        out.saveManifest();
    }

    private void strip(int image, int images) {
        List<Layout.Panel> x0 = new ArrayList<>();
        List<Layout.Panel> lat = new ArrayList<>();
        for (Step s : kept.values()) {
            int per = (int) (s.shape()[1] * s.shape()[2] * s.shape()[3]);
            double scale = maxAbs(s.latents(), image * per, (image + 1) * per);
            String caption = "step " + s.step() + " · t=" + t(s.timestep());
            x0.add(new Layout.Panel(thumbnail(s.x0().get(image).toBufferedImage()), caption));
            lat.add(new Layout.Panel(thumbnail(mosaic(s, image, scale)), caption,
                    "±" + String.format(Locale.ROOT, "%.3g", scale)));
        }
        List<Layout.Row> rows = List.of(new Layout.Row("x̂₀ decoded", x0), new Layout.Row("latents x_t", lat));
        String sub = kept.size() + " steps · the latents' channels tiled " + tiles((int) kept.values().iterator().next().shape()[1])
                + ", Red/Blue over ± each step's max |x|";
        var colors = Pictures.signedColors(1);
        var img = Layout.panels("Denoising trajectory" + (images > 1 ? " · image " + (image + 1) : ""),
                List.of(sub), rows, dev.unetlens.viz.render.ColorBar.relative(u -> colors.rgb(2 * u - 1, -1, 1),
                        "−max |x|", "+max |x|", "latent value"));
        ObjectNode e = out.write("previews/strip" + suffix(image, images) + ".png",
                o -> RgbImage.writePng(img, o, Map.of()), "the predicted x̂₀ and the latents over the previewed steps");
        e.put("kind", "preview-strip");
        e.put("image_index", image);
    }

    /** The latents' channels of one image tiled in a near-square grid, 1 px apart, Red/Blue over ±scale. */
    private static BufferedImage mosaic(Step s, int image, double scale) {
        int c = (int) s.shape()[1];
        int h = (int) s.shape()[2];
        int w = (int) s.shape()[3];
        int cols = (int) Math.ceil(Math.sqrt(c));
        int rows = (c + cols - 1) / cols;
        BufferedImage m = new BufferedImage(cols * (w + 1) - 1, rows * (h + 1) - 1, BufferedImage.TYPE_INT_RGB);
        var g = m.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, m.getWidth(), m.getHeight());
        g.dispose();
        for (int k = 0; k < c; k++) {
            BufferedImage ch = Pictures.signed(s.latents(), (image * c + k) * h * w, h, w, scale).toBufferedImage();
            m.getGraphics().drawImage(ch, (k % cols) * (w + 1), (k / cols) * (h + 1), null);
        }
        return m;
    }

    private static String tiles(int c) {
        int cols = (int) Math.ceil(Math.sqrt(c));
        return cols + "×" + ((c + cols - 1) / cols);
    }

    /** Brought to about {@value #THUMB} px: enlarged by a whole factor (nearest), or reduced. */
    private static BufferedImage thumbnail(BufferedImage img) {
        int longer = Math.max(img.getWidth(), img.getHeight());
        if (longer <= THUMB) {
            int k = Math.max(1, THUMB / longer);
            return Layout.scaled(img, img.getWidth() * k, img.getHeight() * k);
        }
        double s = (double) THUMB / longer;
        return Images.resize(RgbImage.of(img), Math.max(1, (int) Math.round(img.getWidth() * s)),
                Math.max(1, (int) Math.round(img.getHeight() * s))).toBufferedImage();
    }

    private static String suffix(int i, int n) {
        return n == 1 ? "" : String.format(Locale.ROOT, "-%03d", i);
    }

    private static String t(double t) {
        return t == Math.rint(t) ? Long.toString((long) t) : String.format(Locale.ROOT, "%.2f", t);
    }
}
