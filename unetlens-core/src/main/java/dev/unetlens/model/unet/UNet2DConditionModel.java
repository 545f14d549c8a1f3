package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.ConfigException;
import dev.unetlens.config.UNetConfig.ActFn;
import dev.unetlens.config.UNetConfig.DownBlockType;
import dev.unetlens.config.UNetConfig.UpBlockType;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.Bf16;
import dev.unetlens.model.Conv2d;
import dev.unetlens.model.GroupNorm;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.Module;
import dev.unetlens.model.Precision;
import dev.unetlens.model.Weights;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * diffusers v0.27.2 unets/unet_2d_condition.py {@code UNet2DConditionModel}, the SD 1.x / 2.x / XL noise
 * predictor: sample [B, Cin, H, W], timestep, text states [B, S, Dc] (and SDXL's pooled text embeds and time ids)
 * → [B, Cout, H, W]. The component root: module paths are the state-dict keys without {@code .weight}. H and W may
 * be any sizes (odd ones included): the up blocks upsample to the size of the skip they meet next, as diffusers
 * does with {@code forward_upsample_size}.
 *
 * <p>Hook points: every module's output by its path (this root's, {@code ""}, is the prediction; the golden
 * index calls it {@code <output>}), {@code :emb} (the time embedding every resnet receives, [B, Ct]), and those of
 * {@link DownBlock} and {@link dev.unetlens.model.Attention}; {@link #shapes} lists them all with their shapes, and
 * {@link #forward(UNetInput, StopAfter)} runs only as far as the deepest point a caller needs. A replacement at
 * {@code :emb} reaches every resnet; at {@code conv_in} both the first down block and the first skip (they are one
 * tensor in diffusers).
 */
public final class UNet2DConditionModel extends Module {
    /** diffusers pipelines' text length, the default for {@link InputSize}. */
    public static final long TEXT_TOKENS = 77;
    /** SDXL base's micro-conditioning values per row (the refiner has 5), the default for {@link InputSize}. */
    public static final long TIME_IDS = 6;
    private static final String TIME_STAGE = "time_embedding";

    private final UNetConfig config;
    private final Precision precision;
    private final java.util.concurrent.atomic.AtomicBoolean firstForward = new java.util.concurrent.atomic.AtomicBoolean(true);
    private volatile Bf16Error bf16Error;
    private final Timesteps timeProj;
    private final TimestepEmbedding timeEmbedding;
    private final Timesteps addTimeProj;              // SDXL text_time only
    private final TimestepEmbedding addEmbedding;     // SDXL text_time only
    private final Nonlinearity timeEmbedAct;          // time_embedding_act_fn, null in every SD model
    private final Conv2d convIn;
    private final List<DownBlock> downBlocks = new ArrayList<>();
    private final UNetMidBlock2DCrossAttn midBlock;
    private final List<UpBlock> upBlocks = new ArrayList<>();
    private final GroupNorm convNormOut;
    private final Nonlinearity convAct;
    private final Conv2d convOut;
    private final Point embPoint;
    private final long contextDim;
    private final List<String> stages = new ArrayList<>();
    private final HookTable hooks;

    /**
     * The sizes {@link #shapes(InputSize)} computes for.
     *
     * @param batch      B
     * @param height     latent H (the image height / 8 for SD's VAE)
     * @param width      latent W
     * @param textTokens S, the text states' length (77 in the SD pipelines)
     * @param timeIds    K, SDXL micro-conditioning values per row (6; the SDXL refiner's 5); unused otherwise
     */
    public record InputSize(long batch, long height, long width, long textTokens, long timeIds) {
        public InputSize {
            if (batch < 1 || height < 1 || width < 1 || textTokens < 1 || timeIds < 1) {
                throw new IllegalArgumentException("sizes must be positive, got batch " + batch + ", " + height
                        + "×" + width + ", text " + textTokens + ", time ids " + timeIds);
            }
        }
    }

    /** Builds the U-Net with {@code w}'s tensors (loaded or generated) for config {@code c}. */
    public UNet2DConditionModel(Weights w, UNetConfig c) {
        super("");
        config = c;
        int c0 = c.blockOutChannels().getFirst();
        UNetConfig.Time t = c.time();
        timeProj = add(new Timesteps(sub("time_proj"), c0, t.flipSinToCos(), t.freqShift()));
        timeEmbedding = add(w.float32(() -> new TimestepEmbedding(w, sub("time_embedding"), c0, t.embedDim(), c.actFn(),
                t.postAct())));                                      // fp32 always: one row, nothing to gain
        if (t.textTime()) {
            addTimeProj = add(new Timesteps(sub("add_time_proj"), t.additionTimeEmbedDim(), t.flipSinToCos(), t.freqShift()));
            addEmbedding = add(w.float32(() -> new TimestepEmbedding(w, sub("add_embedding"),
                    t.projectionClassEmbeddingsInputDim(), t.embedDim(), ActFn.SILU, null))); // diffusers' default act
        } else {
            addTimeProj = null;
            addEmbedding = null;
        }
        timeEmbedAct = t.embeddingAct() == null ? null : add(new Nonlinearity(sub("time_embed_act"), t.embeddingAct()));
        embPoint = point(":emb");
        stages.add(TIME_STAGE);

        int k = c.convInKernel();
        convIn = add(w.float32(() -> new Conv2d(w, sub("conv_in"), c.inChannels(), c0, k, 1, (k - 1) / 2))); // fp32: see below
        stages.add(convIn.path());
        TreeSet<Integer> crossDims = new TreeSet<>();
        for (int i = 0; i < c.levels(); i++) {
            BlockArgs a = BlockArgs.down(c, i);
            String path = sub("down_blocks." + i);
            if (c.downBlockTypes().get(i) == DownBlockType.CrossAttnDownBlock2D) {
                downBlocks.add(add(new CrossAttnDownBlock2D(w, path, a)));
                crossDims.add((int) a.crossAttentionDim());
            } else {
                downBlocks.add(add(new DownBlock2D(w, path, a)));
            }
            stages.add(path);
        }
        BlockArgs mid = BlockArgs.mid(c);
        midBlock = add(new UNetMidBlock2DCrossAttn(w, sub("mid_block"), mid));
        crossDims.add((int) mid.crossAttentionDim());
        stages.add(midBlock.path());
        for (int i = 0; i < c.levels(); i++) {
            BlockArgs a = BlockArgs.up(c, i);
            String path = sub("up_blocks." + i);
            if (c.upBlockTypes().get(i) == UpBlockType.CrossAttnUpBlock2D) {
                upBlocks.add(add(new CrossAttnUpBlock2D(w, path, a)));
                crossDims.add((int) a.crossAttentionDim());
            } else {
                upBlocks.add(add(new UpBlock2D(w, path, a)));
            }
            stages.add(path);
        }
        convNormOut = add(new GroupNorm(w, sub("conv_norm_out"), c.normNumGroups(), c0, c.normEps()));
        convAct = add(new Nonlinearity(sub("conv_act"), c.actFn()));
        int ko = c.convOutKernel();
        // conv_in and conv_out stay fp32 in a bf16 model: together under 1 % of the FLOPs at 4 channels, and conv_out's
        // output is the prediction itself, which bf16 would round to 8 bits
        convOut = add(w.float32(() -> new Conv2d(w, sub("conv_out"), c0, c.outChannels(), ko, 1, (ko - 1) / 2)));
        stages.addAll(List.of(convNormOut.path(), convAct.path(), convOut.path(), ""));
        if (crossDims.size() > 1) {
            throw new ConfigException("cross_attention_dim gives the cross-attention blocks different text widths "
                    + crossDims + "; one encoder_hidden_states tensor cannot feed them");
        }
        contextDim = crossDims.getFirst();
        hooks = new HookTable(this);
        precision = w.precision();
    }

    /** Builds the U-Net from {@code source}, failing on any missing, wrongly shaped or unused tensor. */
    public static UNet2DConditionModel load(TensorSource source, UNetConfig config, NDManager manager) {
        return load(source, config, manager, Precision.FP32);
    }

    /**
     * {@link #load}, its convolutions, linear layers and attention products in {@code precision} (bf16: weights cast
     * once here, see {@link dev.unetlens.model.Bf16}; the float32 weights are kept for the fp32 ways).
     */
    public static UNet2DConditionModel load(TensorSource source, UNetConfig config, NDManager manager,
                                            Precision precision) {
        return Weights.load(source, manager, "unet", k -> false, precision, w -> new UNet2DConditionModel(w, config));
    }

    /** The arithmetic of this U-Net's products. */
    public Precision precision() {
        return precision;
    }

    public UNetConfig config() {
        return config;
    }

    public HookTable hooks() {
        return hooks;
    }

    /** The top-level stages a forward can stop after, in execution order; {@code ""} is the end. */
    public List<String> stages() {
        return List.copyOf(stages);
    }

    /** The prediction for {@code in}: [B, Cout, H, W]. */
    public NDArray forward(UNetInput in) {
        return forward(in, StopAfter.END);
    }

    /**
     * Runs the stages up to and including {@code stop}'s, firing their hook points, and returns that stage's
     * output: emb [B, Ct] for {@code time_embedding}, the hidden states [B, C, h, w] of a block, the prediction
     * for {@link StopAfter#END}. The tensors it produces equal those of a full forward.
     */
    public NDArray forward(UNetInput in, StopAfter stop) {
        NDArray out = run(in, stop);
        if (precision == Precision.BF16 && Bf16.active() && firstForward.compareAndSet(true, false)) {
            bf16Error = Bf16Error.measure(this, in, stop, out);
        }
        return out;
    }

    /**
     * The bf16 products' error against fp32 on this model's first forward (null before it, and for an fp32 model): one
     * extra fp32 forward, as far as that one went, once per model load ({@link Bf16Error}).
     */
    public Bf16Error bf16Error() {
        return bf16Error;
    }

    private NDArray run(UNetInput in, StopAfter stop) {
        if (!stages.contains(stop.stage())) {
            throw new IllegalArgumentException("cannot stop after '" + stop.stage() + "': not a stage " + stages);
        }
        check(in);
        NDArray context = in.encoderHiddenStates();                             // [B, S, Dc]
        // 0. center input
        NDArray sample = config.centerInputSample() ? in.sample().mul(2f).sub(1f) : in.sample(); // [B, Cin, H, W]

        // 1. time
        NDArray emb = timeEmbed(in);                                             // [B, Ct]
        if (stop.isAfter(TIME_STAGE)) {
            return emb;
        }

        // 2. pre-process
        NDArray h = convIn.forward(sample);                                      // [B, C0, H, W]
        if (stop.isAfter(convIn.path())) {
            return h;
        }

        // 3. down: conv_in's output is the first skip, each block pushes its own
        Deque<NDArray> skips = new ArrayDeque<>(List.of(h));
        for (DownBlock block : downBlocks) {
            DownOutput out = block.forward(h, emb, context);
            h = out.hidden();                                                    // [B, Ci, ⌈H/2^(i+1)⌉, ⌈W/2^(i+1)⌉]
            skips.addAll(out.skips());
            if (stop.isAfter(block.path())) {
                return h;
            }
        }

        // 4. mid
        h = midBlock.forward(h, emb, context);                                   // [B, C(n−1), h, w]
        if (stop.isAfter(midBlock.path())) {
            return h;
        }

        // 5. up: each block pops one skip per resnet and upsamples to the next skip's size
        for (UpBlock block : upBlocks) {
            List<NDArray> res = pop(skips, block.resnetCount());
            long[] size = skips.isEmpty() ? null : spatial(skips.peekLast().getShape());
            h = block.forward(h, res, emb, context, size);                       // [B, Ri, next skip's H, W]
            if (stop.isAfter(block.path())) {
                return h;
            }
        }

        // 6. post-process
        h = convNormOut.forward(h);                                              // [B, C0, H, W]
        if (stop.isAfter(convNormOut.path())) {
            return h;
        }
        h = convAct.forward(h);
        if (stop.isAfter(convAct.path())) {
            return h;
        }
        h = convOut.forward(h);                                                  // [B, Cout, H, W]
        if (stop.isAfter(convOut.path())) {
            return h;
        }
        return emit(in.sample(), h);
    }

    /**
     * Step 1, the time embedding every resnet receives:
     * {@code emb = time_embedding(time_proj(t))} [+ {@code add_embedding(cat(text_embeds, add_time_proj(time_ids)))}
     * for SDXL] [→ {@code time_embed_act}]. Hook: {@code :emb}, [B, Ct].
     */
    private NDArray timeEmbed(UNetInput in) {
        long b = in.sample().getShape().get(0);
        NDArray t = in.timestep().getShape().dimension() == 0 ? in.timestep().reshape(1) : in.timestep();
        t = t.getShape().get(0) == b ? t : t.broadcast(new Shape(b));           // [B]
        NDArray emb = timeEmbedding.forward(timeProj.forward(t));                // [B, C0] → [B, Ct]
        if (addEmbedding != null) {
            NDArray textEmbeds = in.textEmbeds();                                // [B, P]
            NDArray timeEmbeds = addTimeProj.forward(in.timeIds().flatten());    // [B·K, Dt]
            NDArray addEmbeds = textEmbeds.concat(timeEmbeds.reshape(textEmbeds.getShape().get(0), -1), -1); // [B, P + K·Dt]
            emb = emb.add(addEmbedding.forward(addEmbeds));                      // [B, Ct]
        }
        if (timeEmbedAct != null) {
            emb = timeEmbedAct.forward(emb);
        }
        return emit(embPoint, in.sample(), emb);
    }

    /** Removes the last {@code n} entries and returns them in push order. */
    private static List<NDArray> pop(Deque<NDArray> skips, int n) {
        NDArray[] out = new NDArray[n];
        for (int k = n - 1; k >= 0; k--) {
            out[k] = skips.removeLast();
        }
        return List.of(out);
    }

    private static long[] spatial(Shape s) {
        return new long[] {s.get(2), s.get(3)};
    }

    /** One-line errors for inputs the model cannot take, before any work is done. */
    private void check(UNetInput in) {
        Shape s = in.sample().getShape();
        if (s.dimension() != 4 || s.get(1) != config.inChannels()) {
            throw new UnetlensException("sample must be [B, " + config.inChannels() + ", H, W], got " + s);
        }
        long b = s.get(0);
        long[] level = {b, s.get(1), s.get(2), s.get(3)};
        for (int i = 0; i < config.levels() - 1; i++) {
            level = DownBlock.downsampled(level, config.downsamplePadding());    // fails in one line if too small
        }
        Shape c = in.encoderHiddenStates().getShape();
        if (c.dimension() != 3 || c.get(0) != b || c.get(2) != contextDim) {
            throw new UnetlensException("encoder_hidden_states must be [" + b + ", S, " + contextDim + "], got " + c);
        }
        Shape t = in.timestep().getShape();
        if (t.dimension() > 1 || t.size() != 1 && t.size() != b) {
            throw new UnetlensException("timestep must be a scalar, [1] or [" + b + "], got " + t);
        }
        if (addEmbedding == null) {
            return;    // diffusers ignores added_cond_kwargs without addition_embed_type
        }
        if (in.textEmbeds() == null || in.timeIds() == null) {
            throw new UnetlensException("this U-Net has addition_embed_type 'text_time' (SDXL): the input needs text_embeds"
                    + " and time_ids (UNetInput.withAddedCond)");
        }
        Shape te = in.textEmbeds().getShape();
        Shape ti = in.timeIds().getShape();
        long width = te.dimension() == 2 && ti.dimension() == 2
                ? te.get(1) + ti.get(1) * config.time().additionTimeEmbedDim() : -1;
        if (te.get(0) != b || ti.get(0) != b || width != config.time().projectionClassEmbeddingsInputDim()) {
            throw new UnetlensException("text_embeds [B, P] and time_ids [B, K] must give P + K·"
                    + config.time().additionTimeEmbedDim() + " = projection_class_embeddings_input_dim "
                    + config.time().projectionClassEmbeddingsInputDim() + " for B = " + b + ", got " + te + " and " + ti);
        }
    }

    /**
     * The deepest stage that any of {@code points} (hook point names) lies in: a forward with it fires all of them
     * and runs nothing after. Fails on a name that is not a hook point.
     */
    public StopAfter stopAfter(Collection<String> points) {
        int deepest = 0;
        for (String name : points) {
            HookTable.PointInfo p = hooks.find(name).orElseThrow(() ->
                    new UnetlensException("'" + name + "' is not a hook point of this U-Net"));
            deepest = Math.max(deepest, stages.indexOf(stageOf(p)));
        }
        return new StopAfter(stages.get(deepest));
    }

    private String stageOf(HookTable.PointInfo p) {
        String path = p.module().path();
        if (path.isEmpty()) {
            return p.output() ? "" : TIME_STAGE;                                 // the prediction, or :emb
        }
        for (Module top : children()) {
            if (path.equals(top.path()) || path.startsWith(top.path() + ".")) {
                return stages.contains(top.path()) ? top.path() : TIME_STAGE;  // time_proj, add_embedding, …
            }
        }
        throw new IllegalStateException("hook point '" + p.name() + "' outside the module tree");
    }

    /** {@link #shapes(InputSize)} with 77 text tokens and 6 time ids. */
    public List<HookShape> shapes(long batch, long height, long width) {
        return shapes(new InputSize(batch, height, width, TEXT_TOKENS, TIME_IDS));
    }

    /**
     * Every hook point with its diffusers class and output shape for an input of this size, in hook-table order,
     * computed from the config alone (no forward is run).
     */
    public List<HookShape> shapes(InputSize size) {
        long b = size.batch();
        ShapeSink s = new ShapeSink(b, size.textTokens());
        long ct = config.time().embedDim();
        timeProj.shapes(s, b);
        timeEmbedding.shapes(s, b, ct);
        if (addEmbedding != null) {
            addTimeProj.shapes(s, b * size.timeIds());
            addEmbedding.shapes(s, b, ct);
        }
        if (timeEmbedAct != null) {
            s.put(timeEmbedAct, b, ct);
        }
        s.put(":emb", b, ct);
        long[] h = s.put(convIn, ShapeSink.map(b, config.blockOutChannels().getFirst(), size.height(), size.width()));
        Deque<long[]> skips = new ArrayDeque<>(List.of(h));
        for (DownBlock block : downBlocks) {
            List<long[]> out = block.shapes(s, h);
            skips.addAll(out);
            h = out.getLast();
        }
        h = midBlock.shapes(s, h);
        for (UpBlock block : upBlocks) {
            List<long[]> res = new ArrayList<>();
            for (int k = 0; k < block.resnetCount(); k++) {
                res.addFirst(skips.removeLast());
            }
            long[] next = skips.isEmpty() ? null : new long[] {skips.peekLast()[2], skips.peekLast()[3]};
            h = block.shapes(s, h, res, next);
        }
        s.put(convNormOut, h);
        s.put(convAct, h);
        h = s.put(convOut, ShapeSink.map(b, config.outChannels(), h[2], h[3]));
        s.put(this, h);

        Map<String, long[]> byName = s.shapes();
        List<HookShape> out = new ArrayList<>();
        for (HookTable.PointInfo p : hooks.points()) {
            long[] shape = byName.remove(p.name());
            if (shape == null) {
                throw new IllegalStateException("no shape computed for hook point '" + p.name() + "'");
            }
            out.add(new HookShape(p.name(), p.module().typeName(), new Shape(shape)));
        }
        if (!byName.isEmpty()) {
            throw new IllegalStateException("shapes computed for names that are not hook points: " + byName.keySet());
        }
        return out;
    }
}
