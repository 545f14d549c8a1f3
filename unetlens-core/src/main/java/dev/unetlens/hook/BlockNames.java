package dev.unetlens.hook;

import dev.unetlens.UnetlensException;
import dev.unetlens.config.UNetConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The WebUI block names of Dump U-Net ({@code IN00}…, {@code M00}, {@code OUT00}…): the original LDM U-Net's
 * {@code input_blocks}, {@code middle_block} and {@code output_blocks}, each mapped to the diffusers module whose
 * output equals that block's output — the same correspondence diffusers uses to convert original checkpoints
 * ({@code convert_ldm_unet_checkpoint}), derived from the model's config:
 *
 * <ul>
 *   <li>{@code IN00} = {@code conv_in}; then for each down block i, one name per layer j: its attention
 *       ({@code down_blocks.i.attentions.j}) if the block has attention, else its resnet; then, except in the last
 *       block, one for its downsampler ({@code down_blocks.i.downsamplers.0});</li>
 *   <li>{@code M00} = {@code mid_block};</li>
 *   <li>for each up block i, one name per layer j: its attention or resnet, except that the block's last layer,
 *       which in LDM ends with the upsampler, is {@code up_blocks.i.upsamplers.0} when the block has one.</li>
 * </ul>
 * SD 1.x/2.x have IN00–IN11, M00, OUT00–OUT11; SDXL IN00–IN08, M00, OUT00–OUT08. The order IN…, M00, OUT… is the
 * order of ranges ({@code IN11-OUT00} includes {@code M00}).
 */
public final class BlockNames {
    private final Map<String, String> toModule;      // IN00 → conv_in, in block order
    private final Map<String, String> toName = new HashMap<>();
    private final List<String> order;

    private BlockNames(Map<String, String> toModule) {
        this.toModule = Collections.unmodifiableMap(toModule);
        this.order = List.copyOf(toModule.keySet());
        toModule.forEach((name, module) -> toName.put(module, name));
    }

    /** The names of a U-Net with this config. */
    public static BlockNames of(UNetConfig c) {
        Map<String, String> m = new LinkedHashMap<>();
        int in = 0;
        m.put(name("IN", in++), "conv_in");
        int levels = c.levels();
        for (int i = 0; i < levels; i++) {
            boolean attn = c.downBlockTypes().get(i) == UNetConfig.DownBlockType.CrossAttnDownBlock2D;
            for (int j = 0; j < c.layersPerBlock().get(i); j++) {
                m.put(name("IN", in++), "down_blocks." + i + (attn ? ".attentions." : ".resnets.") + j);
            }
            if (i < levels - 1) {
                m.put(name("IN", in++), "down_blocks." + i + ".downsamplers.0");
            }
        }
        m.put("M00", "mid_block");
        int out = 0;
        for (int i = 0; i < levels; i++) {
            boolean attn = c.upBlockTypes().get(i) == UNetConfig.UpBlockType.CrossAttnUpBlock2D;
            int layers = c.upLayers(i);
            for (int j = 0; j < layers; j++) {
                boolean upsampled = j == layers - 1 && i < levels - 1;
                m.put(name("OUT", out++), upsampled ? "up_blocks." + i + ".upsamplers.0"
                        : "up_blocks." + i + (attn ? ".attentions." : ".resnets.") + j);
            }
        }
        return new BlockNames(m);
    }

    private static String name(String prefix, int k) {
        return prefix + String.format(Locale.ROOT, "%02d", k);
    }

    /** Every name, in block order (IN…, M00, OUT…). */
    public List<String> names() {
        return order;
    }

    /** Whether {@code text} looks like a WebUI block name (IN07, m00, OUT11), whether or not this model has it. */
    public static boolean isBlockName(String text) {
        return text.strip().toUpperCase(Locale.ROOT).matches("(IN|OUT)\\d{1,2}|M0{0,2}");
    }

    /** The module of a block name (case-insensitive), if this model has that block. */
    public Optional<String> module(String blockName) {
        return Optional.ofNullable(toModule.get(canonical(blockName)));
    }

    /** The block name of a module path, if it is one of the blocks. */
    public Optional<String> blockName(String modulePath) {
        return Optional.ofNullable(toName.get(modulePath));
    }

    /** The blocks from {@code from} to {@code to}, both included, taking every {@code stride}-th. */
    public List<String> range(String from, String to, int stride) {
        int a = index(from);
        int b = index(to);
        if (stride < 1) {
            throw new UnetlensException("block range step must be (+1) or more, got (+" + stride + ")");
        }
        if (b < a) {
            throw new UnetlensException("block range " + canonical(from) + "-" + canonical(to)
                    + " runs backwards; blocks go IN00…" + order.get(order.indexOf("M00") - 1) + ", M00, OUT00…" + order.getLast());
        }
        List<String> out = new ArrayList<>();
        for (int k = a; k <= b; k += stride) {
            out.add(order.get(k));
        }
        return out;
    }

    private int index(String blockName) {
        String c = canonical(blockName);
        int k = order.indexOf(c);
        if (k < 0) {
            throw new UnetlensException("unknown block '" + blockName.strip() + "'; this model has "
                    + order.getFirst() + "–" + order.get(order.indexOf("M00") - 1) + ", M00, OUT00–" + order.getLast());
        }
        return k;
    }

    /** IN7 → IN07, m00 → M00. */
    static String canonical(String blockName) {
        String s = blockName.strip().toUpperCase(Locale.ROOT);
        if (s.matches("M0{0,2}")) {
            return "M00";
        }
        if (s.matches("(IN|OUT)\\d")) {
            return s.substring(0, s.length() - 1) + "0" + s.charAt(s.length() - 1);
        }
        return s;
    }
}
