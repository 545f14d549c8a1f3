package dev.unetlens.hook;

import dev.unetlens.model.HookTable;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The modules of Loos &amp; Linhardt's experiments ("Latent Diffusion U-Net Representations Contain Positional
 * Embeddings and Anomalies", {@code run_experiments.py}'s {@code sd15_all_blocks}), derived from a U-Net's module tree
 * so that any model gets its own list: {@code conv_in}; for each down block its resnets and attentions in forward order
 * ({@code resnets.0, attentions.0, resnets.1, …}) and its downsampler; the mid block's resnets and attentions in the
 * same order; for each up block its resnets and attentions and its upsampler; {@code conv_out}. SD 1.x/2.x have 46:
 * the paper's script lists 45, leaving out {@code up_blocks[0].resnets[2]} (up blocks have layers + 1 resnets), which
 * this rule keeps. {@code --at paper} selects them ({@link Selector}).
 */
public final class PaperModules {
    /** The word {@code --at} takes for this list. */
    public static final String NAME = "paper";
    private static final Pattern BLOCK = Pattern.compile(
            "(down_blocks|up_blocks)\\.(\\d+)\\.(resnets|attentions|downsamplers|upsamplers)\\.(\\d+)");
    private static final Pattern MID = Pattern.compile("mid_block\\.(resnets|attentions)\\.(\\d+)");

    private PaperModules() {
    }

    /** Where a module stands in the forward order: section, block, layer, kind (resnet before attention). */
    private record Key(String name, int section, int block, int layer, int kind) {
    }

    /** The list for the U-Net whose hook table this is, in forward order. */
    public static List<String> of(HookTable table) {
        List<Key> keys = new ArrayList<>();
        for (HookTable.PointInfo p : table.points()) {
            if (p.output()) {
                Key k = key(p.name());
                if (k != null) {
                    keys.add(k);
                }
            }
        }
        keys.sort(Comparator.comparingInt(Key::section).thenComparingInt(Key::block).thenComparingInt(Key::layer)
                .thenComparingInt(Key::kind));
        return keys.stream().map(Key::name).toList();
    }

    private static Key key(String name) {
        if (name.equals("conv_in")) {
            return new Key(name, 0, 0, 0, 0);
        }
        if (name.equals("conv_out")) {
            return new Key(name, 4, 0, 0, 0);
        }
        Matcher m = MID.matcher(name);
        if (m.matches()) {
            return new Key(name, 2, 0, Integer.parseInt(m.group(2)), m.group(1).equals("resnets") ? 0 : 1);
        }
        m = BLOCK.matcher(name);
        if (!m.matches()) {
            return null;
        }
        int section = m.group(1).equals("down_blocks") ? 1 : 3;
        int block = Integer.parseInt(m.group(2));
        return switch (m.group(3)) {
            case "resnets" -> new Key(name, section, block, Integer.parseInt(m.group(4)), 0);
            case "attentions" -> new Key(name, section, block, Integer.parseInt(m.group(4)), 1);
            default -> new Key(name, section, block, Integer.MAX_VALUE, Integer.parseInt(m.group(4)));   // samplers last
        };
    }

    /** The paper's reference module of the anomaly experiment: up block 1's upsampler, if the model has one. */
    public static java.util.Optional<String> reference(HookTable table) {
        String ref = "up_blocks.1.upsamplers.0";
        return table.find(ref).isPresent() ? java.util.Optional.of(ref) : java.util.Optional.empty();
    }

    /**
     * A short label for plots, as the paper's figure writes layers under blocks: {@code dn1 attn0}, {@code mid res1},
     * {@code up2 up}, {@code conv_in}.
     */
    public static String shortLabel(String module) {
        if (module.equals("conv_in") || module.equals("conv_out")) {
            return module;
        }
        Matcher m = MID.matcher(module);
        if (m.matches()) {
            return "mid " + kindLabel(m.group(1)) + m.group(2);
        }
        m = BLOCK.matcher(module);
        if (m.matches()) {
            String block = (m.group(1).equals("down_blocks") ? "dn" : "up") + m.group(2);
            String kind = kindLabel(m.group(3));
            return block + " " + (m.group(3).endsWith("samplers") ? kind : kind + m.group(4));
        }
        return module;
    }

    private static String kindLabel(String children) {
        return switch (children) {
            case "resnets" -> "res";
            case "attentions" -> "attn";
            case "downsamplers" -> "down";
            case "upsamplers" -> "up";
            default -> children;
        };
    }
}
