package dev.unetlens.io.ldm;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import dev.unetlens.io.WeightFiles;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One Stable Diffusion checkpoint file in the original LDM/CompVis naming (SD 1.x, SD 2.x, SDXL base or refiner),
 * seen as diffusers components: {@link #component} gives the U-Net, VAE and text encoders as {@link TensorSource}s
 * with exactly the diffusers / transformers keys and shapes that diffusers v0.27.2's single-file loader produces
 * ({@link UnetKeyMap}, {@link VaeKeyMap}, {@link ClipKeyMap}, {@link OpenClipKeyMap}), so that
 * {@code AutoencoderKL.load(ckpt.component(VAE), config, manager)} works as on a diffusers folder.
 *
 * <p>Every tensor of the file ends up in exactly one place: mapped into a component; {@link #ignored()}, a known
 * extra that diffusers does not load either (EMA copies, LDM's schedule buffers, {@code position_ids},
 * {@code logit_scale}, SD 2.x's dropped last text layer, ...); or {@link #unrecognized()}, kept under its LDM name
 * in its component's view (the U-Net's for keys outside every component) so that {@code Weights.verify()} names it.
 *
 * <p>The file is a {@code .safetensors} file or a PyTorch checkpoint ({@code .ckpt}, {@code .pt}, {@code .bin}), told
 * by its bytes ({@link WeightFiles}); a checkpoint is read by the restricted pickle reader, which runs no code and
 * unwraps {@code state_dict} as A1111 does ({@link dev.unetlens.io.pickle.TorchCheckpoint}). Owns the memory map
 * and the native arena of the computed tensors; the component views are valid until {@link #close()}.
 */
public final class SingleFileCheckpoint implements AutoCloseable {
    private final Path path;
    private final TensorSource raw;
    private final TensorSource file;
    private final Arena arena;
    private final List<String> notes = new ArrayList<>();
    private final LdmFamily family;
    private final Map<String, long[]> shapes;
    private final Map<LdmComponent, RemappedSource> components = new EnumMap<>(LdmComponent.class);
    private final Map<String, String> ignored = new LinkedHashMap<>();
    private final List<String> unrecognized = new ArrayList<>();

    private SingleFileCheckpoint(Path path, TensorSource raw, boolean ema, Arena arena) {
        this.path = path;
        this.raw = raw;
        this.file = weights(raw, ema);
        this.arena = arena;
        Map<String, long[]> s = new LinkedHashMap<>();
        for (String name : file.names()) {
            s.put(name, file.info(name).orElseThrow().shape());
        }
        this.shapes = Collections.unmodifiableMap(s);
        this.family = LdmFamily.detect(shapes, path.toString());
        split();
    }

    /**
     * Opens a single-file checkpoint; fails with one line for a file that is neither valid safetensors nor a PyTorch
     * checkpoint the restricted reader accepts, or one that is not a Stable Diffusion checkpoint in LDM naming.
     */
    public static SingleFileCheckpoint open(Path path) {
        return open(path, false);
    }

    /**
     * {@link #open(Path)}, with the U-Net's EMA weights ({@code model_ema.*}) in place of the trained ones when
     * {@code ema} (diffusers' {@code extract_ema}); by default they are left out, as A1111 and diffusers leave them.
     */
    public static SingleFileCheckpoint open(Path path, boolean ema) {
        TensorSource file = WeightFiles.open(path);
        Arena arena = Arena.ofShared();
        try {
            return new SingleFileCheckpoint(path, file, ema, arena);
        } catch (RuntimeException e) {
            arena.close();
            file.close();
            throw e;
        }
    }

    /** The file's tensors as the components read them: as stored, or with the EMA U-Net; notes say which. */
    private TensorSource weights(TensorSource raw, boolean ema) {
        if (raw instanceof dev.unetlens.io.pickle.TorchCheckpoint t) {
            notes.add("a PyTorch " + t.layout() + " checkpoint read by the restricted pickle reader; weights from "
                    + (t.wrapper().isEmpty() ? "its top-level dict" : "'" + String.join(".", t.wrapper()) + "'")
                    + (t.skipped().isEmpty() ? "" : "; " + t.skipped().size() + " non-tensor entries left out")
                    + (t.keyNote() == null ? "" : "; " + t.keyNote()));
        }
        int copies = EmaWeights.count(raw);
        if (ema && copies == 0) {
            throw new UnetlensException(path + ": the checkpoint has no EMA weights (" + EmaWeights.PREFIX
                    + "diffusion_model*) to use");
        }
        if (copies > 0) {
            notes.add(ema ? "the EMA weights of " + copies + " U-Net tensors (" + EmaWeights.PREFIX + "*) are used in"
                    + " place of the trained ones, as diffusers' extract_ema"
                    : "the file also holds EMA weights of " + copies + " U-Net tensors (" + EmaWeights.PREFIX
                    + "*); the trained weights are used, as A1111 and diffusers use them");
        }
        return ema ? EmaWeights.use(raw) : raw;
    }

    /** Sorts every file key into its component (mapped there), the known extras, or the unrecognized keys. */
    private void split() {
        Map<LdmComponent, Map<String, TensorInfo>> parts = new EnumMap<>(LdmComponent.class);
        List<String> unclaimed = new ArrayList<>();
        for (String name : file.names()) {
            TensorInfo t = file.info(name).orElseThrow();
            LdmComponent c = componentOf(t.name());
            if (c != null) {
                parts.computeIfAbsent(c, x -> new LinkedHashMap<>())
                        .put(t.name().substring(family.prefix(c).length()), t);
            } else {
                Optional<String> reason = LdmExtras.reason(t.name());
                if (reason.isPresent()) {
                    ignored.put(t.name(), reason.get());
                } else {
                    unclaimed.add(t.name());
                }
            }
        }
        for (Map.Entry<LdmComponent, Map<String, TensorInfo>> part : parts.entrySet()) {
            LdmComponent c = part.getKey();
            RemappedSource.Builder b = new RemappedSource.Builder(file, family.prefix(c),
                    path + " [" + c + ": " + family.prefix(c) + "*]", arena, ignored, unrecognized);
            Map<String, TensorInfo> keys = part.getValue();
            switch (c) {
                case UNET -> {
                    UnetKeyMap.map(keys, family.isXl(), b);
                    unclaimed.forEach(b::unclaimed);
                }
                case VAE -> VaeKeyMap.map(keys, b);
                case TEXT_ENCODER -> {
                    if (family == LdmFamily.SD2) {
                        OpenClipKeyMap.map(keys, false, true, b);
                    } else {
                        ClipKeyMap.map(keys, b);
                    }
                }
                case TEXT_ENCODER_2 -> OpenClipKeyMap.map(keys, true, false, b);
            }
            components.put(c, b.build());
        }
    }

    private LdmComponent componentOf(String key) {
        for (LdmComponent c : LdmComponent.values()) {
            String prefix = family.prefix(c);
            if (prefix != null && key.startsWith(prefix)) {
                return c;
            }
        }
        return null;
    }

    public Path path() {
        return path;
    }

    /** Every tensor of the file under its stored (LDM) name, valid until this checkpoint closes. */
    public TensorSource file() {
        return raw;
    }

    /** How the file was read, one line each: the pickle reader's wrapper, which of its U-Net weights are used. */
    public List<String> notes() {
        return List.copyOf(notes);
    }

    public LdmFamily family() {
        return family;
    }

    /** The components this file holds, in {@link LdmComponent} order. */
    public Set<LdmComponent> components() {
        return Collections.unmodifiableSet(components.keySet());
    }

    public boolean has(LdmComponent c) {
        return components.containsKey(c);
    }

    /** A component under its diffusers names; valid until this checkpoint closes (closing it does nothing). */
    public TensorSource component(LdmComponent c) {
        RemappedSource s = components.get(c);
        if (s == null) {
            String prefix = family.prefix(c);
            throw new UnetlensException(path + ": this " + family.label() + " checkpoint has no " + c
                    + (prefix == null ? " (the family has none)" : " (no " + prefix + "* keys)"));
        }
        return s;
    }

    /** The LDM key prefix of a component in this file's family, or null if the family has none. */
    public String prefix(LdmComponent c) {
        return family.prefix(c);
    }

    /** The file key a component tensor is read or computed from. */
    public String fileKey(LdmComponent c, String name) {
        return ((RemappedSource) component(c)).fileKey(name);
    }

    /** Every stored key with its shape, in file order. */
    public Map<String, long[]> shapes() {
        return shapes;
    }

    /** Known extras left out of every component, file key → why diffusers does not load it, in file order. */
    public Map<String, String> ignored() {
        return Collections.unmodifiableMap(ignored);
    }

    /** File keys that no mapping rule takes, in file order; each sits in a component view under its LDM name. */
    public List<String> unrecognized() {
        return Collections.unmodifiableList(unrecognized);
    }

    /** The diffusers configs of every component, inferred with {@code options} (see {@link ConfigInference}). */
    public CheckpointConfigs inferConfigs(InferOptions options) {
        return ConfigInference.infer(family, shapes, path.toString(), options);
    }

    /** {@link #inferConfigs(InferOptions)} with diffusers' rule for every setting the weights do not record. */
    public CheckpointConfigs inferConfigs() {
        return inferConfigs(InferOptions.DIFFUSERS_DEFAULTS);
    }

    @Override
    public void close() {
        arena.close();
        raw.close();
    }
}
