package dev.unetlens.cli.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;

import dev.unetlens.rng.TorchGenerator;
import dev.unetlens.synth.SyntheticModel.Component;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A whole txt2img generation as {@code generate} runs it: {@code size}² pixels, {@code steps} steps of the model's
 * scheduler, guidance 7.5 with the empty negative prompt (the CFG batch of 2), then the VAE decode. One run (a
 * warm-up would double a many-minute case); the phases are timed separately, and set beside what the reference's
 * per-component figures add up to: two CLIP passes, {@code steps} U-Net batch-2 forwards and one decode.
 */
record Txt2ImgCase(int size, int steps) implements BenchCase {
    @Override
    public String name() {
        return "txt2img_" + size + "_" + steps;
    }

    @Override
    public String describe() {
        return "txt2img " + size + "×" + size + ", " + steps + " steps, guidance 7.5 (CFG batch 2), VAE decode";
    }

    @Override
    public Set<Component> components() {
        return EnumSet.allOf(Component.class);
    }

    @Override
    public Workload open(DiffusersFolder model, NDManager manager) {
        return SelfTimedWorkload.of(model, (sd, progress) -> Txt2ImgCase.this.measure(sd, progress));
    }

    /**
     * What the reference's figures add up to for this generation: two CLIP passes, one U-Net batch-2 forward per
     * evaluation, one decode (time only: the reference measured each component in its own process).
     */
    @Override
    public JsonNode reference(JsonNode file, ObjectNode result) {
        double clip = BenchCase.super.reference(file, null, "clip_l_77").path("median_s").asDouble(Double.NaN);
        double unet = BenchCase.super.reference(file, null, "unet_" + size / 8 + "_b2").path("median_s").asDouble(Double.NaN);
        double vae = BenchCase.super.reference(file, null, "vae_decode_" + size / 8).path("median_s").asDouble(Double.NaN);
        double sum = 2 * clip + result.path("unet_evaluations").asInt() * unet + vae;
        if (Double.isNaN(sum)) {
            return null;
        }
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("median_s", sum);
        r.put("rule", "2 × clip_l_77 + unet_evaluations × unet_" + size / 8 + "_b2 + vae_decode_" + size / 8);
        return r;
    }

    private ObjectNode measure(StableDiffusion sd, Consumer<String> progress) {
        GenerationRequest request = GenerationRequest.builder().prompt(ClipCase.PROMPT).negativePrompt("").steps(steps)
                .guidance(7.5).seed(INPUT_SEED).size(size, size).build();
        Pipeline pipeline = new Pipeline(sd);
        long t0 = System.nanoTime();
        GenerationResult result = pipeline.generate(request, new TorchGenerator(request.seed()), Pipeline.StepCallback.NONE, new Progress() {
            public void start(String phase, long total) {
                progress.accept(phase + " …");
            }

            public void advance(long done, String detail) {
                progress.accept(String.format(Locale.ROOT, "step %d: %s", done, detail));
            }

            public void finish() {
            }
        });
        double wall = (System.nanoTime() - t0) / 1e9;
        GenerationResult.Timings s = result.seconds();
        int evaluations = result.steps().evaluations();
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("median_s", wall);
        r.put("median_is", "seconds of one whole generation (one run)");
        r.put("text_s", s.text());
        r.put("denoise_s", s.denoise());
        r.put("decode_s", s.decode());
        r.put("unet_evaluations", evaluations);
        r.put("denoise_s_per_evaluation", s.denoise() / evaluations);
        r.put("scheduler", sd.schedulerConfig().node().path("_class_name").asText(""));
        r.put("summary", String.format(Locale.ROOT, "%.1f s: text %.2f s, denoise %.1f s (%d U-Net batch-2 evaluations,"
                + " %.2f s each), decode %.1f s", wall, s.text(), s.denoise(), evaluations, s.denoise() / evaluations, s.decode()));
        return r;
    }
}
