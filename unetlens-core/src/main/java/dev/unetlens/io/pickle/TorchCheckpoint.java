package dev.unetlens.io.pickle;

import dev.unetlens.Messages;
import dev.unetlens.io.CheckpointFormat;
import dev.unetlens.io.InputFiles;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import dev.unetlens.io.pickle.Py.PyDict;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A PyTorch checkpoint ({@code .ckpt}, {@code .pt}, {@code .pth}, {@code .bin}) read without running Python: the file
 * is memory-mapped, its pickle run by the restricted {@link PickleMachine}, and each tensor of its state dict becomes
 * a view of the mapped storage bytes (a strided view that is not contiguous is gathered into memory the first time it
 * is read). Two layouts:
 * <ul>
 *   <li>the zip format of {@code torch.save} since PyTorch 1.6 ({@link TorchZipArchive}): {@code <name>/data.pkl},
 *       one stored entry {@code <name>/data/<key>} per storage, {@code <name>/version};</li>
 *   <li>the legacy format ({@code _use_new_zipfile_serialization=False}, and every save before 1.6)
 *       ({@link TorchLegacyFile}): five pickles (magic number, protocol, system info, the object, the storage keys),
 *       then each storage as an 8-byte element count and its raw bytes.</li>
 * </ul>
 *
 * <p>Which dict holds the weights, as the tools that write and read these files find it: the object must be a dict;
 * {@code state_dict} is followed as long as there is one (PyTorch Lightning checkpoints, and the nested
 * {@code state_dict.state_dict} A1111 also unwraps), then, where the dict holds no tensor, a {@code model} or
 * {@code module} entry that holds a dict (training scripts' wrappers). If every tensor key starts with
 * {@code module.} (a {@code DistributedDataParallel} model's state dict), that prefix is removed. Entries of that
 * dict that are not tensors keyed by strings are left out and listed ({@link #skipped}); everything outside it
 * (epoch, global step, optimizer and callback state) is never looked at beyond the pickle itself.
 */
public final class TorchCheckpoint implements TensorSource {
    /** How long a chain of wrappers may be. */
    private static final int MAX_WRAPPERS = 8;

    /** Where each tensor's stored bytes lie in the file, and how to read them. */
    interface Storages {
        /** Where storage {@code s}'s element 0 lies in the file. */
        long start(StorageRef s);

        /** Checks the bytes of {@code s} before they are first used (the zip entry's CRC-32). */
        void verify(StorageRef s);
    }

    /** What a layout reader hands back: the unpickled object and how to find the storages. */
    record Parsed(Object root, Storages storages, String layout) {
    }

    private record Entry(TensorInfo info, StoredTensor tensor) {
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final Storages storages;
    private final String layout;
    private final Map<String, Entry> tensors;
    private final List<String> names;
    private final List<String> wrapper;
    private final Map<String, String> skipped;
    private final String note;
    private final Map<String, MemorySegment> gathered = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private TorchCheckpoint(Path path, Arena arena, MemorySegment file, Parsed parsed) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.storages = parsed.storages();
        this.layout = parsed.layout();
        List<String> via = new ArrayList<>();
        PyDict dict = unwrap(parsed.root(), via);
        this.wrapper = List.copyOf(via);
        Map<String, String> left = new LinkedHashMap<>();
        Map<String, StoredTensor> found = new LinkedHashMap<>();
        dict.items.forEach((k, v) -> {
            if (k instanceof String s && v instanceof StoredTensor t) {
                found.put(s, t);
            } else {
                left.put(Messages.value(k), Py.typeName(v));
            }
        });
        if (found.isEmpty()) {
            throw new PickleException(path + ": the checkpoint holds no tensors" + (via.isEmpty() ? ""
                    : " under " + String.join(".", via)) + "; its keys: " + Messages.value(keys(dict)));
        }
        boolean ddp = found.keySet().stream().allMatch(k -> k.startsWith("module."));
        this.note = ddp ? "the 'module.' prefix of every key (a DistributedDataParallel state dict) was removed" : null;
        Map<String, Entry> byName = new LinkedHashMap<>();
        found.forEach((k, t) -> {
            String name = ddp ? k.substring("module.".length()) : k;
            byName.put(name, new Entry(info(name, t), t));
        });
        this.tensors = Collections.unmodifiableMap(byName);
        this.names = List.copyOf(byName.keySet());
        this.skipped = Collections.unmodifiableMap(left);
    }

    /**
     * Opens and reads {@code path} (a zip or legacy torch checkpoint, told by its bytes); fails in one line on any
     * file that is not one, on any opcode or global a state dict does not use, and on any tensor that reaches
     * outside its storage.
     */
    public static TorchCheckpoint open(Path path) {
        InputFiles.requireRegular(path);
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment file = size == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            byte[] head = file.asSlice(0, Math.min(size, CheckpointFormat.HEAD_BYTES)).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            Parsed parsed = switch (CheckpointFormat.of(head, size)) {
                case TORCH_ZIP -> TorchZipArchive.read(path.toString(), file);
                case PICKLE -> TorchLegacyFile.read(path.toString(), file);
                default -> throw new PickleException(path + ": neither a PyTorch zip checkpoint nor a pickle ("
                        + size + " bytes)");
            };
            return new TorchCheckpoint(path, arena, file, parsed);
        } catch (IOException e) {
            arena.close();
            throw new PickleException(path + ": cannot read (" + Messages.value(e.getMessage()) + ")", e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private PyDict unwrap(Object root, List<String> via) {
        if (!(root instanceof PyDict d)) {
            throw new PickleException(path + ": the checkpoint holds a " + Py.typeName(root) + ", not a dict of tensors");
        }
        for (int i = 0; i < MAX_WRAPPERS; i++) {
            if (d.items.get("state_dict") instanceof PyDict inner) {
                via.add("state_dict");
                d = inner;
                continue;
            }
            if (!holdsTensors(d)) {
                String key = d.items.get("model") instanceof PyDict ? "model"
                        : d.items.get("module") instanceof PyDict ? "module" : null;
                if (key != null) {
                    via.add(key);
                    d = (PyDict) d.items.get(key);
                    continue;
                }
            }
            return d;
        }
        throw new PickleException(path + ": the weights are wrapped more than " + MAX_WRAPPERS + " levels deep ("
                + Messages.value(String.join(".", via)) + ")");
    }

    private static boolean holdsTensors(PyDict d) {
        return d.items.values().stream().anyMatch(v -> v instanceof StoredTensor);
    }

    private static String keys(PyDict d) {
        List<String> k = new ArrayList<>();
        d.items.keySet().stream().limit(8).forEach(x -> k.add(String.valueOf(x instanceof String ? x : Py.typeName(x))));
        return String.join(", ", k) + (d.items.size() > 8 ? ", …" : "");
    }

    private TensorInfo info(String name, StoredTensor t) {
        long size = t.storage().dtype().size();
        long bytes = t.elements() * size;
        if (!t.contiguous() && t.elements() > t.storage().elements()) {
            throw new PickleException(path + ": tensor " + Messages.quote(name) + " " + Messages.shape(t.shape())
                    + " repeats elements of its " + t.storage().elements() + "-element storage (stride "
                    + Messages.shape(t.stride()) + "); state dicts hold no such views");
        }
        long begin = storages.start(t.storage()) + (t.contiguous() ? (t.storage().start() + t.offset()) * size : 0);
        return new TensorInfo(name, t.storage().dtype(), t.shape(), begin, begin + bytes);
    }

    public Path path() {
        return path;
    }

    /** {@code "zip"} or {@code "legacy"}: which {@code torch.save} layout the file has. */
    public String layout() {
        return layout;
    }

    /** The keys followed to reach the state dict ({@code [state_dict]}), empty when the file is the state dict. */
    public List<String> wrapper() {
        return wrapper;
    }

    /** Entries of the state dict left out because they are not tensors keyed by strings: key → Python type. */
    public Map<String, String> skipped() {
        return skipped;
    }

    /** What was changed in the keys (a removed {@code module.} prefix), or null. */
    public String keyNote() {
        return note;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public java.util.Optional<TensorInfo> info(String name) {
        Entry e = tensors.get(name);
        return e == null ? java.util.Optional.empty() : java.util.Optional.of(e.info);
    }

    /**
     * The stored little-endian bytes of {@code name}: a slice of the mapping for a contiguous tensor, else a copy
     * gathered once. The first read of a storage of a zip checkpoint checks its CRC-32.
     */
    @Override
    public MemorySegment data(String name) {
        Entry e = tensors.get(name);
        if (e == null) {
            throw new PickleException(path + ": no tensor " + Messages.quote(name));
        }
        if (closed.get()) {
            throw new PickleException(path + ": tensor " + Messages.quote(name) + " read after the file was closed");
        }
        storages.verify(e.tensor.storage());
        if (e.tensor.contiguous()) {
            return file.asSlice(e.info.begin(), e.info.byteSize());
        }
        return gathered.computeIfAbsent(name, n -> gather(e.tensor));
    }

    /** Copies a strided view into row-major order. */
    private MemorySegment gather(StoredTensor t) {
        int size = t.storage().dtype().size();
        long[] shape = t.shape();
        MemorySegment out = arena.allocate(Math.max(1, t.elements() * size), 8).asSlice(0, t.elements() * size);
        long base = storages.start(t.storage()) + t.storage().start() * size;
        long[] index = new long[shape.length];
        for (long i = 0; i < t.elements(); i++) {
            long element = t.offset();
            for (int d = 0; d < shape.length; d++) {
                element += index[d] * t.stride()[d];
            }
            MemorySegment.copy(file, base + element * size, out, i * size, size);
            for (int d = shape.length - 1; d >= 0 && ++index[d] == shape[d]; d--) {
                index[d] = 0;
            }
        }
        return out;
    }

    @Override
    public String describe() {
        return path.toString();
    }

    /** Unmaps the file; segments from {@link #data} become unusable. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }
}
