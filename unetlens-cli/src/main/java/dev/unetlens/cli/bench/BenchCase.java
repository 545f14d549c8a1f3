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
import dev.unetlens.synth.SyntheticModel;
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

    /** The most time the case may take, as a multiple of the faster torch's (issue 24's targets). */
    default double timeTarget() {
        return 1.0;
    }

    /** The full-size model the case runs on (its folder: bench's {@code --model}, or {@code --model-xl} for SDXL). */
    default SyntheticModel model() {
        return SyntheticModel.SD15;
    }

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
                new Txt2ImgCase(512, 20), new PaperCase(512, 2, 50), new AttentionKernelsCase(5),
                new UNetCase(SyntheticModel.SDXL, 128, 1, Precision.FP32), new UNetCase(SyntheticModel.SDXL, 128, 2, Precision.FP32),
                new VaeDecodeCase(SyntheticModel.SDXL, 128))) {
            m.put(c.name(), c);
        }
        if (dev.unetlens.model.Bf16.supported()) {                            // the opt-in bf16 path, where it runs
            for (BenchCase c : List.of(new UNetCase(64, 1, Precision.BF16), new UNetCase(64, 2, Precision.BF16),
                    new UNetCase(SyntheticModel.SDXL, 128, 1, Precision.BF16), new UNetCase(SyntheticModel.SDXL, 128, 2, Precision.BF16))) {
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
     * A full-size U-Net (SD 1.5's or SDXL's) on a {@code latent × latent} latent, {@code batch} rows, timestep 500,
     * text states [B, 77, cross_attention_dim] and, for SDXL, pooled text embeds [B, 1280] and the micro-conditioning
     * of a square image of 8·latent pixels, uncropped (random normal inputs).
     */
    record UNetCase(SyntheticModel model, int latent, int batch, Precision precision) implements BenchCase {
        /** An SD 1.5 case. */
        UNetCase(int latent, int batch, Precision precision) {
            this(SyntheticModel.SD15, latent, batch, precision);
        }

        /** An fp32 SD 1.5 case. */
        UNetCase(int latent, int batch) {
            this(latent, batch, Precision.FP32);
        }

        @Override
        public double timeTarget() {
            return BaselineRatios.UNET_TARGET;
        }

        private String shape() {
            return "unet_" + BenchModel.caseTag(model) + latent + "_b" + batch;
        }

        /** The torch baselines' figures for the fp32 case of this shape (torch runs fp32): a bf16 case's ratios. */
        @Override
        public JsonNode reference(JsonNode file, ObjectNode result) {
            return reference(file, result, shape());
        }

        @Override
        public String name() {
            return shape() + (precision == Precision.FP32 ? "" : "_" + precision.label());
        }

        @Override
        public String describe() {
            UNetConfig config = UNetConfig.from(dev.unetlens.config.JsonConfig.parse(model.id() + "/unet.json", model.config(Component.UNET)));
            return BenchModel.label(model) + " U-Net forward, latent [" + batch + ", 4, " + latent + ", " + latent
                    + "], t = 500, text [" + batch + ", 77, " + config.attention().crossAttentionDim().getFirst() + "]"
                    + (config.time().textTime() ? ", pooled [" + batch + ", " + pooledWidth(config) + "], time ids" : "")
                    + (precision == Precision.FP32 ? "" : ", products in " + precision.label() + " (weights cast at load)");
        }

        /** Width of SDXL's pooled text embedding: the add embedding's input less the micro-conditioning sinusoids. */
        private static long pooledWidth(UNetConfig config) {
            return config.time().projectionClassEmbeddingsInputDim()
                    - UNet2DConditionModel.TIME_IDS * config.time().additionTimeEmbedDim();
        }

        @Override
        public Set<Component> components() {
            return Set.of(Component.UNET);
        }

        @Override
        public Workload open(DiffusersFolder folder, NDManager manager) {
            UNetConfig config = UNetConfig.read(folder.config("unet"));
            UNet2DConditionModel unet;
            long params;
            double gflop;
            try (TensorSource weights = folder.openWeights("unet", null)) {
                unet = UNet2DConditionModel.load(weights, config, manager, precision);
                params = BenchCase.params(weights);
                gflop = UNetFlops.count(unet, weights, batch, latent, latent, TEXT_TOKENS) / 1e9;
            }
            manager.getEngine().setRandomSeed((int) INPUT_SEED);
            NDArray sample = manager.randomNormal(new Shape(batch, config.inChannels(), latent, latent));
            NDArray context = manager.randomNormal(new Shape(batch, TEXT_TOKENS, config.attention().crossAttentionDim().getFirst()));
            UNetInput plain = UNetInput.of(sample, TIMESTEP, context);
            long px = 8L * latent;                       // (original size, crop top-left, target size), as SDXL's pipeline
            UNetInput input = !config.time().textTime() ? plain : plain.withAddedCond(
                    manager.randomNormal(new Shape(batch, pooledWidth(config))),
                    manager.create(new float[] {px, px, 0, 0, px, px}, new Shape(1, UNet2DConditionModel.TIME_IDS)).repeat(0, batch));
            return new Loaded(params, unet.hooks(), () -> unet.forward(input), gflop);
        }
    }

    /** The VAE's decoder (SD 1.5's or SDXL's): latents [1, 4, latent, latent] → an image [1, 3, 8·latent, 8·latent]. */
    record VaeDecodeCase(SyntheticModel model, int latent) implements BenchCase {
        /** SD 1.5's VAE. */
        VaeDecodeCase(int latent) {
            this(SyntheticModel.SD15, latent);
        }

        /** SDXL's decode at 1024²: ≤ 0.8× torch's time; SD 1.5's: no slower. */
        @Override
        public double timeTarget() {
            return model == SyntheticModel.SDXL ? 0.8 : 1.0;
        }

        @Override
        public String name() {
            return "vae_decode_" + BenchModel.caseTag(model) + latent;
        }

        @Override
        public String describe() {
            return BenchModel.label(model) + " VAE decode, [1, 4, " + latent + ", " + latent + "] → [1, 3, " + 8 * latent
                    + ", " + 8 * latent + "]";
        }

        @Override
        public Set<Component> components() {
            return Set.of(Component.VAE);
        }

        @Override
        public Workload open(DiffusersFolder folder, NDManager manager) {
            VaeConfig config = VaeConfig.read(folder.config("vae"));
            AutoencoderKL vae;
            long params;
            try (TensorSource weights = folder.openWeights("vae", null)) {
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
