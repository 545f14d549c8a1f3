package dev.unetlens.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.unetlens.Messages;
import dev.unetlens.io.SafetensorsException.Rule;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A sharded checkpoint: an index ({@code diffusion_pytorch_model.safetensors.index.json} in diffusers,
 * {@code model.safetensors.index.json} in transformers, with or without a variant such as {@code .fp16}) whose
 * {@code weight_map} maps each tensor name to the safetensors file, in the index's folder, that holds it:
 * <pre>{@code
 * {"metadata": {"total_size": 3438167536},
 *  "weight_map": {"conv_in.bias": "diffusion_pytorch_model-00001-of-00002.safetensors", ...}}
 * }</pre>
 *
 * <p>{@link #open} checks that the index is strict JSON (no duplicate keys), that every mapped file lies in the
 * index's folder and exists, that each shard is a valid safetensors file ({@link SafetensorsFile#open}), and that
 * each shard holds exactly the tensors mapped to it, no more and no fewer. {@code metadata} (with
 * {@code total_size}, which counts shared storage once in transformers) is informational and not checked. Names
 * are listed in {@code weight_map} order.
 */
public final class ShardedSafetensors implements TensorSource {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path index;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> byName;
    private final List<String> names;

    private ShardedSafetensors(Path index, List<SafetensorsFile> shards, Map<String, SafetensorsFile> byName) {
        this.index = index;
        this.shards = List.copyOf(shards);
        this.byName = byName;
        this.names = List.copyOf(byName.keySet());
    }

    /** Opens the index file and every shard it names; throws {@link SafetensorsException} naming the broken rule. */
    public static ShardedSafetensors open(Path index) {
        String where = index.toString();
        Map<String, String> weightMap = weightMap(index);
        Path dir = index.toAbsolutePath().normalize().getParent();
        Map<Path, Set<String>> mapped = new LinkedHashMap<>();   // shard file -> names the index maps to it
        Map<Path, String> shardNames = new HashMap<>();
        weightMap.forEach((tensor, shard) -> {
            Path file = shardPath(where, dir, tensor, shard);
            mapped.computeIfAbsent(file, f -> new LinkedHashSet<>()).add(tensor);
            shardNames.putIfAbsent(file, shard);
        });
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<Path, SafetensorsFile> files = new HashMap<>();
            for (Map.Entry<Path, Set<String>> e : mapped.entrySet()) {
                String shard = Messages.quote(shardNames.get(e.getKey()));
                String problem = InputFiles.problem(e.getKey());
                if (problem != null) {
                    throw new SafetensorsException(Rule.SHARD_INDEX, where, e.getValue().iterator().next(),
                            "it is mapped to shard " + shard + ", which " + (Files.notExists(e.getKey())
                                    ? "does not exist" : problem));
                }
                SafetensorsFile f = SafetensorsFile.open(e.getKey());
                opened.add(f);
                checkSameNames(where, shard, e.getValue(), f, weightMap);
                files.put(e.getKey(), f);
            }
            Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
            weightMap.forEach((tensor, shard) -> byName.put(tensor, files.get(shardPath(where, dir, tensor, shard))));
            return new ShardedSafetensors(index, opened, Collections.unmodifiableMap(byName));
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, String> weightMap(Path index) {
        String where = index.toString();
        String problem = InputFiles.problem(index);
        if (problem != null) {
            throw new SafetensorsException(Rule.IO, where, null, problem);
        }
        JsonNode root;
        try {
            root = JSON.readTree(InputFiles.readText(index));
        } catch (JacksonException e) {
            throw new SafetensorsException(Rule.SHARD_INDEX, where, null, "the index is not valid JSON: "
                    + Messages.value(e.getOriginalMessage()), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new SafetensorsException(Rule.SHARD_INDEX, where, null, "the index has no weight_map object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(Rule.SHARD_INDEX, where, e.getKey(),
                        "weight_map maps it to " + Messages.value(e.getValue()) + ", not to a file name");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    /** The shard file: a relative path that stays inside the index's folder. */
    private static Path shardPath(String where, Path dir, String tensor, String shard) {
        try {
            Path relative = Path.of(shard);
            Path file = dir.resolve(relative).normalize();
            if (!relative.isAbsolute() && !shard.isEmpty() && file.startsWith(dir) && !file.equals(dir)) {
                return file;
            }
        } catch (InvalidPathException e) {
            // reported below
        }
        throw new SafetensorsException(Rule.SHARD_INDEX, where, tensor, "it is mapped to "
                + Messages.quote(shard) + ", which is not a file name inside the index's folder");
    }

    private static void checkSameNames(String where, String shard, Set<String> expected, SafetensorsFile f,
                                       Map<String, String> weightMap) {
        for (String name : f.names()) {
            if (!expected.contains(name)) {
                String mappedTo = weightMap.get(name);
                throw new SafetensorsException(Rule.SHARD_MISMATCH, where, name, "shard " + shard + " holds it, but "
                        + (mappedTo == null ? "weight_map does not list it"
                        : "weight_map maps it to " + Messages.quote(mappedTo)));
            }
        }
        for (String name : expected) {
            if (f.info(name).isEmpty()) {
                throw new SafetensorsException(Rule.SHARD_MISMATCH, where, name,
                        "weight_map maps it to shard " + shard + ", which does not hold it");
            }
        }
    }

    /** The index file. */
    public Path index() {
        return index;
    }

    /** The shard files, in the order the index first names them. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        SafetensorsFile f = byName.get(name);
        return f == null ? Optional.empty() : f.info(name);
    }

    @Override
    public MemorySegment data(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new SafetensorsException(Rule.NO_SUCH_TENSOR, index.toString(), name, "weight_map has no such tensor");
        }
        return f.data(name);
    }

    @Override
    public String describe() {
        return index.toString();
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
