package dev.unetlens.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * The directory a run writes into, with its {@code manifest.json}. Opening refuses a directory that already has
 * files unless {@code force} is set, before any work starts; the directory itself is created with the first file,
 * so a run that fails early leaves nothing behind. Every file is written atomically and recorded in the manifest,
 * which is rewritten (atomically) after each file: an interrupted run leaves a manifest listing exactly what exists.
 */
public final class OutputDirectory {
    public static final String MANIFEST = "manifest.json";
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private static final java.util.Map<String, java.util.function.Supplier<com.fasterxml.jackson.databind.JsonNode>>
            EVERY_MANIFEST = new java.util.concurrent.ConcurrentSkipListMap<>();

    private final Path dir;
    private final ObjectNode manifest;
    private final ArrayNode files;

    private OutputDirectory(Path dir, String command) {
        this.dir = dir;
        this.manifest = JSON.createObjectNode();
        manifest.put("tool", "unetlens");
        manifest.put("version", Versions.UNETLENS);
        manifest.put("command", command);
        manifest.put("created", java.time.Instant.now().toString());
        this.files = manifest.putArray("files");
    }

    /**
     * Opens {@code dir} for a run of {@code command}: creates it, or, if it exists and is not empty, fails unless
     * {@code force} (then files are overwritten one by one, atomically; files of an earlier run that this run does
     * not write are left alone and not listed).
     */
    public static OutputDirectory open(Path dir, String command, boolean force) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UnetlensException(dir + " exists and is not a directory; choose another --out");
        }
        if (Files.isDirectory(dir) && !force && !isEmpty(dir)) {
            throw new UnetlensException(dir + " already exists and is not empty; choose another --out or pass --force to overwrite");
        }
        Path parent = dir.toAbsolutePath().getParent();
        if (parent != null && Files.exists(parent) && !Files.isWritable(parent)) {
            throw new UnetlensException(parent + " is not writable; choose another --out");
        }
        return new OutputDirectory(dir, command);
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new UnetlensException("cannot read " + dir + ": " + e.getMessage(), e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** The manifest's top-level object, to record how the run was made (model, seed, request...). */
    public ObjectNode manifest() {
        return manifest;
    }

    /** Resolves a relative name inside this directory, refusing names that would escape it. */
    public Path resolve(String name) {
        Path p = dir.resolve(name).normalize();
        if (!p.startsWith(dir.normalize())) {
            throw new UnetlensException("output name '" + name + "' escapes the output directory");
        }
        return p;
    }

    /**
     * Writes one file atomically and records it in the manifest with its size, SHA-256 and the given
     * description; returns the manifest entry so callers can add fields (module, step, shape...).
     */
    public ObjectNode write(String name, AtomicFiles.Body body, String description) {
        Path target = resolve(name);
        try {
            Files.createDirectories(target.getParent());
        } catch (IOException e) {
            throw new UnetlensException("cannot create " + target.getParent() + ": " + e.getMessage(), e);
        }
        AtomicFiles.write(target, body);
        ObjectNode e = files.addObject();
        e.put("file", dir.normalize().relativize(target).toString().replace('\\', '/'));
        e.put("description", description);
        try {
            e.put("bytes", Files.size(target));
        } catch (IOException ex) {
            throw new UnetlensException("cannot stat " + target + ": " + ex.getMessage(), ex);
        }
        e.put("sha256", sha256(target));
        saveManifest();
        return e;
    }

    /**
     * Makes every manifest saved from now on carry {@code field}, as {@code value} gives it at each save: for what
     * lower layers know of a run and no command should have to remember (what the numbers were computed on).
     */
    public static void recordInEveryManifest(String field, java.util.function.Supplier<com.fasterxml.jackson.databind.JsonNode> value) {
        EVERY_MANIFEST.put(field, value);
    }

    /** Rewrites {@code manifest.json} (atomically); call after adding fields to entries. */
    public void saveManifest() {
        if (!Files.isDirectory(dir)) {
            return;   // nothing written yet: the manifest comes with the first file
        }
        EVERY_MANIFEST.forEach((field, value) -> manifest.set(field, value.get()));
        try {
            byte[] bytes = JSON.writeValueAsBytes(manifest);
            AtomicFiles.writeBytes(dir.resolve(MANIFEST), bytes);
        } catch (IOException e) {
            throw new UnetlensException("cannot write manifest: " + e.getMessage(), e);
        }
    }

    /** The SHA-256 of a file, hex. */
    public static String sha256(Path file) {
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) != -1) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new UnetlensException("cannot hash " + file + ": " + e.getMessage(), e);
        }
    }
}
