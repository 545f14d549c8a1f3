package dev.unetlens.intervene;

import dev.unetlens.hook.Capture;
import dev.unetlens.hook.HookScope;
import dev.unetlens.model.HookTable;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.schedule.SchedulerKind;
import dev.unetlens.synth.SyntheticModel;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The bundled tiny SD 1.5-structured model written into a test's folder, and small fast requests for it. */
final class Tiny {
    static final long MODEL_SEED = 20241;

    private Tiny() {
    }

    /** Writes the bundled model into {@code dir} and loads it. */
    static StableDiffusion load(Path dir) {
        Path model = dir.resolve("tiny-sd15");
        SyntheticModel.TINY_SD15.write(model, MODEL_SEED);
        return StableDiffusion.load(model, StableDiffusion.Options.DEFAULT);
    }

    /** 64×64 (an 8×8 latent: levels 8, 4, 2, 1), 3 DDIM steps, CFG 7.5, seed 7. */
    static GenerationRequest.Builder request(String prompt) {
        return GenerationRequest.builder().prompt(prompt).size(64, 64).steps(3).guidance(7.5).seed(7)
                .sampler(new GenerationRequest.Sampler(SchedulerKind.DDIM, false, null, 0));
    }

    /** Every hook point of the U-Net but the prediction root. */
    static List<String> allPoints(StableDiffusion sd) {
        return sd.unet().hooks().points().stream().map(HookTable.PointInfo::name).filter(n -> !n.isEmpty()).toList();
    }

    /** Records, in firing order, copies of every point's value (all rows) at step {@code step} (0-based). */
    static final class Firing {
        final Map<String, float[]> values = new LinkedHashMap<>();

        void install(HookScope scope, List<String> points, int step) {
            scope.capture(points, Capture.Rows.ALL, c -> {
                if (c.step() == step) {
                    values.put(c.point(), c.value().toFloatArray());
                }
            });
        }

        List<String> order() {
            return List.copyOf(values.keySet());
        }
    }
}
