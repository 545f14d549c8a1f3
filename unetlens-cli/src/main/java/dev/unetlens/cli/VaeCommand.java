package dev.unetlens.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.extract.VaeWalkthrough;
import dev.unetlens.io.CacheDir;
import dev.unetlens.io.FileHashes;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.RgbImage;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.model.vae.DiagonalGaussian;
import dev.unetlens.pipeline.ImageProcessor;
import dev.unetlens.pipeline.Images;
import dev.unetlens.pipeline.RunRecords;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.rng.TorchGenerator;
import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.grid.AutoScope;
import dev.unetlens.viz.grid.FeatureGrid;
import dev.unetlens.viz.grid.GridOptions;
import dev.unetlens.viz.grid.ReducedMap;
import dev.unetlens.viz.grid.Reduction;
import dev.unetlens.viz.grid.StageOverview;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.concurrent.Callable;

/**
 * {@code unetlens vae}: the walk through the VAE of "the VAE from scratch", as pictures — an image through the encoder
 * stage by stage to its posterior and latent, and a latent (the image's, and a generation's final latents) through the
 * decoder stage by stage to pixels.
 */
@Command(name = "vae", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Walk an image through the VAE's encoder and a latent through its decoder, stage by stage, as pictures.",
        description = {"Walk through the VAE stage by stage: an image (--image) through the encoder — conv_in, each down",
            "block (resnets, then a stride-2 conv after asymmetric (0, 1, 0, 1) padding), the mid block with its",
            "attention, GroupNorm, conv_out to mean and log-variance — to its latent, and back through the decoder;",
            "a generation's final latents (--latents, the latents.npy 'generate' writes) through the decoder — conv_in,",
            "the mid block, each up block (resnets, nearest ×2, conv), GroupNorm, conv_out. Writes per stage a channel",
            "grid and its L2-norm map, the latent's channels, the images, walkthrough.png (every stage in a row) and",
            "manifest.json with each stage's shape and statistics. The arrays: 'extract --component vae'."})
