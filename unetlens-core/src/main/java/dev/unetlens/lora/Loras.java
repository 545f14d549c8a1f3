package dev.unetlens.lora;

import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.TensorSource;
import dev.unetlens.io.ldm.DiffusersToLdm;
import dev.unetlens.io.ldm.LdmComponent;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * LoRA files merged into a model as it loads ({@code --lora FILE[:SCALE]}, repeatable): each component's weights
 * are {@link #apply wrapped} so that the tensors a LoRA changes read as W + Σ scale · ΔW ({@link Deltas}); then
 * {@link #finish} fails in one line if any module of any file changed nothing (a LoRA for another model family, a
 * component the model lacks). Which weight a module changes is found by name against the model's own keys: kohya's
 * flattened names match a weight's diffusers path with {@code _} for {@code .}, or, for the U-Net, its LDM path
 * (SDXL LoRAs name LDM modules); diffusers/PEFT names match the path itself.
 */
public final class Loras implements AutoCloseable {
    /**
     * What one file changed, for manifests and A1111's PNG parameters.
     *
     * @param spec      the file and scale
     * @param format    {@code kohya (A1111)} or {@code diffusers/PEFT}
     * @param a1111Hash the hash A1111's {@code Lora hashes} field shortens to 12 characters
     * @param modules   how many modules changed each component ({@code unet}, {@code text_encoder} …)
     * @param kinds     how many modules of each kind ({@code lora}, {@code loha}, {@code full})
     */
    public record Applied(LoraSpec spec, String format, String a1111Hash, Map<String, Integer> modules,
                          Map<String, Integer> kinds) {
    }

    private final List<LoraFile> files;
    private final Map<LoraFile, Set<LoraFile.Module>> unused = new LinkedHashMap<>();
    private final Map<LoraFile, Map<String, Integer>> perComponent = new LinkedHashMap<>();
    private final List<MergedSource> made = new ArrayList<>();

    private Loras(List<LoraFile> files) {
        this.files = files;
        files.forEach(f -> {
            unused.put(f, new java.util.LinkedHashSet<>(f.modules()));
            perComponent.put(f, new TreeMap<>());
        });
    }

    /** No LoRA. */
    public static Loras none() {
        return new Loras(List.of());
    }

    /** Opens every file and checks that each module is of a kind unetlens merges, before any model is loaded. */
    public static Loras open(List<LoraSpec> specs) {
        List<LoraFile> files = new ArrayList<>();
        try {
            for (LoraSpec s : specs) {
                LoraFile f = LoraFile.open(s);
                files.add(f);
                f.modules().forEach(m -> Deltas.kind(f, m));
            }
            return new Loras(List.copyOf(files));
        } catch (RuntimeException e) {
            files.forEach(LoraFile::close);
            throw e;
        }
    }

    public boolean isEmpty() {
        return files.isEmpty();
    }

    /** {@code base} (a component's weights under diffusers names) with every module for {@code component} merged. */
    public TensorSource apply(LdmComponent component, TensorSource base) {
        if (files.isEmpty()) {
            return base;
        }
        Resolver names = new Resolver(component, base.names());
        Map<String, List<MergedSource.Change>> changes = new LinkedHashMap<>();
        for (LoraFile f : files) {
            Set<String> taken = new HashSet<>();
            for (LoraFile.Module m : f.modules()) {
                if (m.component() != component) {
                    continue;
                }
                String weight = names.target(m, f);
                if (weight == null) {
                    continue;
                }
                for (Map.Entry<String, String> t : Deltas.targets(m, weight).entrySet()) {
                    if (base.info(t.getValue()).isEmpty()) {
                        throw new UnetlensException(f.spec().file() + ": module " + Messages.quote(m.key())
                                + " changes " + Messages.quote(t.getValue()) + ", which the model does not have");
                    }
                    if (!taken.add(t.getValue())) {
                        throw new UnetlensException(f.spec().file() + ": two modules change " + component + " "
                                + Messages.quote(t.getValue()) + " (" + Messages.quote(m.key()) + " is one)");
                    }
                    changes.computeIfAbsent(t.getValue(), k -> new ArrayList<>())
                            .add(new MergedSource.Change(f, m, t.getKey(), f.spec().scale()));
                }
                unused.get(f).remove(m);
                perComponent.get(f).merge(component.folder(), 1, Integer::sum);
            }
        }
        if (changes.isEmpty()) {
            return base;
        }
        MergedSource merged = new MergedSource(base, changes);
        made.add(merged);
        return merged;
    }

    /** Fails in one line naming the file if a module of it changed nothing in the components applied. */
    public void finish() {
        for (Map.Entry<LoraFile, Set<LoraFile.Module>> e : unused.entrySet()) {
            Set<LoraFile.Module> left = e.getValue();
            if (!left.isEmpty()) {
                LoraFile f = e.getKey();
                LoraFile.Module first = left.iterator().next();
                throw new UnetlensException(f.spec().file() + ": " + left.size() + " of " + f.modules().size()
                        + " LoRA modules match no layer of this model (" + Messages.quote(first.key()) + ", "
                        + first.component() + (left.size() > 1 ? ", …" : "") + "); is the LoRA for another model"
                        + " family (SD 1.x, SD 2.x, SDXL)?");
            }
        }
    }

    /** What each file changed, in the order given. */
    public List<Applied> applied() {
        List<Applied> out = new ArrayList<>();
        for (LoraFile f : files) {
            Map<String, Integer> kinds = new TreeMap<>();
            f.modules().forEach(m -> kinds.merge(Deltas.kind(f, m), 1, Integer::sum));
            out.add(new Applied(f.spec(), f.format(), f.a1111Hash(), Map.copyOf(perComponent.get(f)), Map.copyOf(kinds)));
        }
        return out;
    }

    /** Frees merged tensors not yet released and closes the files; the wrapped sources become unusable. */
    @Override
    public void close() {
        made.forEach(MergedSource::close);
        files.forEach(LoraFile::close);
    }

    /** A component's weight names as LoRA files spell their modules. */
    private static final class Resolver {
        private final Set<String> keys;
        private final Map<String, List<String>> flat = new HashMap<>();

        Resolver(LdmComponent component, Collection<String> names) {
            this.keys = new HashSet<>(names);
            for (String k : names) {
                if (k.endsWith(".weight")) {
                    add(k.substring(0, k.length() - 7), k);
                }
            }
            if (component == LdmComponent.UNET) {
                Map<String, String> ldm;
                try {
                    ldm = DiffusersToLdm.unet(names);
                } catch (UnetlensException e) {
                    return;   // a U-Net with keys outside diffusers' layout: only its diffusers names match
                }
                ldm.forEach((k, l) -> {
                    if (k.endsWith(".weight") && l.endsWith(".weight")) {
                        add(l.substring(0, l.length() - 7), k);
                    }
                });
            }
        }

        private void add(String module, String key) {
            List<String> list = flat.computeIfAbsent(module.replace('.', '_'), x -> new ArrayList<>());
            if (!list.contains(key)) {
                list.add(key);
            }
        }

        /** The weight key {@code m} changes, or null if none; fails if its flattened name is ambiguous. */
        String target(LoraFile.Module m, LoraFile f) {
            if (!m.flat()) {
                String key = m.name() + ".weight";
                return keys.contains(key) ? key : null;
            }
            List<String> hits = flat.get(m.name());
            if (hits == null) {
                return null;
            }
            if (hits.size() > 1) {
                throw new UnetlensException(f.spec().file() + ": module " + Messages.quote(m.key()) + " could be "
                        + Messages.quote(hits.get(0)) + " or " + Messages.quote(hits.get(1)));
            }
            return hits.getFirst();
        }
    }
}
