package dev.unetlens.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.Messages;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * diffusers v0.27.2 {@code UNet2DConditionModel} config: every field that changes the numbers of an SD 1.x, 2.x or
 * XL U-Net, with diffusers' defaults for missing keys and its validation. Lists are stored expanded to one entry per
 * down block (index i = {@code down_blocks.i}); the accessors {@link #midHeads()}, {@link #upHeads(int)} ... apply
 * diffusers' convention: the mid block uses the last entry, up block i the entry {@code levels − 1 − i}.
 *
 * <p>Fields diffusers accepts but that do not touch the supported blocks are accepted and ignored, as diffusers
 * ignores them for these blocks: {@code resnet_out_scale_factor} and {@code resnet_skip_time_act} (only passed to
 * ResnetDownsample/SimpleCrossAttn blocks), {@code cross_attention_norm}, {@code mid_block_only_cross_attention} and
 * {@code addition_embed_type_num_heads} (other block / embedding types), {@code dropout} (inference). Everything
 * unetlens does not implement is refused with a one-line {@link ConfigException} naming the field.
 *
 * @param inChannels         latent channels in ({@code in_channels}, 4)
 * @param outChannels        channels out ({@code out_channels}, 4)
 * @param centerInputSample  whether the sample is mapped to {@code 2·x − 1} first
 * @param blockOutChannels   channels of each level, C0 … C(n−1)
 * @param downBlockTypes     one per level
 * @param upBlockTypes       one per level, from the lowest resolution up
 * @param layersPerBlock     resnets per down block, one entry per level (up block i has
 *                           {@code layersPerBlock[n−1−i] + 1})
 * @param downsamplePadding  padding of the stride-2 downsampling convs (0 means the asymmetric (0, 1, 0, 1) pad)
 * @param midBlockScaleFactor the mid block's resnets divide their output by this
 * @param actFn              nonlinearity of the resnets, the time embedding and {@code conv_act}
 * @param normNumGroups      GroupNorm groups everywhere
 * @param normEps            epsilon of the resnets' and {@code conv_norm_out}'s GroupNorms (Transformer2DModel's is
 *                           fixed at 1e-6 and its LayerNorms at 1e-5, as in diffusers)
 * @param convInKernel       kernel of {@code conv_in} (odd; padding (k−1)/2)
 * @param convOutKernel      kernel of {@code conv_out} (odd)
 * @param attention          the transformer settings
 * @param time               the timestep (and SDXL micro-conditioning) embedding settings
 * @param sampleSize         default latent size from the config, [height, width], or empty when not given
 */
public record UNetConfig(int inChannels, int outChannels, boolean centerInputSample,
                         List<Integer> blockOutChannels, List<DownBlockType> downBlockTypes,
                         List<UpBlockType> upBlockTypes, List<Integer> layersPerBlock, int downsamplePadding,
                         double midBlockScaleFactor, ActFn actFn, int normNumGroups, double normEps,
                         int convInKernel, int convOutKernel, Attention attention, Time time,
                         List<Integer> sampleSize) {

    /** Most levels (block_out_channels entries): SD has 4, SDXL 3. */
    public static final int MAX_LEVELS = 8;
    public static final Range IN_CHANNELS = new Range("in_channels", 1, 256);
    public static final Range OUT_CHANNELS = new Range("out_channels", 1, 256);
    public static final Range CHANNELS = new Range("block_out_channels", 1, 16384);
    public static final Range LAYERS = new Range("layers_per_block", 1, 16);
    public static final Range HEADS = new Range("attention_head_dim", 1, 1024);
    public static final Range CROSS_ATTENTION_DIM = new Range("cross_attention_dim", 1, 16384);
    public static final Range DEPTH = new Range("transformer_layers_per_block", 0, 64);
    public static final Range REVERSE_DEPTH = new Range("reverse_transformer_layers_per_block", 0, 64);
    public static final Range GROUPS = new Range("norm_num_groups", 1, 1024);
    public static final Range CONV_IN_KERNEL = new Range("conv_in_kernel", 1, 15);
    public static final Range CONV_OUT_KERNEL = new Range("conv_out_kernel", 1, 15);
    public static final Range DOWNSAMPLE_PADDING = new Range("downsample_padding", 0, 8);
    public static final Range SAMPLE_SIZE = new Range("sample_size", 1, 1024);
    public static final Range TIME_EMBEDDING_DIM = new Range("time_embedding_dim", 1, 65536);
    public static final Range ADDITION_TIME_EMBED_DIM = new Range("addition_time_embed_dim", 1, 8192);
    public static final Range PROJECTION_INPUT_DIM = new Range("projection_class_embeddings_input_dim", 1, 65536);

    /** The down block types unetlens implements (diffusers also accepts them with a {@code UNetRes} prefix). */
    public enum DownBlockType { CrossAttnDownBlock2D, DownBlock2D }

    /** The up block types unetlens implements. */
    public enum UpBlockType { CrossAttnUpBlock2D, UpBlock2D }

    /** diffusers {@code get_activation}: the names it accepts (case-insensitive), and the torch module class. */
    public enum ActFn {
        SILU("SiLU"), MISH("Mish"), GELU("GELU"), RELU("ReLU");

        private final String torchClass;

        ActFn(String torchClass) {
            this.torchClass = torchClass;
        }

        /** The torch module class name ({@code SiLU}), as a hook point's class. */
        public String torchClass() {
            return torchClass;
        }

        /** {@code "silu"}, {@code "swish"}, {@code "mish"}, {@code "gelu"} (exact erf form), {@code "relu"}. */
        public static ActFn parse(String field, String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "silu", "swish" -> SILU;
                case "mish" -> MISH;
                case "gelu" -> GELU;
                case "relu" -> RELU;
                default -> throw new ConfigException(field + " " + Messages.quote(name)
                        + " is not supported (silu, swish, mish, gelu, relu)");
            };
        }
    }

    /**
     * The Transformer2DModel settings, per down block i (see the outer Javadoc for mid and up).
     *
     * @param heads                 heads of each block's transformers: diffusers reads {@code attention_head_dim}
     *                              as the head count (golden README §1); the head dim is {@code C / heads}
     * @param crossAttentionDim     width Dc of the text states each block attends to
     * @param downLayers            transformer depth of each down block's attention j ({@code attentions.j})
     * @param midLayers             transformer depth of {@code mid_block.attentions.0}
     * @param upLayers              transformer depth of each up block's attention j, up block order
     * @param useLinearProjection   proj_in / proj_out are Linear over tokens (SD 2.x, XL) rather than 1×1 convs
     * @param upcastAttention       float32 scores and softmax in diffusers; no numerical effect in float32, which
     *                              is what unetlens computes in
     */
    public record Attention(List<Integer> heads, List<Integer> crossAttentionDim, List<List<Integer>> downLayers,
                            int midLayers, List<List<Integer>> upLayers, boolean useLinearProjection,
                            boolean upcastAttention) {
        public Attention {
            heads = List.copyOf(heads);
            crossAttentionDim = List.copyOf(crossAttentionDim);
            downLayers = downLayers.stream().map(List::copyOf).toList();
            upLayers = upLayers.stream().map(List::copyOf).toList();
            HEADS.checkAll(heads);
            CROSS_ATTENTION_DIM.checkAll(crossAttentionDim);
            DEPTH.check(midLayers);
            downLayers.forEach(DEPTH::checkAll);
            upLayers.forEach(REVERSE_DEPTH::checkAll);
        }
    }

    /**
     * Timestep embedding: sinusoidal {@code time_proj} of width C0 → {@code time_embedding} (Linear → act → Linear
     * [→ post act]); SDXL adds {@code add_embedding} of the pooled text embeds and the micro-conditioning ids.
     *
     * @param flipSinToCos       cos first, then sin
     * @param freqShift          {@code downscale_freq_shift}: frequencies exp(−ln(10⁴)·k / (C0/2 − shift))
     * @param embedDim           Ct, width of the embedding the resnets receive ({@code time_embedding_dim} or 4·C0)
     * @param postAct            {@code timestep_post_act} after linear_2, or null
     * @param embeddingAct       {@code time_embedding_act_fn} on the summed embedding, or null
     * @param additionEmbedType  null, or {@code "text_time"} (SDXL)
     * @param additionTimeEmbedDim width of each micro-conditioning value's sinusoid (text_time), else 0
     * @param projectionClassEmbeddingsInputDim input width of {@code add_embedding} = pooled width + 6·that (text_time), else 0
     */
    public record Time(boolean flipSinToCos, double freqShift, int embedDim, ActFn postAct, ActFn embeddingAct,
                       String additionEmbedType, int additionTimeEmbedDim, int projectionClassEmbeddingsInputDim) {
        public static final String TEXT_TIME = "text_time";

        public Time {
            TIME_EMBEDDING_DIM.check(embedDim);
            if (!Double.isFinite(freqShift)) {
                throw new ConfigException("freq_shift must be a finite number, got " + freqShift);
            }
            if (additionEmbedType != null && !additionEmbedType.equals(TEXT_TIME)) {
                throw new ConfigException("addition_embed_type '" + additionEmbedType
                        + "' is not supported (null, text_time)");
            }
            if (TEXT_TIME.equals(additionEmbedType)) {
                ADDITION_TIME_EMBED_DIM.check(additionTimeEmbedDim);
                PROJECTION_INPUT_DIM.check(projectionClassEmbeddingsInputDim);
            }
        }

        /** Whether this is SDXL's text_time conditioning. */
        public boolean textTime() {
            return TEXT_TIME.equals(additionEmbedType);
        }
    }

    public UNetConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        layersPerBlock = List.copyOf(layersPerBlock);
        sampleSize = List.copyOf(sampleSize);
        int n = blockOutChannels.size();
        if (n == 0 || n > MAX_LEVELS) {
            throw new ConfigException("block_out_channels must have 1 to " + MAX_LEVELS + " entries, got " + n);
        }
        CHANNELS.checkAll(blockOutChannels);
        LAYERS.checkAll(layersPerBlock);
        IN_CHANNELS.check(inChannels);
        OUT_CHANNELS.check(outChannels);
        GROUPS.check(normNumGroups);
        SAMPLE_SIZE.checkAll(sampleSize);
        sameLength("down_block_types", downBlockTypes.size(), n);
        sameLength("up_block_types", upBlockTypes.size(), n);
        sameLength("layers_per_block", layersPerBlock.size(), n);
        sameLength("attention_head_dim", attention.heads().size(), n);
        sameLength("cross_attention_dim", attention.crossAttentionDim().size(), n);
        sameLength("transformer_layers_per_block", attention.downLayers().size(), n);
        sameLength("reverse_transformer_layers_per_block", attention.upLayers().size(), n);
        for (int c : blockOutChannels) {
            if (c % normNumGroups != 0) {
                throw new ConfigException("block_out_channels " + blockOutChannels
                        + " must be positive multiples of norm_num_groups " + normNumGroups);
            }
        }
        for (int i = 0; i < n; i++) {
            if (attention.downLayers().get(i).size() != layersPerBlock.get(i)) {
                throw new ConfigException("transformer_layers_per_block entry " + i + " has "
                        + attention.downLayers().get(i).size() + " depths for " + layersPerBlock.get(i) + " layers");
            }
            if (attention.upLayers().get(i).size() != layersPerBlock.get(n - 1 - i) + 1) {
                throw new ConfigException("reverse_transformer_layers_per_block entry " + i + " has "
                        + attention.upLayers().get(i).size() + " depths for " + (layersPerBlock.get(n - 1 - i) + 1)
                        + " up-block layers");
            }
        }
        oddKernel(CONV_IN_KERNEL, convInKernel);
        oddKernel(CONV_OUT_KERNEL, convOutKernel);
        DOWNSAMPLE_PADDING.check(downsamplePadding);
        if (!(normEps > 0) || !Double.isFinite(normEps)) {
            throw new ConfigException("norm_eps must be a positive number, got " + normEps);
        }
        if (midBlockScaleFactor == 0 || !Double.isFinite(midBlockScaleFactor)) {
            throw new ConfigException("mid_block_scale_factor must be a non-zero number, got " + midBlockScaleFactor);
        }
    }

    private static void sameLength(String field, int size, int n) {
        if (size != n) {
            throw new ConfigException(field + " has " + size + " entries, expected " + n
                    + " (one per block_out_channels entry)");
        }
    }

    private static void oddKernel(Range range, int k) {
        if (range.check(k) % 2 == 0) {
            throw new ConfigException(range.field() + " must be odd (it keeps H and W), got " + k);
        }
    }

    /** Number of levels n (down blocks = up blocks = block_out_channels entries). */
    public int levels() {
        return blockOutChannels.size();
    }

    /** Heads of down block i's transformers. */
    public int downHeads(int i) {
        return attention.heads().get(i);
    }

    /** Heads of the mid block's transformer: the last entry. */
    public int midHeads() {
        return attention.heads().getLast();
    }

    /** Heads of up block i's transformers: the entries reversed. */
    public int upHeads(int i) {
        return attention.heads().get(levels() - 1 - i);
    }

    public int downCrossAttentionDim(int i) {
        return attention.crossAttentionDim().get(i);
    }

    public int midCrossAttentionDim() {
        return attention.crossAttentionDim().getLast();
    }

    public int upCrossAttentionDim(int i) {
        return attention.crossAttentionDim().get(levels() - 1 - i);
    }

    /** Resnets of up block i: one more than its down counterpart's. */
    public int upLayers(int i) {
        return layersPerBlock.get(levels() - 1 - i) + 1;
    }

    public static UNetConfig read(Path configJson) {
        return from(JsonConfig.read(configJson));
    }

    /** Every key diffusers 0.27.2's {@code UNet2DConditionModel.__init__} takes. */
    static final Set<String> KNOWN = Set.of("sample_size", "in_channels", "out_channels", "center_input_sample",
            "flip_sin_to_cos", "freq_shift", "down_block_types", "mid_block_type", "up_block_types",
            "only_cross_attention", "block_out_channels", "layers_per_block", "downsample_padding",
            "mid_block_scale_factor", "dropout", "act_fn", "norm_num_groups", "norm_eps", "cross_attention_dim",
            "transformer_layers_per_block", "reverse_transformer_layers_per_block", "encoder_hid_dim",
            "encoder_hid_dim_type", "attention_head_dim", "num_attention_heads", "dual_cross_attention",
            "use_linear_projection", "class_embed_type", "addition_embed_type", "addition_time_embed_dim",
            "num_class_embeds", "upcast_attention", "resnet_time_scale_shift", "resnet_skip_time_act",
            "resnet_out_scale_factor", "time_embedding_type", "time_embedding_dim", "time_embedding_act_fn",
            "timestep_post_act", "time_cond_proj_dim", "conv_in_kernel", "conv_out_kernel",
            "projection_class_embeddings_input_dim", "attention_type", "class_embeddings_concat",
            "mid_block_only_cross_attention", "cross_attention_norm", "addition_embed_type_num_heads");

    public static UNetConfig from(JsonConfig c) {
        try {
            return parse(c);
        } catch (ConfigException e) {
            throw e.in(c.source());
        }
    }

    private static UNetConfig parse(JsonConfig c) {
        c.requireAbsentOr("_class_name", "UNet2DConditionModel");
        for (var it = c.node().fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!key.startsWith("_") && !KNOWN.contains(key)) {
                throw c.error(Messages.quote(key), "is not a diffusers 0.27.2 UNet2DConditionModel option; unetlens"
                        + " cannot tell"
                        + " what it would change");
            }
        }
        if (c.has("num_attention_heads")) {
            throw c.error("num_attention_heads", "= " + Messages.value(c.node().get("num_attention_heads"))
                    + " is rejected by diffusers"
                    + " 0.27.2 (naming issue, huggingface/diffusers#2011); give the head count as attention_head_dim");
        }
        refuseUnsupported(c);

        List<Integer> channels = c.intList(CHANNELS, List.of(320, 640, 1280, 1280), MAX_LEVELS);
        int n = channels.size();
        List<DownBlockType> down = new ArrayList<>();
        for (String t : c.stringList("down_block_types",
                List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"))) {
            down.add(blockType(c, "down_block_types", t, DownBlockType.class));
        }
        List<UpBlockType> up = new ArrayList<>();
        for (String t : c.stringList("up_block_types",
                List.of("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"))) {
            up.add(blockType(c, "up_block_types", t, UpBlockType.class));
        }
        if (down.size() != up.size()) {
            throw c.error("up_block_types", "has " + up.size() + " entries but down_block_types has " + down.size());
        }
        if (channels.size() != down.size()) {
            throw c.error("block_out_channels", "has " + n + " entries but down_block_types has " + down.size());
        }
        List<Integer> layers = c.intOrList(LAYERS, 2, n);
        Attention attention = attention(c, n, layers);
        int c0 = channels.getFirst();
        Time time = new Time(
                c.bool("flip_sin_to_cos", true),
                c.number("freq_shift", 0),
                c.has("time_embedding_dim") ? c.integer(TIME_EMBEDDING_DIM, 0) : 4 * c0,
                optionalAct(c, "timestep_post_act"),
                optionalAct(c, "time_embedding_act_fn"),
                c.string("addition_embed_type", null),
                c.integer(ADDITION_TIME_EMBED_DIM, 0),
                c.integer(PROJECTION_INPUT_DIM, 0));
        if (!c.has("norm_num_groups") && c.node().has("norm_num_groups")) {
            throw c.error("norm_num_groups", "= null (no conv_norm_out, and resnets without GroupNorm) is not supported");
        }
        return new UNetConfig(
                c.integer(IN_CHANNELS, 4),
                c.integer(OUT_CHANNELS, 4),
                c.bool("center_input_sample", false),
                channels, down, up, layers,
                c.integer(DOWNSAMPLE_PADDING, 1),
                c.number("mid_block_scale_factor", 1),
                ActFn.parse("act_fn", c.string("act_fn", "silu")),
                c.integer(GROUPS, 32),
                c.number("norm_eps", 1e-5),
                c.integer(CONV_IN_KERNEL, 3),
                c.integer(CONV_OUT_KERNEL, 3),
                attention, time, sampleSize(c));
    }

    /** One-line refusals for the features unetlens does not implement, each naming its field. */
    private static void refuseUnsupported(JsonConfig c) {
        c.requireAbsentOr("mid_block_type", "UNetMidBlock2DCrossAttn");
        if (c.node().has("mid_block_type") && !c.has("mid_block_type")) {
            throw c.error("mid_block_type", "= null (a U-Net without mid block) is not supported");
        }
        c.requireAbsentOr("time_embedding_type", "positional");
        c.requireAbsentOr("class_embed_type", null);
        c.requireAbsentOr("num_class_embeds", null);
        c.requireAbsentOr("class_embeddings_concat", false);
        c.requireAbsentOr("encoder_hid_dim", null);
        c.requireAbsentOr("encoder_hid_dim_type", null);
        c.requireAbsentOr("dual_cross_attention", false);
        c.requireAbsentOr("resnet_time_scale_shift", "default");
        c.requireAbsentOr("attention_type", "default");
        c.requireAbsentOr("time_cond_proj_dim", null);
        JsonNode only = c.node().get("only_cross_attention");
        if (only != null && !only.isNull()) {
            boolean any = only.isArray() ? anyTrue(only) : !only.isBoolean() || only.asBoolean();
            if (any) {
                throw c.error("only_cross_attention", "= " + Messages.value(only)
                        + " is not supported by unetlens (only false)");
            }
            if (only.isArray() && only.size() != c.intList("block_out_channels", List.of(0, 0, 0, 0)).size()) {
                throw c.error("only_cross_attention", "must have one entry per block");
            }
        }
    }

    private static boolean anyTrue(JsonNode list) {
        for (JsonNode e : list) {
            if (!e.isBoolean() || e.asBoolean()) {
                return true;
            }
        }
        return false;
    }

    private static <E extends Enum<E>> E blockType(JsonConfig c, String field, String name, Class<E> type) {
        String plain = name.startsWith("UNetRes") ? name.substring(7) : name;   // diffusers strips this prefix
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(plain)) {
                return e;
            }
        }
        TreeSet<String> names = new TreeSet<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name());
        }
        throw c.error(field, Messages.quote(name) + " is not supported by unetlens (" + String.join(", ", names)
                + ")");
    }

    private static ActFn optionalAct(JsonConfig c, String field) {
        String v = c.string(field, null);
        return v == null ? null : ActFn.parse(field, v);
    }

    private static List<Integer> sampleSize(JsonConfig c) {
        JsonNode s = c.node().get("sample_size");
        if (s == null || s.isNull()) {
            return List.of();
        }
        if (!s.isArray()) {
            int size = c.toInt(SAMPLE_SIZE, s);
            return List.of(size, size);
        }
        if (s.size() != 2) {
            throw c.error("sample_size", "must be an integer or [height, width], got " + Messages.value(s));
        }
        return c.intList(SAMPLE_SIZE, List.of(), 2);
    }

    /**
     * The Transformer2DModel settings. {@code transformer_layers_per_block} is an int, one int per block, or (an
     * asymmetric U-Net) one list per block with a depth per layer, which diffusers only accepts together with
     * {@code reverse_transformer_layers_per_block} for the up blocks; without it the up blocks use the down list
     * reversed. The mid block uses the last entry (the first depth of a list).
     */
    private static Attention attention(JsonConfig c, int n, List<Integer> layers) {
        List<Integer> heads = c.intOrList(HEADS, 8, n);
        List<Integer> cross = c.intOrList(CROSS_ATTENTION_DIM, 1280, n);
        List<JsonNode> tl = perBlock(c, DEPTH.field(), n);
        JsonNode reverseNode = c.node().get("reverse_transformer_layers_per_block");
        boolean reverseGiven = reverseNode != null && !reverseNode.isNull();
        if (!reverseGiven && tl.stream().anyMatch(JsonNode::isArray)) {
            throw c.error("transformer_layers_per_block", "has per-layer lists; diffusers then requires"
                    + " reverse_transformer_layers_per_block for the up blocks");
        }
        List<JsonNode> reverse = reverseGiven ? perBlock(c, REVERSE_DEPTH.field(), n) : tl.reversed();
        Range upRange = reverseGiven ? REVERSE_DEPTH : DEPTH;
        List<List<Integer>> down = new ArrayList<>();
        List<List<Integer>> up = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            down.add(depths(c, DEPTH, tl.get(i), layers.get(i)));
            up.add(depths(c, upRange, reverse.get(i), layers.get(n - 1 - i) + 1));
        }
        int mid = depths(c, DEPTH, tl.getLast(), 1).getFirst();
        return new Attention(heads, cross, down, mid, up, c.bool("use_linear_projection", false),
                c.bool("upcast_attention", false));
    }

    /** An int (repeated) or a list with one entry per block, each entry an int or a list of ints. */
    private static List<JsonNode> perBlock(JsonConfig c, String field, int n) {
        JsonNode v = c.node().get(field);
        if (v == null || v.isNull()) {
            return Collections.nCopies(n, com.fasterxml.jackson.databind.node.IntNode.valueOf(1));
        }
        if (v.isNumber()) {
            return Collections.nCopies(n, v);
        }
        if (!v.isArray()) {
            throw c.error(field, "must be an integer or a list, got " + Messages.value(v));
        }
        if (v.size() != n) {
            throw c.error(field, "has " + v.size() + " entries, expected " + n + " (one per block)");
        }
        List<JsonNode> out = new ArrayList<>();
        v.forEach(out::add);
        return out;
    }

    /** One block's depths: an int for every layer, or a list with one depth per layer (diffusers uses a prefix). */
    private static List<Integer> depths(JsonConfig c, Range range, JsonNode entry, int layers) {
        if (!entry.isArray()) {
            return Collections.nCopies(layers, c.toInt(range, entry));
        }
        if (entry.size() < layers) {
            throw c.error(range.field(), "entry " + Messages.value(entry) + " has fewer depths than the block's "
                    + layers + " layers");
        }
        List<Integer> out = new ArrayList<>();
        for (int j = 0; j < layers; j++) {
            out.add(c.toInt(range, entry.get(j)));
        }
        return out;
    }
}