public final class VaeCommand implements Callable<Integer> {
    private static final Reduction NORM = Reduction.L2;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--image", paramLabel = "FILE", description = "An image to encode (its sides cropped to multiples of 8)."
            + " Its latent is decoded too.")
    Path image;

    @Option(names = "--latents", paramLabel = "FILE",
            description = "Latents to decode, [B, L, h, w] .npy as the U-Net sees them (scaling factor applied): the"
                    + " latents.npy of 'generate'.")
    Path latents;

    @Option(names = "--row", paramLabel = "N", defaultValue = "0", description = "Which row of --latents (default: ${DEFAULT-VALUE}).")
    int row;

    @Option(names = "--sample", description = "Decode a draw of the image's posterior (torch generator, --seed) instead of its mean.")
    boolean sample;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of --sample's draw (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--channels", paramLabel = "A-B", defaultValue = "0-15",
            description = "Channels the stage grids show (default: ${DEFAULT-VALUE}; fewer where a stage has fewer).")
    String channels;

    @ArgGroup(validate = false, heading = "%nColours%n", exclusive = false)
    ColorOptions colors = new ColorOptions();

    @ArgGroup(validate = false, heading = "%nOutput%n", exclusive = false)
    OutputOptions output = new OutputOptions();

    @Override
    public Integer call() {
        if (image == null && latents == null) {
            throw new UnetlensException("give --image (walk it through the encoder and back) or --latents (walk them"
                    + " through the decoder), or both");
        }
        boolean seeded = spec.commandLine().getParseResult().hasMatchedOption("--seed");
        if (image == null && (sample || seeded)) {
            throw new UnetlensException("--sample and --seed draw from an image's posterior; give --image");
        }
        if (latents == null && spec.commandLine().getParseResult().hasMatchedOption("--row")) {
            throw new UnetlensException("--row picks a row of --latents; give --latents");
        }
        List<Integer> shown = VizCommand.range(channels);
        RgbImage input = image == null ? null : readImage(image);
        NpyArray given = latents == null ? null : Npy.read(latents);
        OutputDirectory out = output.open("vae");
        try (StableDiffusion sd = model.load(); NDManager m = sd.manager().newSubManager()) {
            AutoencoderKL vae = sd.vae();
            ObjectNode mf = out.manifest();
            mf.set("model", RunRecords.model(sd, new FileHashes(CacheDir.root())));
            mf.set("versions", RunRecords.versions());
            mf.put("scaling_factor", vae.scalingFactor());
            List<StageWriter> walks = new ArrayList<>();
            if (input != null) {
                NDArray z = encoderWalk(out, vae, m, input, shown, walks);
                walks.add(decoderWalk(out, vae, z, shown, "decoder (image)", "reconstruction.png",
                        "the image's latent decoded (" + (sample ? "a posterior draw" : "the posterior's mean") + ")"));
            }
            if (given != null) {
                NDArray z = latentRow(m, given, vae.config().latentChannels()).div((float) vae.scalingFactor());
                mf.put("latents", latents.toAbsolutePath().toString());
                mf.put("latents_row", row);
                latentGrid(out, z, vae, "latent/latents-row-" + row, "--latents row " + row);
                walks.add(decoderWalk(out, vae, z, shown, "decoder (latents)", "decoded.png", "--latents row " + row + " decoded"));
            }
            ObjectNode w = mf.putObject("walks");
            walks.forEach(k -> w.set(k.name, k.stats));
            List<StageOverview.Group> groups = walks.stream().map(k -> new StageOverview.Group(k.name, k.cells)).toList();
            StageOverview.render(new StageOverview.Names("VAE walkthrough", "vae-walkthrough", "stages"), groups, NORM,
                    colors.reducedColorizer(NORM), AutoScope.TILE).write(out, "walkthrough.png");
            out.finish();
        }
        System.out.println("wrote " + out.dir());
        return 0;
    }

    /** The encoder's walk of the image; writes the posterior's pictures; returns the latent z to decode. */
    private NDArray encoderWalk(OutputDirectory out, AutoencoderKL vae, NDManager m, RgbImage input, List<Integer> shown,
                                List<StageWriter> walks) {
        out.write("input.png", o -> input.writePng(o, Map.of()), "the image as encoded, " + input.width() + "×" + input.height());
        NDArray pixels = ImageProcessor.toTensor(m, List.of(input));                    // [1, 3, H, W] in [−1, 1]
        StageWriter enc = new StageWriter(out, "encoder", shown);
        enc.cells.add(new StageOverview.Cell.Image(thumbnail(input), List.of("input", input.width() + "×" + input.height())));
        DiagonalGaussian posterior = new VaeWalkthrough(vae).encode(pixels, enc);
        walks.add(enc);
        ObjectNode mf = out.manifest();
        mf.put("image", image.toAbsolutePath().toString());
        mf.put("posterior", sample ? "a draw: mean + std·ε, ε = torch.Generator('cpu').manual_seed(" + seed + ").randn" : "the mean");
        NDArray z = sample ? posterior.sample(new TorchGenerator(seed).randn(m, posterior.mean().getShape())) : posterior.mean();
        grid(out, "latent/mean", posterior.mean(), "posterior mean", Pictures.signedColors(maxAbs(posterior.mean())));
        grid(out, "latent/std", posterior.std(), "posterior std = exp(½·log-variance)", Colorizer.viridis());
        latentGrid(out, z, vae, "latent/latent", sample ? "a draw of the posterior" : "the posterior's mean");
        return z;
    }

    /** The decoder's walk of z; writes the decoded image as {@code file}. */
    private StageWriter decoderWalk(OutputDirectory out, AutoencoderKL vae, NDArray z, List<Integer> shown, String name,
                                    String file, String description) {
        StageWriter dec = new StageWriter(out, name.startsWith("decoder (image)") ? "decoder" : "decoder-latents", shown);
        dec.name = name;
        NDArray decoded = new VaeWalkthrough(vae).decode(z, dec);
        RgbImage img = ImageProcessor.toImages(decoded).getFirst();
        out.write(file, o -> img.writePng(o, Map.of()), description);
        dec.cells.add(new StageOverview.Cell.Image(thumbnail(img), List.of(file.replace(".png", ""),
                img.width() + "×" + img.height())));
        return dec;
    }

    /**
     * Draws each stage as it comes (a grid of the chosen channels, its L2-norm map), keeps the norm map for the
     * overview and the stage's statistics for the manifest, and prints a line of them.
     */
    private final class StageWriter implements VaeWalkthrough.Sink {
        private final OutputDirectory out;
        private final String folder;
        private final List<Integer> shown;
        private String name;
        private final List<StageOverview.Cell> cells = new ArrayList<>();
        private final ArrayNode stats = JsonNodeFactory.instance.arrayNode();

        StageWriter(OutputDirectory out, String folder, List<Integer> shown) {
            this.out = out;
            this.folder = folder;
            this.shown = shown;
            this.name = folder;
            System.out.printf("%s%n%-3s  %-34s  %-22s  %10s  %10s  %10s  %10s%n", folder, "#", "stage", "shape", "min", "max",
                    "mean", "std");
        }

        @Override
        public void accept(VaeWalkthrough.Stage s) {
            long[] sh = s.shape();
            FeatureMap map = new FeatureMap(s.values(), (int) sh[1], (int) sh[2], (int) sh[3]);
            MapLabel label = MapLabel.of(s.point());
            String stem = folder + "/" + String.format(Locale.ROOT, "%02d-", s.index() + 1) + s.point().replaceFirst("^(en|de)coder\\.", "");
            List<Integer> channels = shown.stream().filter(c -> c < map.channels()).toList();
            Picture grid = FeatureGrid.render(map, label, new GridOptions(colors.colorizer(), channels, colors.scope(),
                    GridOptions.DEFAULT_MAX_PAGE_SIDE)).getFirst();
            grid.write(out, stem + "-grid.png");
            ReducedMap.render(map, label, NORM, colors.reducedColorizer(NORM)).write(out, stem + "-" + NORM.cliName() + ".png");
            cells.add(StageOverview.Cell.Reduced.of(new dev.unetlens.viz.FeatureFrame(label, map), NORM));
            double[] st = statistics(s.values());
            ObjectNode e = stats.addObject();
            e.put("stage", s.point());
            ArrayNode shape = e.putArray("shape");
            for (long d : sh) {
                shape.add(d);
            }
            e.put("min", st[0]).put("max", st[1]).put("mean", st[2]).put("std", st[3]);
            System.out.printf(Locale.ROOT, "%-3d  %-34s  %-22s  %10.4g  %10.4g  %10.4g  %10.4g%n", s.index() + 1, s.point(),
                    java.util.Arrays.toString(sh), st[0], st[1], st[2], st[3]);
        }
    }

    /** min, max, mean, std (population) of the values, in double. */
    private static double[] statistics(float[] v) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        double sq = 0;
        for (float x : v) {
            min = Math.min(min, x);
            max = Math.max(max, x);
            sum += x;
            sq += (double) x * x;
        }
        double mean = sum / v.length;
        return new double[] {min, max, mean, Math.sqrt(Math.max(0, sq / v.length - mean * mean))};
    }

    /** The latent as the U-Net sees it (scaling factor applied), its channels in Red/Blue on a symmetric scale. */
    private static void latentGrid(OutputDirectory out, NDArray z, AutoencoderKL vae, String name, String what) {
        NDArray scaled = z.mul((float) vae.scalingFactor());
        grid(out, name, scaled, "latent · " + what + " · ×" + vae.scalingFactor() + " as the U-Net sees it",
                Pictures.signedColors(maxAbs(scaled)));
    }

    /** Every channel of x [1, C, h, w] as a grid (first page). */
    private static void grid(OutputDirectory out, String name, NDArray x, String title, Colorizer colorizer) {
        long[] s = x.getShape().getShape();
        FeatureMap map = new FeatureMap(x.toFloatArray(), (int) s[1], (int) s[2], (int) s[3]);
        FeatureGrid.render(map, MapLabel.of(title), new GridOptions(colorizer, List.of(), AutoScope.SHARED,
                GridOptions.DEFAULT_MAX_PAGE_SIDE)).getFirst().write(out, name + "-grid.png");
    }

    private static double maxAbs(NDArray x) {
        return x.abs().max().getFloat();
    }

    /** An image for the overview, its longer side brought to 128 px. */
    private static java.awt.image.BufferedImage thumbnail(RgbImage img) {
        double s = 128.0 / Math.max(img.width(), img.height());
        if (s >= 1) {
            int k = (int) Math.floor(s);
            return dev.unetlens.viz.render.Layout.scaled(img.toBufferedImage(), img.width() * k, img.height() * k);
        }
        return Images.resize(img, Math.max(1, (int) Math.round(img.width() * s)), Math.max(1, (int) Math.round(img.height() * s)))
                .toBufferedImage();
    }

    /** The image, its sides cropped (centred) to multiples of 8, as generate's img2img reads it. */
    private static RgbImage readImage(Path file) {
        RgbImage img = RgbImage.read(file);
        int[] wh = Images.floorToMultiple(img, 8);
        if (wh[0] < 8 || wh[1] < 8) {
            throw new UnetlensException(file + ": the image is " + img.width() + "×" + img.height() + "; the VAE needs at"
                    + " least 8×8 pixels");
        }
        return Images.centerCrop(img, wh[0], wh[1]);
    }

    /** Row {@link #row} of latents [B, L, h, w] as [1, L, h, w]; one line naming the problem otherwise. */
    private NDArray latentRow(NDManager m, NpyArray a, int channels) {
        long[] s = a.shape();
        if (!a.dtype().isFloat()) {
            throw new UnetlensException(latents + ": --latents must hold floating-point values, this file has "
                    + a.dtype().name().toLowerCase(Locale.ROOT));
        }
        if (s.length != 4 || s[1] != channels) {
            throw new UnetlensException(latents + ": latents of shape " + java.util.Arrays.toString(s) + " do not fit this"
                    + " VAE, which decodes [B, " + channels + ", h, w]");
        }
        if (row < 0 || row >= s[0]) {
            throw new UnetlensException("--row " + row + " is outside the " + s[0] + " rows of " + latents + " (0–" + (s[0] - 1) + ")");
        }
        int per = (int) (s[1] * s[2] * s[3]);
        float[] v = java.util.Arrays.copyOfRange(a.toFloats(), row * per, (row + 1) * per);
        return m.create(v, new Shape(1, s[1], s[2], s[3]));
    }
}
