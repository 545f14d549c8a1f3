package dev.unetlens.extract;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.AtomicFiles;
import dev.unetlens.io.DType;
import dev.unetlens.io.Npy;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.SafetensorsWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Streams captured tensors to disk as they are produced, so memory stays bounded however many modules, steps and
 * noise samples a run extracts: each tensor's rows are appended to a raw file in a hidden spool folder of the
 * output directory, and a finished file ({@code .npy}, {@code .npz} or {@code .safetensors}) is assembled from
 * them and moved into place atomically, then recorded in the manifest. The spool folder is the output directory's
 * {@link OutputDirectory#partialFolder()}: an interrupted run's hook removes it, a killed run's is named in its
 * manifest and removed by the next {@code --force} run.
 */
public final class Spool implements AutoCloseable {
    /** The file formats a dump can be written in. */
    public enum Format { NPY, NPZ, SAFETENSORS;

        public String extension() {
            return "." + name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final OutputDirectory out;
    private final Path dir;
    private final boolean half;
    private final Map<String, Tensor> open = new LinkedHashMap<>();

    /** One tensor being spooled: {@code rows × rowShape}, entry {@code entry} of output file {@code file}. */
    public final class Tensor {
        final String file;
        final String entry;
        final long[] shape;
        final Path raw;
        final ObjectNode info;
        private final FileChannel channel;
        private long rowsWritten;

        Tensor(String file, String entry, long[] shape, ObjectNode info) throws IOException {
            this.file = file;
            this.entry = entry;
            this.shape = shape.clone();
            this.info = info;
            this.raw = dir.resolve(UUID.randomUUID() + ".raw");
            this.channel = FileChannel.open(raw, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }

        /** Appends rows [r, ...] (float32 values, written as float32 or float16). */
        public void append(NDArray rows) {
            float[] v = rows.toType(DataType.FLOAT32, false).toFloatArray();
            long r = rows.getShape().get(0);
            if (rowsWritten + r > shape[0]) {
                throw new IllegalStateException(entry + ": more rows than the declared " + shape[0]);
            }
            ByteBuffer b = ByteBuffer.allocate(v.length * (half ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : v) {
                if (half) {
                    b.putShort(Float.floatToFloat16(f));
                } else {
                    b.putFloat(f);
                }
            }
            b.flip();
            try {
                while (b.hasRemaining()) {
                    channel.write(b);
                }
            } catch (IOException e) {
                throw new UnetlensException("cannot write to " + dir + ": " + e.getMessage(), e);
            }
            rowsWritten += r;
        }

        boolean complete() {
            return rowsWritten == shape[0];
        }

        void closeChannel() throws IOException {
            channel.close();
        }
    }

    public Spool(OutputDirectory out, boolean half) {
        this.out = out;
        this.half = half;
        this.dir = out.partialFolder();                                // created with the first tensor
    }

    public DType dtype() {
        return half ? DType.F16 : DType.F32;
    }

    /**
     * Starts a tensor of {@code shape} (first axis: the rows that {@link Tensor#append} will add) as entry
     * {@code entry} of output file {@code file}; {@code info} is its manifest description (module, step, ...).
     */
    public Tensor open(String file, String entry, long[] shape, ObjectNode info) {
        String key = file + "\u0000" + entry;
        if (open.containsKey(key)) {
            throw new IllegalStateException("tensor " + entry + " of " + file + " opened twice");
        }
        try {
            Tensor t;
            synchronized (out) {
                out.requireRunning();
                Files.createDirectories(dir);
                t = new Tensor(file, entry, shape, info);
            }
            open.put(key, t);
            return t;
        } catch (IOException e) {
            throw new UnetlensException("cannot write to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Assembles {@code file} from its spooled tensors (all complete) in {@code format}, atomically, and records it. */
    public void commit(String file, Format format, Map<String, String> metadata, Consumer<ObjectNode> describe) {
        List<Tensor> parts = new ArrayList<>();
        open.values().removeIf(t -> {
            if (t.file.equals(file)) {
                parts.add(t);
                return true;
            }
            return false;
        });
        try {
            for (Tensor t : parts) {
                t.closeChannel();
                if (!t.complete()) {
                    throw new IllegalStateException(t.entry + ": " + t.rowsWritten + " of " + t.shape[0] + " rows written");
                }
            }
            ObjectNode e = switch (format) {
                case NPY -> writeNpy(file, parts.getFirst());
                case NPZ -> writeNpz(file, parts);
                case SAFETENSORS -> writeSafetensors(file, parts, metadata);
            };
            e.put("dtype", half ? "float16" : "float32");
            var tensors = e.putArray("tensors");
            for (Tensor t : parts) {
                ObjectNode ti = t.info.deepCopy();
                ti.put("entry", t.entry);
                var s = ti.putArray("shape");
                for (long d : t.shape) {
                    s.add(d);
                }
                tensors.add(ti);
            }
            describe.accept(e);
            out.saveManifest();
            for (Tensor t : parts) {
                Files.deleteIfExists(t.raw);
            }
        } catch (IOException ex) {
            throw new UnetlensException("cannot write " + file + ": " + ex.getMessage(), ex);
        }
    }

    private ObjectNode writeNpy(String file, Tensor t) {
        String descr = half ? "<f2" : "<f4";
        return out.write(file, o -> {
            o.write(Npy.header(half ? DType.F16 : DType.F32, t.shape));
            Files.copy(t.raw, o);
        }, "features " + t.entry + " (" + descr + ")");
    }

    private ObjectNode writeNpz(String file, List<Tensor> parts) {
        return out.write(file, o -> {
            java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(o);
            zip.setMethod(java.util.zip.ZipOutputStream.STORED);
            for (Tensor t : parts) {
                byte[] header = Npy.header(half ? DType.F16 : DType.F32, t.shape);
                java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                crc.update(header);
                try (var in = Files.newInputStream(t.raw)) {
                    byte[] buf = new byte[1 << 16];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        crc.update(buf, 0, n);
                    }
                }
                java.util.zip.ZipEntry ze = new java.util.zip.ZipEntry(t.entry + ".npy");
                long size = header.length + Files.size(t.raw);
                ze.setSize(size);
                ze.setCompressedSize(size);
                ze.setCrc(crc.getValue());
                zip.putNextEntry(ze);
                zip.write(header);
                Files.copy(t.raw, zip);
                zip.closeEntry();
            }
            zip.finish();
        }, "features, " + parts.size() + " arrays (numpy.load gives a dict-like archive)");
    }

    private ObjectNode writeSafetensors(String file, List<Tensor> parts, Map<String, String> metadata) {
        SafetensorsWriter w = new SafetensorsWriter().metadata(metadata);
        for (Tensor t : parts) {
            w.add(t.entry, half ? DType.F16 : DType.F32, t.shape, (OutputStream o) -> Files.copy(t.raw, o));
        }
        return out.write(file, w::writeTo, "features, " + parts.size() + " tensors with metadata");
    }

    /** Removes the spool folder (unfinished tensors are dropped). */
    @Override
    public void close() {
        for (Tensor t : open.values()) {
            try {
                t.closeChannel();
            } catch (IOException ignored) {
                // dropping it anyway
            }
        }
        open.clear();
        AtomicFiles.deleteTreeQuietly(dir);
    }
}
