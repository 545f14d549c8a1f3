package dev.unetlens.io.pickle;

import dev.unetlens.io.DType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes tensors as {@code torch.save} does, in its zip layout or its legacy layout (protocol 2, one storage per
 * tensor, the opcodes torch 1.13 emits), for tests that need checkpoints of shapes the committed fixtures do not
 * have: a whole model, or the base files the fuzz test mutates. A file it writes loads in torch 1.13 with the same
 * tensors (checked by hand with {@code torch.load}).
 */
public final class TorchZipWriter {
    /** One tensor: dtype, shape and little-endian bytes. */
    public record Tensor(DType dtype, long[] shape, byte[] data) {
    }

    private static final Map<DType, String> STORAGES = new LinkedHashMap<>();

    static {
        TorchGlobals.STORAGES.forEach((name, dtype) -> STORAGES.put(dtype, name));
    }

    private TorchZipWriter() {
    }

    /**
     * The checkpoint file: {@code tensors} as an OrderedDict, under {@code "state_dict"} beside an epoch and a global
     * step when {@code lightning}, in the archive folder {@code name}.
     */
    public static byte[] write(String name, Map<String, Tensor> tensors, boolean lightning) {
        return zip(name, pickle(tensors, lightning, false), storages(tensors));
    }

    /** A zip archive as torch.save lays it out: {@code name/data.pkl}, {@code name/data/<i>}, {@code name/version}. */
    public static byte[] zip(String name, byte[] pickle, List<byte[]> storages) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            stored(zip, name + "/data.pkl", pickle);
            for (int key = 0; key < storages.size(); key++) {
                stored(zip, name + "/data/" + key, storages.get(key));
            }
            stored(zip, name + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Each tensor's bytes, as storage {@code i} of the i-th tensor. */
    public static List<byte[]> storages(Map<String, Tensor> tensors) {
        return tensors.values().stream().map(Tensor::data).toList();
    }

    /**
     * The legacy layout ({@code _use_new_zipfile_serialization=False}): magic number, protocol 1001, system info, the
     * object (with {@code pickle}'s persistent ids in their legacy six-item form), the storage keys, the storages.
     */
    public static byte[] legacy(Map<String, Tensor> tensors, boolean lightning) {
        return legacy(pickle(tensors, lightning, true), tensors);
    }

    /** {@link #legacy(Map, boolean)} with the object pickle given. */
    public static byte[] legacy(byte[] object, Map<String, Tensor> tensors) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new Ops().op(0x80).op(2).op(0x8a).op(10).raw(new byte[] {0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
            (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19}).op('.').bytes());
        out.writeBytes(new Ops().op(0x80).op(2).integer(1001).op('.').bytes());
        out.writeBytes(new Ops().op(0x80).op(2).op('}').op('(').text("protocol_version").integer(1001)
                .text("little_endian").op(0x88).text("type_sizes").op('}').op('(').text("short").integer(2)
                .text("int").integer(4).text("long").integer(4).op('u').op('u').op('.').bytes());
        out.writeBytes(object);
        Ops keys = new Ops().op(0x80).op(2).op(']').op('(');
        for (int i = 0; i < tensors.size(); i++) {
            keys.text(Integer.toString(i));
        }
        out.writeBytes(keys.op('e').op('.').bytes());
        for (Tensor t : tensors.values()) {
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(t.data().length / t.dtype().size()).array());
            out.writeBytes(t.data());
        }
        return out.toByteArray();
    }

    /** The data.pkl of {@link #write} (or the object pickle of {@link #legacy}, with six-item persistent ids). */
    public static byte[] pickle(Map<String, Tensor> tensors, boolean lightning) {
        return pickle(tensors, lightning, false);
    }

    public static byte[] pickle(Map<String, Tensor> tensors, boolean lightning, boolean legacy) {
        Ops p = new Ops();
        p.op(0x80).op(2).op('}');
        if (lightning) {
            p.op('(').text("state_dict");
        }
        p.global("collections", "OrderedDict").op(')').op('R').op('(');
        int key = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long numel = t.data().length / t.dtype().size();
            p.text(e.getKey()).global("torch._utils", "_rebuild_tensor_v2").op('(');
            p.op('(').text("storage").global("torch", STORAGES.get(t.dtype())).text(Integer.toString(key++))
                    .text("cpu").integer(numel);
            if (legacy) {
                p.op('N');
            }
            p.op('t').op('Q');
            p.integer(0).ints(t.shape()).ints(strides(t.shape())).op(0x89)
                    .global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
        }
        p.op('u');
        if (lightning) {
            p.text("epoch").integer(6).text("global_step").integer(840000).op('u');
        }
        return p.op('.').bytes();
    }

    private static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long step = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = step;
            step *= shape[i];
        }
        return s;
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    /** Pickle opcodes, written one after another. */
    public static final class Ops {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        public Ops op(int code) {
            out.write(code);
            return this;
        }

        public Ops raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        public Ops text(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return op('X').raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array()).raw(b);
        }

        public Ops global(String module, String name) {
            return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        public Ops integer(long v) {
            if (v >= 0 && v < 256) {
                return op('K').op((int) v);
            }
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                return op('J').raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
            }
            return op(0x8a).op(8).raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        public Ops ints(long[] values) {
            op('(');
            for (long v : values) {
                integer(v);
            }
            return op('t');
        }

        public byte[] bytes() {
            return out.toByteArray();
        }
    }

}
