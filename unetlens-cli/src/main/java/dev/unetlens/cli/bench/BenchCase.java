package dev.unetlens.cli.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.Precision;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.model.unet.UNetInput;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.pipeline.StableDiffusion;
import dev.unetlens.synth.SyntheticModel.Component;
import dev.unetlens.tokenizer.ClipTokenizer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One thing {@code unetlens bench} times: which model components it needs, and how to build a {@link Workload}
 * (the loaded component plus its inputs) from a model folder. The names are those of the reference file
 * ({@code torch-cpu-reference.json}) so that the two line up. A new kind of case (an {@code extract_*} case that
 * runs the U-Net with a capture) is one more entry in {@link #ALL}.
 */
public interface BenchCase {
    /** The SD 1.5 U-Net's timestep and text length in every U-Net case. */
    double TIMESTEP = 500;
    long TEXT_TOKENS = 77;
    /** Seed of the random inputs (their values do not change the work done). */
    long INPUT_SEED = 42;

    /** The case name ({@code unet_64_b1}). */
    String name();

    /** One line saying what is timed. */
    String describe();

    /** The model components the case loads. */
    Set<Component> components();

    /**
     * The reference file's figures for this case ({@code median_s}, {@code peak_rss_mb}), or null where it has none;
     * {@code result} is this case's result (a case may derive its reference from other cases' figures).
     */
    default JsonNode reference(JsonNode file, ObjectNode result) {
        return reference(file, result, name());
    }

    /** The reference file's entry named {@code name}, or a missing node. */
    default JsonNode reference(JsonNode file, ObjectNode result, String name) {
        for (JsonNode c : file.path("cases")) {
            if (name.equals(c.path("case").asText())) {
                return c;
            }
        }
        return name.equals(name()) ? null : com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    /** Loads the component(s) from {@code model} into {@code manager} and prepares the inputs. */
    Workload open(DiffusersFolder model, NDManager manager);

    /** A loaded component and its inputs. */
    interface Workload {
        /** Parameters of the loaded component. */
        long params();

        /** The component's hook table (for the hook-overhead and profile runs). */
        HookTable hooks();

        /** One evaluation; the caller wraps it in a scope and closes what it returns. */
        NDArray run();

        /** GFLOP of one evaluation (2 × multiply-adds), or NaN where the bench does not count them. */
        double gflop();
    }

    /** A loaded component: its parameter count, hook table, one evaluation and its GFLOP (NaN: not counted). */
    record Loaded(long params, HookTable hooks, java.util.function.Supplier<NDArray> evaluation, double gflop)
            implements Workload {
        @Override
        public NDArray run() {
            return evaluation.get();
        }
    }

    /**
     * A workload that times itself, for cases made of many evaluations of different kinds (extraction over noise
     * samples, a whole generation): {@link #measure} returns the case's result fields, {@code median_s} among them.
     */
    interface SelfTimedWorkload extends Workload, AutoCloseable {
        ObjectNode measure(Consumer<String> progress);

        @Override
        default HookTable hooks() {
            throw new UnsupportedOperationException("a self-timed case has no single hook table");
        }

        @Override
        default NDArray run() {
            throw new UnsupportedOperationException("a self-timed case is run by measure()");
        }

        @Override
        default double gflop() {
            return Double.NaN;
        }

        @Override
        void close();

        /** A whole pipeline loaded from {@code model}, measured by {@code measure}; closing it closes the pipeline. */
        static SelfTimedWorkload of(DiffusersFolder model,
                                    java.util.function.BiFunction<StableDiffusion, Consumer<String>, ObjectNode> measure) {
            StableDiffusion sd = StableDiffusion.load(model.root(), StableDiffusion.Options.DEFAULT);
            long params = unetParams(model);
            return new SelfTimedWorkload() {
                public long params() {
                    return params;
                }

                public ObjectNode measure(Consumer<String> progress) {
                    return measure.apply(sd, progress);
                }

                public void close() {
                    sd.close();
                }
            };
        }
    }

    /** Parameters of the model's U-Net. */
    static long unetParams(DiffusersFolder model) {
        try (TensorSource weights = model.openWeights("unet", null)) {
            return params(weights);
        }
    }

    /** A hook point as case names write it: {@code up_blocks.1} → {@code up1}, {@code mid_block} → {@code mid}. */
    static String shortPoint(String point) {
        return point.replace("_blocks.", "").replace("_block", "").replace('.', '_');
    }

    /** Every case, by name, in the order {@code bench} runs them. */
    Map<String, BenchCase> ALL = cases();

    private static Map<String, BenchCase> cases() {
        Map<String, BenchCase> m = new LinkedHashMap<>();
        for (BenchCase c : List.of(
                new UNetCase(64, 1), new UNetCase(64, 2), new UNetCase(32, 1), new UNetCase(32, 2),
                new VaeDecodeCase(64), new ClipCase(TEXT_TOKENS),
                new ExtractCase(512, "up_blocks.1", 50, 100, 4), new DispersionCase(512, "up_blocks.1", 50, 100, 200, 4),
                new Txt2ImgCase(512, 20), new PaperCase(512, 2, 50), new AttentionKernelsCase(5))) {
            m.put(c.name(), c);
        }
        if (dev.unetlens.model.Bf16.supported()) {                            // the opt-in bf16 path, where it runs
            for (BenchCase c : List.of(new UNetCase(64, 1, Precision.BF16), new UNetCase(64, 2, Precision.BF16))) {
                m.put(c.name(), c);
            }
        }
        for (BenchCase c : java.util.ServiceLoader.load(BenchCase.class)) {   // cases of other modules (unetlens-spark)
            m.put(c.name(), c);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    /** Parameters of a weight source: the sum of its tensors' element counts. */
    static long params(TensorSource source) {
        long n = 0;
        for (String name : source.names()) {
            n += source.info(name).orElseThrow().elementCount();
        }
        return n;
    }

    /**
     * The SD U-Net on a {@code latent × latent} latent, {@code batch} rows, timestep 500, text states [B, 77, 768]
     * (random normal inputs).
     */
    record UNetCase(int latent, int batch, Precision precision) implements BenchCase {
        /** The fp32 case. */
        UNetCase(int latent, int batch) {
            this(latent, batch, Precision.FP32);
        }

        /** The torch baselines' figures for the fp32 case of this shape (torch runs fp32): a bf16 case's ratios. */
        @Override
        public JsonNode reference(JsonNode file, ObjectNode result) {
            return reference(file, result, "unet_" + latent + "_b" + batch);
        }

        @Override
        public String name() {
            return "unet_" + latent + "_b" + batch + (precision == Precision.FP32 ? "" : "_" + precision.label());
        }

        @Override
        public String describe() {
            return "U-Net forward, latent [" + batch + ", 4, " + latent + ", " + latent + "], t = 500, text ["
                    + batch + ", 77, 768]" + (precision == Precision.FP32 ? "" : ", products in " + precision.label()
                    + " (weights cast at load)");
        }

        @Override
        public Set<Component> components() {
            return Set.of(Component.UNET);
        }

        @Override
        public Workload open(DiffusersFolder model, NDManager manager) {
            UNetConfig config = UNetConfig.read(model.config("unet"));
            UNet2DConditionModel unet;
            long params;
            double gflop;
            try (TensorSource weights = model.openWeights("unet", null)) {
                unet = UNet2DConditionModel.load(weights, config, manager, precision);
                params = BenchCase.params(weights);
                gflop = UNetFlops.count(unet, weights, batch, latent, latent, TEXT_TOKENS) / 1e9;
            }
            manager.getEngine().setRandomSeed((int) INPUT_SEED);
            NDArray sample = manager.randomNormal(new Shape(batch, config.inChannels(), latent, latent));
            NDArray context = manager.randomNormal(new Shape(batch, TEXT_TOKENS, 768));
            UNetInput input = UNetInput.of(sample, TIMESTEP, context);
            return new Loaded(params, unet.hooks(), () -> unet.forward(input), gflop);
        }
    }

    /** The SD VAE's decoder: latents [1, 4, latent, latent] → an image [1, 3, 8·latent, 8·latent]. */
    record VaeDecodeCase(int latent) implements BenchCase {
        @Override
        public String name() {
            return "vae_decode_" + latent;
        }

        @Override
        public String describe() {
            return "VAE decode, [1, 4, " + latent + ", " + latent + "] → [1, 3, " + 8 * latent + ", " + 8 * latent + "]";
        }

        @Override
        public Set<Component> components() {
            return Set.of(Component.VAE);
        }

        @Override
        public Workload open(DiffusersFolder model, NDManager manager) {
            VaeConfig config = VaeConfig.read(model.config("vae"));
            AutoencoderKL vae;
            long params;
            try (TensorSource weights = model.openWeights("vae", null)) {
                vae = AutoencoderKL.load(weights, config, manager);
                params = BenchCase.params(weights);
            }
            manager.getEngine().setRandomSeed((int) INPUT_SEED);
            NDArray z = manager.randomNormal(new Shape(1, config.latentChannels(), latent, latent));
            return new Loaded(params, vae.hooks(), () -> vae.decode(z), Double.NaN);
        }
    }

    /** CLIP-L (SD 1.x's text encoder) on one prompt padded to {@code tokens} ids. */
    record ClipCase(long tokens) implements BenchCase {
        static final String PROMPT = "a watercolor painting of a lighthouse at dusk, highly detailed";

        @Override
        public String name() {
            return "clip_l_" + tokens;
        }

        @Override
        public String describe() {
            return "CLIP-L text encoder, ids [1, " + tokens + "]";
        }

        @Override
        public Set<Component> components() {
            return Set.of(Component.TEXT_ENCODER);
        }

        @Override
        public Workload open(DiffusersFolder model, NDManager manager) {
            ClipTextConfig config = ClipTextConfig.read(model.config("text_encoder"));
            ClipTextModel clip;
            long params;
            try (TensorSource weights = model.openWeights("text_encoder", null)) {
                clip = ClipTextModel.load(weights, config, manager);
                params = BenchCase.params(weights);
            }
            long[] ids = ClipTokenizer.bundled("<|endoftext|>").encode(PROMPT).inputIds();
            if (ids.length != tokens) {
                throw new UnetlensException("the tokenizer pads to " + ids.length + " ids, the case wants " + tokens);
            }
            NDArray input = manager.create(ids, new Shape(1, tokens)).toType(DataType.INT64, false);
            return new Loaded(params, clip.hooks(), () -> clip.forward(input).lastHiddenState(), Double.NaN);
        }
    }
}
