package dev.unetlens.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/** Seeded generators of tensors, names and metadata for the generated safetensors tests. */
final class RandomTensors {
    /** One tensor to write; {@code data} holds its little-endian bytes. */
    record Tensor(String name, DType dtype, long[] shape, byte[] data) {
        long count() {
            return NpyArray.elementCount(shape);
        }
    }

    /** A whole file's content; {@code metadata} is null for "no {@code __metadata__} entry". */
    record Spec(List<Tensor> tensors, Map<String, String> metadata) {
        /** The tensors in the reference serializer's order: dtype rank descending, then UTF-8 name. */
        List<Tensor> referenceOrder() {
            List<Tensor> sorted = new ArrayList<>(tensors);
            sorted.sort(Comparator.comparingInt((Tensor t) -> -SafetensorsWriter.referenceRank(t.dtype()))
                    .thenComparing(t -> t.name().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
            return sorted;
        }
    }

    /**
     * Name pieces: state-dict words, non-ASCII text (including characters whose UTF-16 and UTF-8 orders differ:
     * U+E000..U+FFFF sort after surrogate pairs in UTF-16 but before them in UTF-8), and characters JSON must
     * escape.
     */
    private static final String[] PIECES = {
        "down_blocks", "up_blocks", "mid_block", "attn1", "to_q", "weight", "bias", "0", "1", "12", ".", ".", "_",
        "é", "ß", "中文", "日本語", "Ж", "😀", "𝔘", "\uE000", "\uFFFD", "\uFF21", "\u2028",
        "\"", "\\", "\n", "\t", "\b", "\f", "\r", "\u0001", "\u001f", "\u007f", "/", " ", "'",
    };

    private final Random r;

    RandomTensors(long seed) {
        this.r = new Random(seed);
    }

    Random random() {
        return r;
    }

    /** A valid spec; with {@code nonEmpty}, at least one tensor has data bytes. */
    Spec spec(boolean nonEmpty) {
        int n = r.nextInt(nonEmpty ? 1 : 0, 7);
        Set<String> names = new HashSet<>();
        List<Tensor> tensors = new ArrayList<>();
        while (tensors.size() < n) {
            String name = name();
            if (names.add(name)) {
                tensors.add(tensor(name, tensors.isEmpty() && nonEmpty));
            }
        }
        return new Spec(List.copyOf(tensors), metadata());
    }

    String name() {
        if (r.nextInt(40) == 0) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        int pieces = r.nextInt(1, 6);
        for (int i = 0; i < pieces; i++) {
            b.append(r.nextInt(3) == 0 ? PIECES[r.nextInt(PIECES.length)] : PIECES[r.nextInt(12)]);
        }
        String s = b.toString();
        return s.equals(SafetensorsHeader.METADATA_KEY) ? s + "x" : s;
    }

    Tensor tensor(String name, boolean nonEmpty) {
        DType dtype = DType.values()[r.nextInt(DType.values().length)];
        int rank = r.nextInt(0, 5);
        long[] shape = new long[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = nonEmpty ? r.nextInt(1, 5) : r.nextInt(8) == 0 ? 0 : r.nextInt(1, 5);
        }
        byte[] data = new byte[Math.toIntExact(NpyArray.elementCount(shape) * dtype.size())];
        r.nextBytes(data);
        if (dtype == DType.F32) {
            data = finiteFloats(data);
        }
        return new Tensor(name, dtype, shape, data);
    }

    /** Metadata: none (a third), empty, or a few entries with the same kinds of text as names. */
    Map<String, String> metadata() {
        int kind = r.nextInt(6);
        if (kind < 2) {
            return null;
        }
        Map<String, String> m = new LinkedHashMap<>();
        int n = kind == 2 ? 0 : r.nextInt(1, 5);
        while (m.size() < n) {
            m.put(r.nextInt(4) == 0 ? "format" : name(), r.nextInt(3) == 0 ? "pt" : name());
        }
        return m;
    }

    /** F32 data without NaNs, whose bit patterns a float[] round trip could change. */
    private byte[] finiteFloats(byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 4 <= data.length; i += 4) {
            if (Float.isNaN(b.getFloat(i))) {
                b.putFloat(i, r.nextFloat());
            }
        }
        return data;
    }

    static float[] floats(byte[] data) {
        float[] f = new float[data.length / 4];
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
