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
 * Writes tensors as {@code torch.save} does in its zip layout (protocol 2, one stored storage per tensor, the
 * opcodes torch 1.13 emits), for tests that need checkpoints of shapes the committed fixtures do not have: a whole
 * model, or the base files the fuzz test mutates. Checked against real torch output by
 * {@link TorchZipWriterTest}.
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
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            stored(zip, name + "/data.pkl", pickle(tensors, lightning));
            int key = 0;
            for (Tensor t : tensors.values()) {
                stored(zip, name + "/data/" + key++, t.data());
            }
            stored(zip, name + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The data.pkl of {@link #write}. */
    public static byte[] pickle(Map<String, Tensor> tensors, boolean lightning) {
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
                    .text("cpu").integer(numel).op('t').op('Q');
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
    static final class Ops {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Ops op(int code) {
            out.write(code);
            return this;
        }

        Ops raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Ops text(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return op('X').raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array()).raw(b);
        }

        Ops global(String module, String name) {
            return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        Ops integer(long v) {
            if (v >= 0 && v < 256) {
                return op('K').op((int) v);
            }
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                return op('J').raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
            }
            return op(0x8a).op(8).raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        Ops ints(long[] values) {
            op('(');
            for (long v : values) {
                integer(v);
            }
            return op('t');
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** {@code write} of every tensor in {@code source}'s order, read from a map of names to tensors. */
    public static Map<String, Tensor> ordered(List<String> names, Map<String, Tensor> tensors) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        names.forEach(n -> out.put(n, tensors.get(n)));
        return out;
    }
}
