package dev.unetlens.spark;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.CacheDir;
import dev.unetlens.io.FileHashes;
import dev.unetlens.pipeline.StableDiffusion;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models of this JVM (an executor, or the driver in local mode), keyed by path and hash: loaded once per JVM and
 * reused by every later task and partition. A model's hooks are its own, so two tasks running at once each borrow their
 * own copy: an executor holds at most as many as it runs tasks at once (its cores / spark.task.cpus).
 */
public final class ModelPool {
    private static final ConcurrentHashMap<String, Deque<StableDiffusion>> IDLE = new ConcurrentHashMap<>();
    private static volatile int loads;

    private ModelPool() {
    }

    /** A borrowed model, returned to the pool on close. */
    public record Lease(String key, StableDiffusion model) implements AutoCloseable {
        @Override
        public void close() {
            Deque<StableDiffusion> d = IDLE.computeIfAbsent(key, k -> new ArrayDeque<>());
            synchronized (d) {
                d.push(model);
            }
        }
    }

    /**
     * An idle model of {@code path} that hashes to {@code hash}, or a new one (null hash: not checked) computing with
     * {@code threads} libtorch threads (when it is this JVM's first); a path this machine lacks, or one that holds other
     * weights than the driver's, fails in one line naming both.
     */
    public static Lease borrow(String path, String hash, StableDiffusion.Options options, int threads) {
        String key = path + "#" + hash;
        Deque<StableDiffusion> d = IDLE.computeIfAbsent(key, k -> new ArrayDeque<>());
        synchronized (d) {
            if (!d.isEmpty()) {
                return new Lease(key, d.pop());
            }
        }
        Path p = Path.of(path);
        if (!Files.exists(p)) {
            throw new UnetlensException("the model " + path + " is missing on executor " + host()
                    + "; put it on storage every executor reads and give that path to --model");
        }
        if (threads > 0) {
            // --threads-per-task over the CLI's default (every core) and an executor's -D: libtorch reads it when its
            // engine starts, so it counts in a JVM whose first model this is
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        }
        StableDiffusion sd = StableDiffusion.load(p, options);
        loads++;
        String h = hash(sd);
        if (hash != null && !hash.equals(h)) {
            sd.close();
            throw new UnetlensException("the model " + path + " on executor " + host() + " has hash " + h
                    + ", the driver's has " + hash + "; give every executor the same weights");
        }
        return new Lease(path + "#" + h, sd);
    }

    /** Models this JVM loaded so far. */
    public static int loads() {
        return loads;
    }

    /** SHA-256 over the weight files' SHA-256s, in the model's order. */
    public static String hash(StableDiffusion sd) {
        FileHashes hashes = new FileHashes(CacheDir.root());
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path f : sd.weightFiles()) {
                md.update(hashes.sha256(f).getBytes(StandardCharsets.US_ASCII));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "(unknown host)";
        }
    }
}
