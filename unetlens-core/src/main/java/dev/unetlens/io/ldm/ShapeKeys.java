package dev.unetlens.io.ldm;

import dev.unetlens.Messages;
import dev.unetlens.config.ConfigException;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The keys of one component of a checkpoint (the file keys under {@code prefix}) with the shape look-ups that config
 * inference needs; a missing key or dimension fails in one line naming it.
 *
 * @param all    every key of the file with its shape
 * @param prefix the component's LDM prefix ({@code model.diffusion_model.})
 * @param source the checkpoint, for messages
 */
record ShapeKeys(Map<String, long[]> all, String prefix, String source) {
    boolean any() {
        return all.keySet().stream().anyMatch(key -> key.startsWith(prefix));
    }

    List<String> stripped() {
        return all.keySet().stream().filter(key -> key.startsWith(prefix))
                .map(key -> key.substring(prefix.length())).toList();
    }

    boolean has(String key) {
        return all.containsKey(prefix + key);
    }

    long[] shape(String key) {
        long[] s = all.get(prefix + key);
        if (s == null) {
            throw ConfigException.at(source, "no " + Messages.quote(prefix + key) + ", which the "
                    + prefix.replaceAll("\\.$", "") + " config is read from");
        }
        return s;
    }

    /** Dimension {@code axis} of {@code key}, which must have that axis and a size that fits a config value. */
    int dim(String key, int axis) {
        long[] s = shape(key);
        if (s.length <= axis) {
            throw ConfigException.at(source, Messages.quote(prefix + key) + " has shape " + Messages.shape(s)
                    + ", expected at least " + (axis + 1) + " dimensions");
        }
        if (s[axis] > Integer.MAX_VALUE) {
            throw ConfigException.at(source, Messages.quote(prefix + key) + " has shape " + Messages.shape(s)
                    + ": dimension " + axis + " is larger than any model's");
        }
        return (int) s[axis];
    }

    /** Whether some key starts with {@code start} but not with {@code exclude}. */
    boolean anyStartsWith(String start, String exclude) {
        return all.keySet().stream().anyMatch(key -> key.startsWith(prefix + start)
                && !key.startsWith(prefix + exclude));
    }

    /** The number of distinct values of {@code pattern}'s group 1 among the stripped keys. */
    int count(Pattern pattern) {
        TreeSet<String> seen = new TreeSet<>();
        for (String key : stripped()) {
            Matcher m = pattern.matcher(key);
            if (m.matches()) {
                seen.add(m.group(1));
            }
        }
        return seen.size();
    }

    ConfigException cannot(String field, String why) {
        return ConfigException.at(source, "cannot infer " + field + " from the weights: " + why
                + "; pass the diffusers configs explicitly (a diffusers folder's config.json files)");
    }
}
