package dev.unetlens.hook;

import dev.unetlens.UnetlensException;
import dev.unetlens.model.HookTable;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Parses what a user names to extract or edit into hook-point names, by a grammar (never evaluated):
 *
 * <pre>
 * selection := item (',' item)*
 * item      := block '-' block ('(+' int ')')?      a range of WebUI blocks, both ends included, every k-th
 *            | block                                 IN00 … IN11, M00, OUT00 … OUT11 (model-dependent)
 *            | 'paper'                               the anomaly paper's modules of this U-Net ({@link PaperModules})
 *            | path                                  a module path, dotted or with brackets: down_blocks[1].attentions[0]
 *            | component ':' path                    another component's: text_encoder:text_model.encoder.layers[3],
 *                                                    vae:decoder.up_blocks.0 ({@link ModulePath})
 * </pre>
 * Block names are the U-Net's and resolve through {@link BlockNames}; paths through their component's hook table.
 * Unknown names fail with one line that lists the nearest valid names. The result keeps the order given, without
 * duplicates.
 */
public final class Selector {
    private static final Pattern RANGE = Pattern.compile(
            "\\s*([A-Za-z]+\\d+)\\s*-\\s*([A-Za-z]+\\d+)\\s*(?:\\(\\s*\\+\\s*(\\d+)\\s*\\))?\\s*");

    private Selector() {
    }

    /** The hook-point names {@code text} selects in {@code table} (a U-Net's, with its block names). */
    public static List<String> resolve(String text, HookTable table, BlockNames blocks) {
        ModelHooks unet = new ModelHooks(java.util.Map.of(Component.UNET, table), blocks);
        return resolve(text, unet, Component.UNET).stream().map(ModulePath::value).toList();
    }

    /**
     * The points {@code text} selects in a model: block names and ranges are the U-Net's; a path names its
     * component ({@code vae:decoder.up_blocks.0}) or is {@code fallback}'s.
     */
    public static List<ModulePath> resolve(String text, ModelHooks hooks, Component fallback) {
        if (text == null || text.isBlank()) {
            throw new UnetlensException("empty module selection; name modules like IN05, mid_block, down_blocks[1]"
                    + " or text_encoder:text_model.encoder.layers.0");
        }
        Set<ModulePath> out = new LinkedHashSet<>();
        for (String item : text.split(",")) {
            if (item.isBlank()) {
                throw new UnetlensException("empty entry in module selection '" + text + "'");
            }
            out.addAll(resolveItem(item, hooks, fallback));
        }
        return List.copyOf(out);
    }

    /** The block names (not modules) a WebUI selection names, for layer prompts: IN00-OUT11(+2), M00, ... */
    public static List<String> blocks(String text, BlockNames blocks) {
        Set<String> out = new LinkedHashSet<>();
        for (String item : text.split(",")) {
            Matcher r = RANGE.matcher(item);
            if (r.matches() && BlockNames.isBlockName(r.group(1)) && BlockNames.isBlockName(r.group(2))) {
                out.addAll(blocks.range(r.group(1), r.group(2), r.group(3) == null ? 1 : Integer.parseInt(r.group(3))));
            } else if (BlockNames.isBlockName(item)) {
                String c = BlockNames.canonical(item);
                blocks.module(c).orElseThrow(() -> unknownBlock(item, blocks));
                out.add(c);
            } else {
                throw new UnetlensException("'" + item.strip() + "' is not a block name or range (IN00, M00, OUT11, IN00-OUT11(+2))");
            }
        }
        return List.copyOf(out);
    }

    private static List<ModulePath> resolveItem(String item, ModelHooks hooks, Component fallback) {
        BlockNames blocks = hooks.blocks();
        Matcher r = RANGE.matcher(item);
        if (r.matches() && BlockNames.isBlockName(r.group(1)) && BlockNames.isBlockName(r.group(2))) {
            int stride = r.group(3) == null ? 1 : Integer.parseInt(r.group(3));
            return blocks.range(r.group(1), r.group(2), stride).stream()
                    .map(b -> new ModulePath(blocks.module(b).orElseThrow())).toList();
        }
        if (BlockNames.isBlockName(item)) {
            return List.of(new ModulePath(blocks.module(item).orElseThrow(() -> unknownBlock(item, blocks))));
        }
        if (item.strip().equalsIgnoreCase(PaperModules.NAME)) {
            return PaperModules.of(hooks.table(Component.UNET)).stream().map(ModulePath::new).toList();
        }
        ModulePath path = ModulePath.parse(item, fallback);
        hooks.point(path);
        return List.of(path);
    }

    private static UnetlensException unknownBlock(String item, BlockNames blocks) {
        List<String> names = blocks.names();
        return new UnetlensException("unknown block '" + item.strip() + "'; this model has " + names.getFirst() + "–"
                + names.get(names.indexOf("M00") - 1) + ", M00, OUT00–" + names.getLast());
    }

    /**
     * An unknown name, with the three nearest valid ones: by their paths in any component (a name given without its
     * component finds it), written as qualified names, and the U-Net's block names.
     */
    static UnetlensException unknown(ModulePath path, ModelHooks hooks) {
        String name = path.value();
        record Candidate(String value, String written) {
        }
        Stream<Candidate> blockNames = hooks.blocks().names().stream().map(b -> new Candidate(b, b));
        Stream<Candidate> points = hooks.components().stream().flatMap(c -> hooks.points(c).stream())
                .map(p -> new Candidate(p.value(), p.qualified()));
        List<String> nearest = Stream.concat(blockNames, points)
                .sorted(Comparator.comparingInt((Candidate n) -> HookRegistry.Levenshtein.distance(name, n.value()))
                        .thenComparing(Candidate::written))
                .map(Candidate::written).distinct().limit(3).toList();
        String inspect = path.component() == Component.UNET ? "'unetlens inspect'"
                : "'unetlens inspect --component " + path.component() + "'";
        return new UnetlensException("unknown module '" + path.qualified() + "'; nearest valid names: "
                + String.join(", ", nearest) + " (list them all with " + inspect + ")");
    }

    /** Every name a user may write for this U-Net: block names, then module paths. */
    public static List<String> allNames(HookTable table, BlockNames blocks) {
        List<String> out = new ArrayList<>(blocks.names());
        table.points().stream().map(HookTable.PointInfo::name).filter(n -> !n.isEmpty()).forEach(out::add);
        return out;
    }
}
