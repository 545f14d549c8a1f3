package dev.unetlens.fuzz;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.model.unet.UNetInput;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Pipeline;
import dev.unetlens.pipeline.StableDiffusion;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/**
 * The loads a fuzz case runs, each through the project's public API, and what an accepted load must then show: every
 * tensor of the source a floating one (F16, BF16, F32, F64: never integer bits used as weights), and one forward
 * pass that gives a float32 result of the shape the config implies (a wrongly shaped weight would fail it).
 */
final class Checks {
    private static final Set<String> FLOATING = Set.of("F16", "BF16", "F32", "F64");

    private Checks() {
    }

    /** Loads a U-Net from {@code source} and predicts once for a 1-row batch. */
    static void unet(TensorSource source, UNetConfig c) {
        try (NDManager m = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = UNet2DConditionModel.load(source, c, m);
            floatsOnly(source);
            long size = 2L << (c.levels() - 1);
            NDArray sample = m.randomNormal(new Shape(1, c.inChannels(), size, size));
            UNetInput in = UNetInput.of(sample, 10, m.randomNormal(new Shape(1, 3, c.midCrossAttentionDim())));
            if (c.time().textTime()) {
                long pooled = c.time().projectionClassEmbeddingsInputDim() - 6L * c.time().additionTimeEmbedDim();
                in = in.withAddedCond(m.randomNormal(new Shape(1, pooled)), m.create(new float[] {8, 8, 0, 0, 8, 8},
                        new Shape(1, 6)));
            }
            floatTensor("unet output", unet.forward(in), 1, c.outChannels(), size, size);
        }
    }

    /** Loads a VAE from {@code source}, encodes a 1-image batch and decodes its mean. */
    static void vae(TensorSource source, VaeConfig c) {
        try (NDManager m = NDManager.newBaseManager()) {
            AutoencoderKL vae = AutoencoderKL.load(source, c, m);
            floatsOnly(source);
            long size = 2L * vae.downscale();
            NDArray moments = vae.encodeMoments(m.randomNormal(new Shape(1, c.inChannels(), size, size)));
            floatTensor("vae moments", moments, 1, 2L * c.latentChannels(), 2, 2);
            NDArray z = moments.get(":, 0:{}", c.latentChannels());
            floatTensor("vae decode", vae.decode(z), 1, c.outChannels(), size, size);
        }
    }

    /** Loads a text encoder from {@code source} and encodes a 3-token sequence. */
    static void textEncoder(TensorSource source, ClipTextConfig c) {
        try (NDManager m = NDManager.newBaseManager()) {
            ClipTextModel te = ClipTextModel.load(source, c, m);
            floatsOnly(source);
            long t = Math.min(3, c.maxPositions());
            long[] ids = new long[(int) t];
            Arrays.fill(ids, c.vocabSize() - 1);
            NDArray out = te.forward(m.create(ids, new Shape(1, t))).lastHiddenState();
            floatTensor("text encoder output", out, 1, t, c.hiddenSize());
        }
    }

    /**
     * Loads a whole model (folder or single file) and generates an 8×8 image in one step without guidance, as the
     * CLI would (one text encoding, one U-Net prediction, one decode).
     */
    static void pipeline(Path model) {
        pipeline(model, StableDiffusion.Options.DEFAULT);
    }

    /** {@link #pipeline(Path)} loaded with {@code options} (LoRAs, EMA weights). */
    static void pipeline(Path model, StableDiffusion.Options options) {
        try (StableDiffusion sd = StableDiffusion.load(model, options)) {
            int size = 8;
            GenerationResult r = new Pipeline(sd).generate(GenerationRequest.builder().prompt("a photo of a cat, 日本!")
                    .steps(1).guidance(1).size(size, size).seed(3).build());
            if (r.images().size() != 1 || r.images().getFirst().width() != size) {
                throw new AssertionError("generated " + r.images().size() + " images of " + size + " px");
            }
        }
    }

    /** Every tensor of an accepted source is floating: the loader must have refused any other. */
    static void floatsOnly(TensorSource source) {
        for (String name : source.names()) {
            TensorInfo t = source.info(name).orElseThrow();
            if (!FLOATING.contains(t.dtype().name()) && !name.endsWith("position_ids")) {
                throw new AssertionError("accepted " + t.dtype() + " tensor " + name + " as a weight");
            }
        }
    }

    static void floatTensor(String what, NDArray x, long... shape) {
        if (x.getDataType() != DataType.FLOAT32 || !x.getShape().equals(new Shape(shape))) {
            throw new AssertionError(what + " is " + x.getDataType() + x.getShape() + ", expected float32"
                    + Arrays.toString(shape));
        }
    }
}
