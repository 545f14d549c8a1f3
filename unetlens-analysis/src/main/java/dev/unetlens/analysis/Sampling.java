package dev.unetlens.analysis;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.extract.ImageFeatures;

import java.util.List;
import java.util.Locale;

/**
 * How representations are drawn for an analysis (sdhelper's {@code img2repr} over timesteps and draws): at each of
 * {@code timesteps}, {@code samples} noise draws per image, draw k from {@code manual_seed(seed + k)}, in U-Net batches
 * of {@code batchSize}, at the hook points {@code points} (canonical names).
 *
 * @param points    modules, canonical names
 * @param timesteps timesteps in [0, 999], in the order to report them
 * @param samples   noise draws per image and timestep
 * @param batchSize draws per U-Net forward (changes no result)
 * @param seed      draw k uses seed + k
 * @param prompt    text condition ("" by default)
 * @param latent    the VAE posterior's mean or a sample of it
 * @param unitRange pixels in [0, 1] as sdhelper feeds them (default [−1, 1] as the pipelines)
 */
public record Sampling(List<String> points, List<Integer> timesteps, int samples, int batchSize, long seed,
                       String prompt, ImageFeatures.Latent latent, boolean unitRange) {
    public Sampling {
        points = List.copyOf(points);
        timesteps = List.copyOf(timesteps);
        if (timesteps.isEmpty()) {
            throw new UnetlensException("name at least one timestep (--timestep or --timesteps)");
        }
        for (int t : timesteps) {
            if (t < 0 || t > 999) {
                throw new UnetlensException("timestep " + t + " is outside [0, 999]");
            }
        }
        if (prompt == null) {
            prompt = "";
        }
        options(points, timesteps.getFirst(), samples, batchSize, seed, prompt, latent, unitRange);   // checks the rest
    }

    /** The extraction options (at the first timestep; {@link ImageFeatures#stream} takes the list). */
    public ImageFeatures.Options options() {
        return options(points, timesteps.getFirst(), samples, batchSize, seed, prompt, latent, unitRange);
    }

    private static ImageFeatures.Options options(List<String> points, int t, int samples, int batchSize, long seed,
                                                 String prompt, ImageFeatures.Latent latent, boolean unitRange) {
        return new ImageFeatures.Options(points, t, samples, batchSize, seed, prompt, latent, unitRange, false);
    }

    /** The same sampling with other timesteps. */
    public Sampling withTimesteps(List<Integer> ts) {
        return new Sampling(points, ts, samples, batchSize, seed, prompt, latent, unitRange);
    }

    /** How it is recorded in results.json and the manifest. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.set("modules", o.arrayNode().addAll(points.stream().map(o::textNode).toList()));
        o.set("timesteps", o.arrayNode().addAll(timesteps.stream().map(o::numberNode).toList()));
        o.put("samples", samples);
        o.put("batch_size", batchSize);
        o.put("seed", seed);
        o.put("rng", "noise draw k: torch.Generator('cpu').manual_seed(seed + k); draws: posterior ε (if sampled), then noise ε");
        o.put("prompt", prompt);
        o.put("latent", latent.name().toLowerCase(Locale.ROOT));
        o.put("pixel_range", unitRange ? "[0, 1]" : "[-1, 1]");
        o.put("noise", "DDPM add_noise with the model's scheduler config: sqrt(acp[t])·x0 + sqrt(1−acp[t])·ε");
        return o;
    }
}
