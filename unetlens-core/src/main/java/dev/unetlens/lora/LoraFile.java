package dev.unetlens.lora;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorSource;
import dev.unetlens.io.WeightFiles;
import dev.unetlens.io.ldm.LdmComponent;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A LoRA file read into modules: groups of tensors that change one weight of one component. Two key layouts:
 * <ul>
 *   <li>kohya / A1111: {@code lora_unet_<module>.lora_down.weight}, {@code .lora_up.weight}, {@code .alpha} (and
 *       LyCORIS' {@code .lora_mid.weight}, {@code .hada_w1_a} …, {@code .diff}), the module path flattened with
 *       {@code _}; {@code lora_te_} (or {@code lora_te1_}) for the text encoder, {@code lora_te2_} for SDXL's
 *       second; U-Net modules in diffusers' naming (SD 1.x/2.x files) or LDM's (SDXL files);</li>
 *   <li>diffusers / PEFT: {@code unet.<module>.lora_A.weight} / {@code .lora_B.weight} (and the older
 *       {@code .lora.down.weight}, {@code processor.to_q_lora.down.weight},
 *       {@code lora_linear_layer.down.weight}), {@code text_encoder.} and {@code text_encoder_2.} for the text
 *       encoders; no alpha (scale 1) unless an {@code .alpha} tensor says otherwise.</li>
 * </ul>
 * Which model weight a module changes is decided against the model's names ({@link Resolver}).
 */
public final class LoraFile implements AutoCloseable {
    /** A module as the file names it: the component, its module name in the file's form, its tensors by part. */
    record Module(String key, LdmComponent component, String name, boolean flat, Map<String, String> parts) {
    }

    /** PEFT and diffusers part suffixes → the part's canonical name. */
    private static final String[][] DOTTED_PARTS = {
            {".lora_A.weight", "lora_down.weight"}, {".lora_B.weight", "lora_up.weight"},
            {".lora_A.default.weight", "lora_down.weight"}, {".lora_B.default.weight", "lora_up.weight"},
            {".lora.down.weight", "lora_down.weight"}, {".lora.up.weight", "lora_up.weight"},
            {".lora_linear_layer.down.weight", "lora_down.weight"}, {".lora_linear_layer.up.weight", "lora_up.weight"},
            {"_lora.down.weight", "lora_down.weight"}, {"_lora.up.weight", "lora_up.weight"},
            {".lora_magnitude_vector", "dora_scale"}, {".lora_magnitude_vector.default", "dora_scale"},
            {".alpha", "alpha"}};
    private static final String[][] KOHYA_PREFIXES = {
            {"lora_unet_", "UNET"}, {"lora_te1_", "TEXT_ENCODER"}, {"lora_te2_", "TEXT_ENCODER_2"},
            {"lora_te_", "TEXT_ENCODER"}};
    private static final String[][] DOTTED_PREFIXES = {
            {"unet.", "UNET"}, {"text_encoder_2.", "TEXT_ENCODER_2"}, {"text_encoder.", "TEXT_ENCODER"}};

    private final LoraSpec spec;
    private final TensorSource tensors;
    private final List<Module> modules;
    private final String format;
    private final PeftAlphas peftAlphas;

    private LoraFile(LoraSpec spec, TensorSource tensors, List<Module> modules, String format, PeftAlphas peftAlphas) {
        this.spec = spec;
        this.tensors = tensors;
        this.modules = modules;
        this.format = format;
        this.peftAlphas = peftAlphas;
    }

    /** Opens a LoRA file (safetensors, or a PyTorch file through the restricted reader) and groups its tensors. */
    public static LoraFile open(LoraSpec spec) {
        TensorSource t = WeightFiles.open(spec.file());
        try {
            Map<String, Module> byKey = new LinkedHashMap<>();
            boolean kohya = false;
            boolean dotted = false;
            for (String name : t.names()) {
                Module m = kohya(name);
                if (m != null) {
                    kohya = true;
                } else {
                    m = dotted(name);
                    dotted |= m != null;
                }
                if (m == null) {
                    throw new UnetlensException(spec.file() + ": tensor " + Messages.quote(name) + " is no part of a"
                            + " LoRA module in the kohya (lora_unet_…, lora_te_…) or diffusers/PEFT (unet.…lora_A…)"
                            + " layout; is this a LoRA file?");
                }
                Module old = byKey.get(m.key());
                if (old != null) {
                    if (old.parts().containsKey(m.parts().keySet().iterator().next())) {
                        throw new UnetlensException(spec.file() + ": module " + Messages.quote(m.key()) + " has its "
                                + m.parts().keySet().iterator().next() + " twice");
                    }
                    old.parts().putAll(m.parts());
                } else {
                    byKey.put(m.key(), m);
                }
            }
            if (byKey.isEmpty()) {
                throw new UnetlensException(spec.file() + ": the file holds no tensors, so no LoRA");
            }
            String format = kohya && dotted ? "kohya and diffusers/PEFT keys" : kohya ? "kohya (A1111)" : "diffusers/PEFT";
            Map<String, String> metadata = t instanceof SafetensorsFile s ? s.metadata() : Map.of();
            return new LoraFile(spec, t, List.copyOf(byKey.values()), format,
                    PeftAlphas.of(spec.file().toString(), metadata));
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /** {@code lora_unet_<flat>.<part>}: the module up to the first dot. */
    private static Module kohya(String name) {
        for (String[] p : KOHYA_PREFIXES) {
            if (name.startsWith(p[0])) {
                int dot = name.indexOf('.');
                if (dot < 0) {
                    return null;
                }
                String module = name.substring(0, dot);
                Map<String, String> parts = new LinkedHashMap<>();
                parts.put(name.substring(dot + 1), name);
                return new Module(module, LdmComponent.valueOf(p[1]), module.substring(p[0].length()), true, parts);
            }
        }
        return null;
    }

    /** {@code [unet.|text_encoder.|…]<module path>.<part>}, with the part one of {@link #DOTTED_PARTS}. */
    private static Module dotted(String name) {
        String rest = name.startsWith("base_model.model.") ? name.substring("base_model.model.".length()) : name;
        for (String[] part : DOTTED_PARTS) {
            if (!rest.endsWith(part[0])) {
                continue;
            }
            String module = rest.substring(0, rest.length() - part[0].length());
            LdmComponent component = null;
            for (String[] p : DOTTED_PREFIXES) {
                if (module.startsWith(p[0])) {
                    component = LdmComponent.valueOf(p[1]);
                    module = module.substring(p[0].length());
                    break;
                }
            }
            if (component == null) {
                component = module.startsWith("text_model.") ? LdmComponent.TEXT_ENCODER : LdmComponent.UNET;
            }
            module = processor(module);
            Map<String, String> parts = new LinkedHashMap<>();
            parts.put(part[1], name);
            return new Module(component + ":" + module, component, module, false, parts);
        }
        return null;
    }

    /** diffusers' attention-processor LoRA names ({@code attn1.processor.to_q}, {@code to_out}) → the layers. */
    private static String processor(String module) {
        int at = module.indexOf(".processor.");
        if (at < 0) {
            return module;
        }
        String layer = module.substring(at + ".processor.".length());
        return module.substring(0, at) + "." + (layer.equals("to_out") ? "to_out.0" : layer);
    }

    public LoraSpec spec() {
        return spec;
    }

    /** {@code kohya (A1111)} or {@code diffusers/PEFT}. */
    public String format() {
        return format;
    }

    List<Module> modules() {
        return modules;
    }

    TensorSource tensors() {
        return tensors;
    }

    /** The alphas a diffusers/PEFT file's metadata gives its modules. */
    PeftAlphas peftAlphas() {
        return peftAlphas;
    }

    /**
     * The hash A1111 records for the file ({@code Lora hashes}): the {@code sshs_model_hash} metadata when the file
     * has it, else, for a safetensors file, the SHA-256 of everything after its header (kohya's
     * {@code addnet_hash_safetensors}), else the SHA-256 of the file; hex.
     */
    public String a1111Hash() {
        if (tensors instanceof SafetensorsFile s) {
            String meta = s.metadata().get("sshs_model_hash");
            if (meta != null && meta.matches("[0-9a-fA-F]{8,64}")) {
                return meta.toLowerCase(java.util.Locale.ROOT);
            }
            return OutputDirectory.sha256(spec.file(), s.dataOffset());
        }
        return OutputDirectory.sha256(spec.file());
    }

    /** Modules of this file that no layer of the model takes, for messages. */
    static List<String> keys(List<Module> modules) {
        List<String> out = new ArrayList<>();
        modules.forEach(m -> out.add(m.key()));
        return out;
    }

    @Override
    public void close() {
        tensors.close();
    }
}
