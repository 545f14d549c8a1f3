package dev.unetlens.hook;

import dev.unetlens.UnetlensException;
import dev.unetlens.model.HookTable;
import dev.unetlens.pipeline.PromptEncoder;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The hook tables of a model's components, with the U-Net's WebUI block names: what a name or a selection
 * ({@link Selector}) resolves against, whatever component it names.
 */
public final class ModelHooks {
    private final Map<Component, HookTable> tables;
    private final BlockNames blocks;

    /**
     * @param tables each component's hook table (the U-Net's at least)
     * @param blocks the U-Net's block names
     */
    public ModelHooks(Map<Component, HookTable> tables, BlockNames blocks) {
        if (!tables.containsKey(Component.UNET)) {
            throw new IllegalArgumentException("a model's hooks include the U-Net's");
        }
        this.tables = Collections.unmodifiableMap(new EnumMap<>(tables));
        this.blocks = blocks;
    }

    /** The hooks of a loaded model: U-Net, text encoder(s), VAE. */
    public static ModelHooks of(StableDiffusion sd) {
        Map<Component, HookTable> t = new EnumMap<>(Component.class);
        t.put(Component.UNET, sd.unet().hooks());
        List<PromptEncoder.TextStack> stacks = sd.prompts().stacks();
        t.put(Component.TEXT_ENCODER, stacks.get(0).encoder().hooks());
        if (stacks.size() > 1) {
            t.put(Component.TEXT_ENCODER_2, stacks.get(1).encoder().hooks());
        }
        t.put(Component.VAE, sd.vae().hooks());
        return new ModelHooks(t, BlockNames.of(sd.unet().config()));
    }

    /** The components this model has, in {@link Component} order. */
    public Set<Component> components() {
        return tables.keySet();
    }

    /** The hook table of {@code c}; one line naming the model's components if it has no such part. */
    public HookTable table(Component c) {
        HookTable t = tables.get(c);
        if (t == null) {
            throw new UnetlensException("this model has no " + c + " (it has " + String.join(", ",
                    components().stream().map(Component::cliName).toList()) + ")");
        }
        return t;
    }

    public BlockNames blocks() {
        return blocks;
    }

    /** The point a path names; one line with the nearest valid names if there is none. */
    public HookTable.PointInfo point(ModulePath path) {
        return table(path.component()).find(path.value()).orElseThrow(() -> Selector.unknown(path, this));
    }

    /** The points {@code selection} names ({@link Selector}); names without a component are {@code fallback}'s. */
    public List<ModulePath> resolve(String selection, Component fallback) {
        return Selector.resolve(selection, this, fallback);
    }

    /** Every point of {@code c} (its root, which emits nothing, left out), as qualified paths in module-tree order. */
    public List<ModulePath> points(Component c) {
        List<ModulePath> out = new ArrayList<>();
        for (HookTable.PointInfo p : table(c).points()) {
            if (!p.name().isEmpty()) {
                out.add(new ModulePath(c, p.name()));
            }
        }
        return out;
    }
}
