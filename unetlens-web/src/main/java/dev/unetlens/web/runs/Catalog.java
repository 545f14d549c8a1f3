package dev.unetlens.web.runs;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tensors a run's manifest lists (what {@code extract}'s dumps record for each: file, entry, module, block,
 * step, timestep, image, shape), sorted into what the views need. Entries missing a field the views rely on are left
 * out, never guessed.
 *
 * @param tensors every tensor entry with a file, an entry name, a module and a shape
 */
public record Catalog(List<TensorEntry> tensors) {

    /**
     * One dumped tensor.
     *
     * @param file     the file under the run (npy, npz or safetensors)
     * @param entry    its name inside the file
     * @param module   hook point ({@code up_blocks.1.attentions.0}, {@code …attn2:probs})
     * @param block    WebUI block name, or null
     * @param step     1-based generation step, or 0 for image dumps
     * @param timestep the step's (or the image dump's) timestep, or NaN
     * @param image    the image's name (image dumps), or null
     * @param branch   "conditional" / "unconditional" (generation dumps), or null
     * @param shape    its shape
     * @param info     the whole manifest entry
     */
    public record TensorEntry(String file, String entry, String module, String block, int step, double timestep,
                              String image, String branch, long[] shape, JsonNode info) {
        public boolean isAttention() {
            return module.endsWith(":probs");
        }

        public boolean isFeatureMap() {
            return !isAttention() && shape.length == 4;
        }

        /** The latent's [h, w] recorded with it, or null. */
        public int[] latent() {
            JsonNode l = info.path("latent");
            return l.isArray() && l.size() == 2 ? new int[] {l.get(0).asInt(), l.get(1).asInt()} : null;
        }
    }

    public static Catalog of(Manifest m) {
        List<TensorEntry> out = new ArrayList<>();
        for (JsonNode f : m.files()) {
            String file = f.path("file").asText("");
            for (JsonNode t : f.path("tensors")) {
                TensorEntry e = entry(file, t);
                if (e != null) {
                    out.add(e);
                }
            }
        }
        return new Catalog(List.copyOf(out));
    }

    private static TensorEntry entry(String file, JsonNode t) {
        String entry = t.path("entry").asText("");
        String module = t.path("module").asText("");
        JsonNode s = t.path("shape");
        if (file.isEmpty() || entry.isEmpty() || module.isEmpty() || !s.isArray() || s.isEmpty() || s.size() > 8) {
            return null;
        }
        long[] shape = new long[s.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!s.get(i).canConvertToLong() || s.get(i).asLong() <= 0) {
                return null;
            }
            shape[i] = s.get(i).asLong();
        }
        return new TensorEntry(file, entry, module, t.path("block").asText(null), t.path("step").asInt(0),
                t.path("timestep").asDouble(Double.NaN), t.path("image").asText(null), t.path("cfg_branch").asText(null),
                shape, t);
    }

    public boolean features() {
        return tensors.stream().anyMatch(TensorEntry::isFeatureMap);
    }

    public boolean attention() {
        return tensors.stream().anyMatch(t -> t.isAttention() && t.step() > 0);
    }

    /** Whether it is an image dump ({@code extract --images}) with feature maps. */
    public boolean images() {
        return tensors.stream().anyMatch(t -> t.image() != null && t.isFeatureMap());
    }

    /** Feature-map modules in the order they were dumped. */
    public List<String> featureModules() {
        Set<String> out = new LinkedHashSet<>();
        tensors.stream().filter(TensorEntry::isFeatureMap).forEach(t -> out.add(t.module()));
        return List.copyOf(out);
    }

    /** Image names of an image dump, in dump order. */
    public List<String> imageNames() {
        Set<String> out = new LinkedHashSet<>();
        tensors.stream().filter(t -> t.image() != null).forEach(t -> out.add(t.image()));
        return List.copyOf(out);
    }

    /** The tensor of a module at a step (generation, conditional first) or of an image (image dump), or null. */
    public TensorEntry find(String module, int step, String image, String branch) {
        for (TensorEntry t : tensors) {
            if (t.module().equals(module) && t.step() == step && java.util.Objects.equals(t.image(), image)
                    && (branch == null || branch.equals(t.branch()))) {
                return t;
            }
        }
        return null;
    }

    /** Per module: the steps it was dumped at (generation dumps), sorted. */
    public Map<String, List<Integer>> stepsByModule() {
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        for (TensorEntry t : tensors) {
            if (t.step() > 0 && !out.computeIfAbsent(t.module(), k -> new ArrayList<>()).contains(t.step())) {
                out.get(t.module()).add(t.step());
            }
        }
        out.values().forEach(l -> l.sort(Integer::compare));
        return out;
    }
}
