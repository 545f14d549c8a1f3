package dev.unetlens.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.golden.Capture;
import dev.unetlens.golden.Close;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.RgbImage;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.rng.TorchGenerator;
import dev.unetlens.schedule.SchedulerKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whole txt2img / img2img runs against {@code cases/<model>/pipeline/<run>/} (README §7, §14), driven by each run's
 * {@code meta.json}: the schedule, the latents after every step, the final latents, the decoded image (float and
 * uint8, and the PNG), the random draws (seeded runs: our torch generator must produce the recorded ε, noise and
 * step noise in diffusers' order; unseeded ones replay the recorded draws in that order), and for SDXL the U-Net's
 * inputs and outputs at every step and the conditioning it received.
 * Tolerances (README §9): latents rtol 1e-4 of the max magnitude; float images atol 1e-4; uint8 ±1.
 */
class PipelineGoldenTest {
    static final double LATENT_REL = 1e-4;
    static final double IMAGE_ATOL = 1e-4;
    private static final Map<String, StableDiffusion> MODELS = new HashMap<>();

    @AfterAll
    static void close() {
        MODELS.values().forEach(StableDiffusion::close);
    }

    static StableDiffusion model(String name) {
        return MODELS.computeIfAbsent(name, n -> StableDiffusion.load(Golden.get().path("models/" + n), StableDiffusion.Options.DEFAULT));
    }

    @TestFactory
    Stream<DynamicNode> pipelines() {
        Golden g = Golden.get();
        return g.modelsWith("pipeline").stream().map(model -> {
            List<DynamicNode> tests = new ArrayList<>();
            Path dir = g.path("cases/" + model + "/pipeline");
            try (Stream<Path> runs = Files.list(dir)) {
                for (Path run : runs.filter(p -> Files.isRegularFile(p.resolve("meta.json"))).sorted().toList()) {
                    String rel = "cases/" + model + "/pipeline/" + run.getFileName() + "/";
                    tests.add(DynamicTest.dynamicTest(run.getFileName().toString(), () -> checkRun(model, rel)));
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            String root = "cases/" + model + "/pipeline/";
            if (g.exists(root + "prompt_embeds.npy")) {
                tests.add(DynamicTest.dynamicTest("prompt embeds", () -> checkPromptEmbeds(model, root)));
            }
            tests.add(DynamicTest.dynamicTest("every pipeline fixture used",
                    () -> assertThat(g.unread("pipeline", model)).isEmpty()));
            return DynamicContainer.dynamicContainer(model, tests);
        });
    }

    /** The request a run's meta.json describes. */
    static GenerationRequest request(JsonNode meta, String rel) {
        Golden g = Golden.get();
        GenerationRequest.Builder b = GenerationRequest.builder()
                .prompt(meta.get("prompt").asText())
                .negativePrompt(text(meta, "negative_prompt"))
                .prompt2(text(meta, "prompt_2"))
                .steps(meta.get("num_inference_steps").asInt())
                .guidance(meta.get("guidance_scale").asDouble())
                .sampler(new GenerationRequest.Sampler(SchedulerKind.fromDiffusersClass(meta.get("scheduler").asText()),
                        false, spacing(meta), meta.path("eta").asDouble(0)));
        if (meta.has("original_size")) {
            b.timeIds(timeIds(meta, "original_size", "crops_coords_top_left", "target_size"));
        }
        if (meta.has("negative_original_size")) {
            b.negativeTimeIds(timeIds(meta, "negative_original_size", "crops_coords_top_left", "negative_target_size"));
        }
        if (meta.has("strength")) {
            String input = meta.has("input_image") ? Path.of(rel, meta.get("input_image").asText()).normalize().toString()
                    : rel + "input.png";
            Path image = g.use(input.replace('\\', '/'));
            b.img2img(image, meta.get("strength").asDouble());
            int[] wh = Images.floorToMultiple(RgbImage.read(image), 8);         // as the CLI: the input's size
            b.size(meta.path("height").asInt(wh[1]), meta.path("width").asInt(wh[0]));
        } else {
            b.size(meta.get("height").asInt(), meta.get("width").asInt());
            b.latents(g.use(rel.substring(0, rel.lastIndexOf('/', rel.length() - 2) + 1) + "init_latents.npy"));
        }
        return b.build();
    }


    private static dev.unetlens.schedule.SchedulerConfig.Spacing spacing(JsonNode meta) {
        JsonNode sc = meta.path("scheduler_config").path("timestep_spacing");
        return sc.isTextual() ? dev.unetlens.schedule.SchedulerConfig.Spacing.valueOf(sc.asText().toUpperCase()) : null;
    }

    private static String text(JsonNode meta, String key) {
        JsonNode n = meta.get(key);
        return n == null || n.isNull() ? null : n.asText();
    }

    private static TimeIds timeIds(JsonNode meta, String orig, String crop, String target) {
        JsonNode o = meta.get(orig);
        JsonNode c = meta.get(crop);
        JsonNode t = meta.get(target);
        return new TimeIds(o.get(0).asDouble(), o.get(1).asDouble(), c.get(0).asDouble(), c.get(1).asDouble(),
                t.get(0).asDouble(), t.get(1).asDouble());
    }

    private static void checkRun(String model, String rel) {
        Golden g = Golden.get();
        StableDiffusion sd = model(model);
        JsonNode meta = g.json(rel + "meta.json");
        GenerationRequest r = request(meta, rel);
        JsonNode seed = meta.get("generator_seed");
        List<NpyArray> recorded = new ArrayList<>();
        if (seed == null || seed.isNull()) {
            for (String f : List.of("posterior_eps.npy", "noise.npy")) {
                if (g.exists(rel + f)) {
                    recorded.add(g.npy(rel + f));
                }
            }
        }
        RecordingNoise noise = new RecordingNoise(recorded,
                new TorchGenerator(seed == null || seed.isNull() ? 0 : seed.asLong()));

        boolean xl = sd.family() == ModelFamily.SDXL;
        List<float[]> stepLatents = new ArrayList<>();
        GenerationResult result;
        List<NDArray> sampleIn = new ArrayList<>();
        List<NDArray> unetOut = new ArrayList<>();
        try (NDManager keep = NDManager.newBaseManager();
             Capture cap = xl ? new Capture(sd.unet().hooks(), List.of("conv_out")) : null) {
            dev.unetlens.hook.HookScope scope = xl ? dev.unetlens.hook.HookScope.open(sd.unet().hooks()) : null;
            if (scope != null) {
                scope.add("conv_in", (v, c) -> {
                    sampleIn.add(keepCopy(c.input(), keep));
                    return v;
                });
                scope.add("conv_out", (v, c) -> {
                    unetOut.add(keepCopy(v, keep));
                    return v;
                });
            }
            try {
                result = new Pipeline(sd).generate(r, noise,
                        (s, n, t, latents) -> stepLatents.add(latents.toFloatArray()), Progress.NONE);
            } finally {
                if (scope != null) {
                    scope.close();
                }
            }
            if (xl) {
                compareSteps(rel + "unet_sample_in.npy", sampleIn, LATENT_REL);
                compareSteps(rel + "unet_out.npy", unetOut, LATENT_REL);
            }
        }
        // schedule
        NpyArray ts = g.npy(rel + "timesteps.npy");
        assertThat(result.timesteps()).as("executed timesteps").hasSize((int) ts.size());
        double[] expectedT = ts.toDoubles();
        for (int i = 0; i < expectedT.length; i++) {
            assertThat((float) result.timesteps()[i]).as("timestep " + i).isEqualTo((float) expectedT[i]);
        }
        if (g.exists(rel + "sigmas.npy")) {
            g.npy(rel + "sigmas.npy");   // checked against the scheduler in the schedule tests
        }
        // random draws: seeded runs must produce the recorded tensors, in order
        int d = 0;
        for (String f : List.of("posterior_eps.npy", "noise.npy")) {
            if (g.exists(rel + f)) {
                Close.assertClose(rel + f + " (draw " + d + ")", noise.draws.get(d), g.npy(rel + f).toFloats(), 0, 0);
                d++;
            }
        }
        if (g.exists(rel + "step_noise.npy")) {
            NpyArray sn = g.npy(rel + "step_noise.npy");
            float[] all = sn.toFloats();
            int per = all.length / (int) sn.shape()[0];
            for (int i = 0; i < sn.shape()[0]; i++) {
                float[] exp = java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per);
                Close.assertClose(rel + "step_noise.npy[" + i + "]", noise.draws.get(d + i), exp, 0, 0);
            }
        }
        // latents per step and final
        NpyArray steps = g.npy(rel + "step_latents.npy");
        assertThat(stepLatents).as("steps run").hasSize((int) steps.shape()[0]);
        float[] flat = new float[stepLatents.size() * stepLatents.getFirst().length];
        for (int i = 0; i < stepLatents.size(); i++) {
            System.arraycopy(stepLatents.get(i), 0, flat, i * stepLatents.getFirst().length, stepLatents.getFirst().length);
        }
        Close.assertCloseToMagnitude(rel + "step_latents.npy", steps.shape(), flat, steps, LATENT_REL);
        if (g.exists(rel + "final_latents.npy")) {
            NpyArray fl = g.npy(rel + "final_latents.npy");
            Close.assertCloseToMagnitude(rel + "final_latents.npy", result.finalLatents().shape(), result.finalLatents().toFloats(), fl, LATENT_REL);
        }
        if (g.exists(rel + "decoded_raw.npy")) {
            Close.assertClose(rel + "decoded_raw.npy", result.decoded().shape(), result.decoded().toFloats(),
                    g.npy(rel + "decoded_raw.npy"), IMAGE_ATOL, 0);
        }
        checkImages(rel, result);
        if (xl) {
            checkConditioning(sd, r, rel);
        }
        if (g.exists(rel + "input_image_uint8.npy")) {
            checkInput(rel);
        }
    }

    private static NDArray keepCopy(NDArray x, NDManager keep) {
        NDArray c = ForwardScope.detach(x.duplicate());
        c.attach(keep);
        return c;
    }

    private static void compareSteps(String file, List<NDArray> perStep, double rel) {
        NpyArray expected = Golden.get().npy(file);
        NDArray stacked = NDArrays.stack(new NDList(perStep.toArray(NDArray[]::new)), 0);
        Close.assertCloseToMagnitude(file, stacked.getShape().getShape(), stacked.toFloatArray(), expected, rel);
    }

    private static void checkImages(String rel, GenerationResult result) {
        Golden g = Golden.get();
        RgbImage img = result.images().getFirst();
        int h = img.height();
        int w = img.width();
        float[] u8 = new float[h * w * 3];
        for (int i = 0; i < u8.length; i++) {
            u8[i] = img.rgb()[i] & 0xff;
        }
        Close.assertClose(rel + "image_uint8.npy", new long[] {1, h, w, 3}, u8, g.npy(rel + "image_uint8.npy"), 1, 0);
        if (g.exists(rel + "image_float.npy")) {
            float[] dec = result.decoded().toFloats();
            float[] nhwc = new float[dec.length];
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < h * w; i++) {
                    nhwc[i * 3 + c] = Math.min(1f, Math.max(0f, dec[c * h * w + i] / 2f + 0.5f));
                }
            }
            Close.assertClose(rel + "image_float.npy", new long[] {1, h, w, 3}, nhwc, g.npy(rel + "image_float.npy"), IMAGE_ATOL, 0);
        }
        RgbImage png = RgbImage.read(g.use(rel + "image.png"));
        float[] pngU8 = new float[png.rgb().length];
        for (int i = 0; i < pngU8.length; i++) {
            pngU8[i] = png.rgb()[i] & 0xff;
        }
        Close.assertClose(rel + "image.png", u8, pngU8, 1, 0);
    }

    private static void checkConditioning(StableDiffusion sd, GenerationRequest r, String rel) {
        Pipeline p = new Pipeline(sd);
        try (NDManager m = NDManager.newBaseManager()) {
            Conditioning c = p.conditioning(m, r);
            GoldenModels.assertClose(rel + "cond_encoder_hidden_states.npy", c.promptEmbeds(), 1e-5, 1e-4);
            GoldenModels.assertClose(rel + "cond_text_embeds.npy", c.pooled(), 1e-5, 1e-4);
            NDArray ids = p.timeIds(m, r);
            Close.assertClose(rel + "cond_time_ids.npy", ids.getShape().getShape(), ids.toFloatArray(),
                    Golden.get().npy(rel + "cond_time_ids.npy"), 0, 0);
        }
    }

    private static void checkInput(String rel) {
        Golden g = Golden.get();
        RgbImage in = RgbImage.read(g.use(rel + "input.png"));
        float[] u8 = new float[in.rgb().length];
        for (int i = 0; i < u8.length; i++) {
            u8[i] = in.rgb()[i] & 0xff;
        }
        Close.assertClose(rel + "input_image_uint8.npy", new long[] {in.height(), in.width(), 3}, u8,
                g.npy(rel + "input_image_uint8.npy"), 0, 0);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = ImageProcessor.toTensor(m, List.of(in));
            Close.assertClose(rel + "input_preprocessed.npy", x.getShape().getShape(), x.toFloatArray(),
                    g.npy(rel + "input_preprocessed.npy"), 0, 0);
        }
    }

    private static void checkPromptEmbeds(String model, String root) {
        StableDiffusion sd = model(model);
        try (NDManager m = NDManager.newBaseManager()) {
            JsonNode meta = Golden.get().json(root + "txt2img_ddim/meta.json");
            Conditioning pos = sd.prompts().encode(m, List.of(meta.get("prompt").asText()), null, 0);
            GoldenModels.assertClose(root + "prompt_embeds.npy", pos.promptEmbeds(), 1e-5, 1e-4);
            Conditioning neg = sd.prompts().negative(m, List.of(meta.get("negative_prompt").asText()), null, pos, false);
            GoldenModels.assertClose(root + "negative_prompt_embeds.npy", neg.promptEmbeds(), 1e-5, 1e-4);
        }
    }
}
