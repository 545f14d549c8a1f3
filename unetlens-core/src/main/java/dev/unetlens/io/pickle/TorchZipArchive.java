package dev.unetlens.io.pickle;

import dev.unetlens.Messages;
import dev.unetlens.io.DType;
import dev.unetlens.io.pickle.Py.Tuple;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The zip layout of {@code torch.save} (PyTorch 1.6 and later; {@code torch/csrc/jit/serialization} and
 * {@code torch/serialization.py}): every entry under one folder {@code <name>/}: {@code data.pkl}, the pickle whose
 * persistent ids {@code ('storage', torch.FloatStorage, key, location, numel)} name the stored entries
 * {@code data/<key>} of {@code numel} elements each; {@code version}; and, in newer versions, {@code byteorder}
 * ({@code little}; {@code big} is refused) and hidden entries ({@code .data/serialization_id},
 * {@code .format_version}, ...). A TorchScript archive ({@code code/}, {@code constants.pkl}) is refused: it is a
 * program, not a state dict. Storages must be stored uncompressed, as {@code torch.save} writes them, so that
 * tensors are views of the mapped file; {@code data.pkl} must be stored too.
 */
final class TorchZipArchive {
    private static final Pattern DATA_PKL = Pattern.compile("([^/]+/)data\\.pkl");
    private static final Set<String> KNOWN = Set.of("data.pkl", "version", "byteorder");
    /** The largest {@code data.pkl} read (SD checkpoints' are 0.1–3 MB, with optimizer state tens of MB). */
    static final long MAX_PICKLE_BYTES = 1L << 30;

    private TorchZipArchive() {
    }

    static TorchCheckpoint.Parsed read(String file, MemorySegment bytes) {
        ZipDirectory zip = ZipDirectory.read(file, bytes);
        String prefix = prefix(file, zip);
        ZipDirectory.Entry pkl = zip.entries().get(prefix + "data.pkl");
        checkByteOrder(file, zip, prefix);
        if (pkl.method() != 0) {
            throw new PickleException(file + ": " + Messages.quote(pkl.name()) + " is compressed; torch.save stores it"
                    + " uncompressed");
        }
        if (pkl.size() > MAX_PICKLE_BYTES) {
            throw new PickleException(file + ": " + Messages.quote(pkl.name()) + " has " + pkl.size() + " bytes, more"
                    + " than the " + MAX_PICKLE_BYTES + " a checkpoint's pickle may have");
        }
        zip.verify(pkl);
        Storages storages = new Storages(file, zip, prefix);
        PickleMachine machine = new PickleMachine(bytes, pkl.data(), pkl.data() + pkl.size(), pkl.data(),
                file + ": " + pkl.name(), storages::load);
        Object root = machine.run();
        return new TorchCheckpoint.Parsed(root, storages, "zip");
    }

    /** The one folder all entries lie in, which holds {@code data.pkl}. */
    private static String prefix(String file, ZipDirectory zip) {
        String prefix = null;
        for (String name : zip.entries().keySet()) {
            var m = DATA_PKL.matcher(name);
            if (m.matches()) {
                if (prefix != null) {
                    throw new PickleException(file + ": the archive holds two data.pkl entries, "
                            + Messages.quote(prefix + "data.pkl") + " and " + Messages.quote(name));
                }
                prefix = m.group(1);
            }
        }
        if (prefix == null) {
            throw new PickleException(file + ": a zip archive without <name>/data.pkl, so not a torch.save"
                    + " checkpoint");
        }
        for (String name : zip.entries().keySet()) {
            String rest = name.startsWith(prefix) ? name.substring(prefix.length()) : null;
            if (rest != null && (rest.startsWith("code/") || rest.equals("constants.pkl"))) {
                throw new PickleException(file + ": a TorchScript archive (" + Messages.quote(name) + "), a program"
                        + " rather than a state dict; unetlens reads torch.save checkpoints");
            }
            if (rest == null || !(KNOWN.contains(rest) || rest.startsWith(".") || rest.startsWith("data/")
                    && rest.indexOf('/', 5) < 0)) {
                throw new PickleException(file + ": entry " + Messages.quote(name) + " is not part of a torch.save"
                        + " checkpoint (" + Messages.quote(prefix) + "data.pkl, data/<key>, version)");
            }
        }
        return prefix;
    }

    private static void checkByteOrder(String file, ZipDirectory zip, String prefix) {
        ZipDirectory.Entry e = zip.entries().get(prefix + "byteorder");
        if (e == null) {
            return;
        }
        String order = e.method() == 0 && e.size() <= 16
                ? new String(zip.slice(e).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.ISO_8859_1).strip() : "?";
        if (!order.equals("little")) {
            throw new PickleException(file + ": the storages are stored " + Messages.quote(order)
                    + "-endian; unetlens reads little-endian checkpoints");
        }
    }

    /** Persistent ids → storages, each checked against its entry once. */
    private static final class Storages implements TorchCheckpoint.Storages {
        private final String file;
        private final ZipDirectory zip;
        private final String prefix;
        private final Map<String, StorageRef> seen = new ConcurrentHashMap<>();
        private final Set<String> verified = ConcurrentHashMap.newKeySet();

        Storages(String file, ZipDirectory zip, String prefix) {
            this.file = file;
            this.zip = zip;
            this.prefix = prefix;
        }

        /** {@code ('storage', torch.<T>Storage, key, location, numel)} → the storage, checked against its entry. */
        Object load(Object pid, String at) {
            String what = file + ": " + prefix + "data.pkl: persistent id " + at;
            if (!(pid instanceof Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))
                    || !(t.get(2) instanceof String key) || !(t.get(3) instanceof String)
                    || !(t.get(4) instanceof Long numel) || numel < 0) {
                throw new PickleException(what + " is not ('storage', type, key, location, numel)");
            }
            DType dtype = TorchGlobals.storageType(t.get(1));
            if (dtype == null) {
                throw new PickleException(what + " names a " + Py.typeName(t.get(1)) + " instead of a storage type");
            }
            ZipDirectory.Entry e = zip.entries().get(prefix + "data/" + key);
            if (e == null) {
                throw new PickleException(what + " names storage " + Messages.quote(key) + ", which the archive lacks");
            }
            if (e.method() != 0) {
                throw new PickleException(what + ": storage " + Messages.quote(key) + " is compressed; unetlens maps"
                        + " storages as torch.save stores them, uncompressed");
            }
            long bytes = numel > Long.MAX_VALUE / dtype.size() ? -1 : numel * dtype.size();
            if (bytes != e.size()) {
                throw new PickleException(what + ": storage " + Messages.quote(key) + " of " + numel + " " + dtype
                        + " elements needs " + (bytes < 0 ? "more than 2^63" : bytes) + " bytes, its entry has "
                        + e.size());
            }
            StorageRef ref = new StorageRef(key, dtype, numel, 0);
            StorageRef old = seen.putIfAbsent(key, ref);
            if (old != null && !old.equals(ref)) {
                throw new PickleException(what + ": storage " + Messages.quote(key) + " is named as " + old.dtype()
                        + " and as " + dtype);
            }
            return ref;
        }

        @Override
        public long start(StorageRef s) {
            return zip.entries().get(prefix + "data/" + s.key()).data();
        }

        @Override
        public void verify(StorageRef s) {
            if (!verified.contains(s.key())) {
                zip.verify(zip.entries().get(prefix + "data/" + s.key()));
                verified.add(s.key());
            }
        }
    }
}
