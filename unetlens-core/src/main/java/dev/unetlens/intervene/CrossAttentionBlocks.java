package dev.unetlens.intervene;

import dev.unetlens.hook.BlockNames;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.unet.UNet2DConditionModel;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cross-attention modules ({@code …attn2}) inside each WebUI block — the ones a per-block prompt reaches. A
 * block is one of LDM's {@code input_blocks} / {@code middle_block} / {@code output_blocks}, so it holds:
 * <ul>
 *   <li>{@code down_blocks.i.attentions.j} (IN blocks of cross-attention down blocks): that transformer's
 *       {@code attn2}s;</li>
 *   <li>M00: every {@code mid_block.attentions.*} transformer's;</li>
 *   <li>{@code up_blocks.i.attentions.j} and, for the block that ends with an upsampler ({@code up_blocks.i.upsamplers.0}
 *       in {@link BlockNames}), the up block's last attention {@code up_blocks.i.attentions.(L−1)}: that one's.</li>
 * </ul>
 * IN00 ({@code conv_in}), the blocks of resnet-only levels and the downsampler blocks have no cross-attention: a
 * per-block prompt there changes nothing. Every {@code attn2} of the U-Net belongs to exactly one block.
 */
public final class CrossAttentionBlocks {
    private static final Pattern UPSAMPLER = Pattern.compile("up_blocks\\.(\\d+)\\.upsamplers\\.0");

    private CrossAttentionBlocks() {
    }

    /** Block name → its {@code attn2} module paths in firing order (empty for blocks without cross-attention). */
    public static Map<String, List<String>> of(UNet2DConditionModel unet) {
        BlockNames names = BlockNames.of(unet.config());
        List<String> attn2 = unet.hooks().points().stream().filter(HookTable.PointInfo::output)
                .map(HookTable.PointInfo::name).filter(n -> n.endsWith(".attn2")).toList();
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String block : names.names()) {
            String module = names.module(block).orElseThrow();
            String prefix = prefix(unet, module);
            List<String> mine = new ArrayList<>();
            if (prefix != null) {
                for (String a : attn2) {
                    if (a.startsWith(prefix)) {
                        mine.add(a);
                    }
                }
            }
            out.put(block, List.copyOf(mine));
        }
        return Collections.unmodifiableMap(out);
    }

    /** The path prefix under which a block's transformers live, or null for a block without any. */
    private static String prefix(UNet2DConditionModel unet, String module) {
        if (module.matches("(down|up)_blocks\\.\\d+\\.attentions\\.\\d+")) {
            return module + ".";
        }
        if (module.equals("mid_block")) {
            return "mid_block.attentions.";
        }
        Matcher up = UPSAMPLER.matcher(module);
        if (up.matches()) {
            int i = Integer.parseInt(up.group(1));
            String last = "up_blocks." + i + ".attentions." + (unet.config().upLayers(i) - 1);
            return unet.hooks().find(last).isPresent() ? last + "." : null;
        }
        return null;
    }
}
