package dev.unetlens.extract;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.golden.Close;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.hook.ActivationCache;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.Capture;
import dev.unetlens.hook.HookScope;
import dev.unetlens.hook.Selector;
import dev.unetlens.io.RgbImage;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.unet.UNetInput;
import dev.unetlens.pipeline.ImageProcessor;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.rng.TorchGenerator;
import dev.unetlens.schedule.NoiseSchedule;
import dev.unetlens.schedule.SchedulerConfig;
import dev.unetlens.schedule.SchedulerKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Extraction: what the capture API returns equals the golden hook tensors; the image path (sdhelper's img2repr)
 * equals the composition of its golden-checked parts; results do not depend on the batch size.
 */
class ExtractionTest {
    private static StableDiffusion sd;

    @BeforeAll
    static void load() {
        sd = StableDiffusion.load(Golden.get().path("models/" + Golden.get().models().getFirst()), StableDiffusion.Options.DEFAULT);
    }

    @AfterAll
    static void close() {
        sd.close();
    }

    /** Every golden hook of every model, captured through a selection of its WebUI name or module path. */
    @TestFactory
    Stream<DynamicTest> capturedOutputsEqualTheGoldenHooks() {
        Golden g = Golden.get();
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : g.modelsWith("unet")) {
            tests.add(DynamicTest.dynamicTest(model, () -> {
                try (StableDiffusion m = StableDiffusion.load(g.path("models/" + model), StableDiffusion.Options.DEFAULT);
                     NDManager nd = NDManager.newBaseManager()) {
                    String dir = "cases/" + model + "/unet/t500/";
                    List<String> hooks = GoldenModels.caseFiles(model, "unet/t500/hooks").stream()
                            .map(f -> f.substring(f.lastIndexOf('/') + 1, f.length() - 4)).toList();
                    BlockNames names = BlockNames.of(m.unet().config());
                    // select the blocks by their WebUI names where they have one: the names must reach the same tensors
                    List<String> spelled = hooks.stream().map(h -> names.blockName(h).orElse(h)).toList();
                    List<String> points = Selector.resolve(String.join(",", spelled), m.unet().hooks(), names);
                    assertThat(points).containsExactlyElementsOf(hooks);
                    try (HookScope scope = HookScope.open(m.unet().hooks())) {
                        ActivationCache cache = scope.capture(points, Capture.Rows.ALL);
                        UNetInput in = UNetInput.of(GoldenModels.load(nd, dir.replace("t500/", "") + "sample.npy"), 500,
                                GoldenModels.load(nd, dir.replace("t500/", "") + "encoder_hidden_states.npy"));
                        if (g.exists(dir.replace("t500/", "") + "text_embeds.npy")) {
                            in = in.withAddedCond(GoldenModels.load(nd, dir.replace("t500/", "") + "text_embeds.npy"),
                                    GoldenModels.load(nd, dir.replace("t500/", "") + "time_ids.npy"));
                        }
                        m.unet().forward(in);
                        for (String h : hooks) {
                            GoldenModels.assertClose(dir + "hooks/" + h + ".npy", cache.get(h), 1e-5, 1e-4);
                        }
                    }
                }
            }));
        }
        return tests.stream();
    }

    private static RgbImage testImage() {
        return dev.unetlens.golden.TestImages.gradient(128, 128);
    }

    /** img2repr = VAE posterior (sample with ε from manual_seed(seed+k)) → DDPM noise → U-Net, each golden-checked. */
    @Test
    void imagePathIsTheCompositionOfItsParts() {
        RgbImage img = testImage();
        List<String> points = List.of("down_blocks.1.attentions.0", "mid_block");
        long seed = 7;
        int t = 300;
        // batch size 1 so both sides run the same kernels: the composition must then be bit-identical
        ImageFeatures.Options o = new ImageFeatures.Options(points, t, 3, 1, seed, "a cat", ImageFeatures.Latent.SAMPLE,
                false, false);
        Map<String, Representation> got = new ImageFeatures(sd).collect(List.of(img), o).getFirst();
        NoiseSchedule schedule = SchedulerConfig.parse(sd.schedulerConfig(), SchedulerKind.DDIM, Map.of()).noise();
        try (NDManager m = NDManager.newBaseManager(); HookScope scope = HookScope.open(sd.unet().hooks())) {
            ActivationCache cache = scope.capture(points, Capture.Rows.ALL);
            var posterior = sd.vae().encode(ImageProcessor.toTensor(m, List.of(img)));
            var cond = sd.prompts().encode(m, List.of("a cat"), null, 0);
            for (int k = 0; k < 3; k++) {
                TorchGenerator gen = new TorchGenerator(seed + k);
                Shape s = posterior.mean().getShape();
                NDArray x0 = posterior.sample(gen.randn(m, s)).mul(sd.vae().scalingFactor());
                NDArray xt = schedule.addNoise(x0, gen.randn(m, s), t);
                UNetInput in = UNetInput.of(xt, t, cond.promptEmbeds());
                if (cond.pooled() != null) {   // SDXL: pooled embeds and the default time ids of the image size
                    float[] ids = dev.unetlens.pipeline.TimeIds.defaults(img.height(), img.width()).values();
                    in = in.withAddedCond(cond.pooled(), m.create(ids, new Shape(1, 6)));
                }
                sd.unet().forward(in);
            }
            for (String p : points) {
                NDArray expected = cache.get(p, -1);
                assertThat(got.get(p).shape()).containsExactly(expected.getShape().getShape());
                Close.assertClose(p, got.get(p).data(), expected.toFloatArray(), 0, 0);
            }
        }
    }

    /** Each noise sample has its own seeded noise, so batches of 1 and 8 give the same representations. */
    @Test
    void resultsDoNotDependOnTheBatchSize() {
        RgbImage img = testImage();
        List<String> names = sd.unet().hooks().points().stream().map(HookTable.PointInfo::name).toList();
        List<String> points = List.of(names.stream().filter(n -> n.startsWith("up_blocks.") && n.indexOf('.', 10) < 0)
                        .skip(1).findFirst().orElseThrow(),                    // the second up block, whole
                names.stream().filter(n -> n.endsWith("attn1:probs")).reduce((a, b) -> b).orElseThrow()); // the last self-attention's probabilities
        ImageFeatures f = new ImageFeatures(sd);
        var one = f.collect(List.of(img), new ImageFeatures.Options(points, 50, 8, 1, 3, "", ImageFeatures.Latent.SAMPLE, false, false)).getFirst();
        var eight = f.collect(List.of(img), new ImageFeatures.Options(points, 50, 8, 8, 3, "", ImageFeatures.Latent.SAMPLE, false, false)).getFirst();
        for (String p : points) {
            assertThat(one.get(p).shape()).containsExactly(eight.get(p).shape());
            Close.assertClose(p + " batch 1 vs 8", one.get(p).data(), eight.get(p).data(), 1e-5, 1e-4);
            // and the samples differ from each other (each has its own noise)
            assertThat(one.get(p).at(0).data()).isNotEqualTo(one.get(p).at(1).data());
        }
    }

    /**
     * Streaming over several timesteps gives, at each timestep, exactly what a run at that timestep alone gives, and
     * says when each image's samples at a timestep are complete (after its last batch, images in order).
     */
    @Test
    void streamingOverTimestepsEqualsOneRunPerTimestep() {
        RgbImage img = testImage();
        ImageFeatures f = new ImageFeatures(sd);
        ImageFeatures.Options o = new ImageFeatures.Options(List.of("mid_block"), 0, 3, 2, 7, "", ImageFeatures.Latent.SAMPLE, false, false);
        Map<Integer, List<float[]>> streamed = new java.util.TreeMap<>();
        List<String> events = new ArrayList<>();
        f.stream(List.of(img, img), o, List.of(500, 20), new ImageFeatures.BatchSink() {
            public void accept(ImageFeatures.Batch b) {
                events.add("batch " + b.image() + " t" + b.timestep() + " from " + b.first());
                if (b.image() == 1) {
                    streamed.computeIfAbsent(b.timestep(), k -> new ArrayList<>()).add(b.value().toFloatArray());
                }
            }

            public void samplesDone(int image, int timestep) {
                events.add("done " + image + " t" + timestep);
            }
        }, dev.unetlens.pipeline.Progress.NONE);
        assertThat(events).containsExactly("batch 0 t500 from 0", "batch 0 t500 from 2", "done 0 t500",
                "batch 0 t20 from 0", "batch 0 t20 from 2", "done 0 t20",
                "batch 1 t500 from 0", "batch 1 t500 from 2", "done 1 t500",
                "batch 1 t20 from 0", "batch 1 t20 from 2", "done 1 t20");
        for (int t : List.of(20, 500)) {
            float[] alone = f.collect(List.of(img), o.atTimestep(t)).getFirst().get("mid_block").data();
            List<float[]> parts = streamed.get(t);
            float[] joined = new float[alone.length];
            System.arraycopy(parts.get(0), 0, joined, 0, parts.get(0).length);
            System.arraycopy(parts.get(1), 0, joined, parts.get(0).length, parts.get(1).length);
            assertThat(joined).as("t = " + t).containsExactly(alone);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> f.stream(List.of(img), o, List.of(1000),
                b -> { }, dev.unetlens.pipeline.Progress.NONE)).hasMessageContaining("[0, 999], got 1000");
    }

    @Test
    void spatialMeanAndTheMeanLatent() {
        RgbImage img = testImage();
        ImageFeatures f = new ImageFeatures(sd);
        var full = f.collect(List.of(img), new ImageFeatures.Options(List.of("mid_block"), 10, 2, 2, 1, "", ImageFeatures.Latent.MEAN, false, false)).getFirst();
        var avg = f.collect(List.of(img), new ImageFeatures.Options(List.of("mid_block"), 10, 2, 2, 1, "", ImageFeatures.Latent.MEAN, false, true)).getFirst();
        Representation expected = full.get("mid_block").spatialMean();
        assertThat(avg.get("mid_block").shape()).containsExactly(expected.shape());
        Close.assertClose("spatial mean", avg.get("mid_block").data(), expected.data(), 1e-6, 1e-5);
    }

    /** A generation's captures as a representation over steps: (steps, C, H, W) of one row. */
    @Test
    void capturesOverStepsFormARepresentation() {
        try (HookScope scope = HookScope.open(sd.unet().hooks())) {
            ActivationCache cache = scope.capture(List.of("mid_block"), Capture.Rows.COND);
            new dev.unetlens.pipeline.Pipeline(sd).generate(dev.unetlens.pipeline.GenerationRequest.builder()
                    .prompt("a cat").steps(3).guidance(7.5).seed(1).size(64, 64)
                    .sampler(new dev.unetlens.pipeline.GenerationRequest.Sampler(SchedulerKind.DDIM, false, null, 0)).build());
            Representation r = Representation.fromSteps(cache, "mid_block", 0);
            long[] one = cache.get("mid_block", 0).getShape().getShape();
            assertThat(r.shape()).containsExactly(3, one[1], one[2], one[3]);
            assertThat(r.at(2).data()).containsExactly(cache.get("mid_block", 2).toFloatArray());
        }
    }
}
