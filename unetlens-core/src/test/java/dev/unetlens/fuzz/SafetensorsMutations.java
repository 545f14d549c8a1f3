package dev.unetlens.fuzz;

import dev.unetlens.io.DType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Edits of a safetensors file: of its tensors, keeping the file valid so that the edit reaches the loaders (another
 * dtype or shape with the bytes to match, a renamed, dropped, doubled or added tensor, reordered data, other metadata,
 * a header length whose low bytes read like a pickle opcode); of its header's JSON; of its header text (unpaired
 * surrogate escapes and deep nesting in ignored fields, huge names); of its length field; and of its bytes.
 */
final class SafetensorsMutations {
    /** Every safetensors dtype, some the reference has and unetlens does not, and names no one has. */
    static final List<String> DTYPES;
    /** Shapes of no elements with dimensions no int holds: valid files. */
    private static final List<long[]> EMPTY_HUGE = List.of(new long[] {0, 2147483648L}, new long[] {2147483648L, 0},
            new long[] {0, Long.MAX_VALUE}, new long[] {1L << 40, 0, 3}, new long[] {4294967296L, 0});
    private static final Pattern DIGITS = Pattern.compile("\\d+");
    private static final int MAX_ELEMENTS = 1 << 20;

    static {
        List<String> d = new ArrayList<>();
        for (DType t : DType.values()) {
            d.add(t.name());
        }
        d.addAll(List.of("F8_E8M0", "C64", "F4", "f32", "INT16", ""));
        DTYPES = List.copyOf(d);
    }

    private SafetensorsMutations() {
    }

    /** One edit of {@code base} (not changed), as the bytes of the edited file. */
    static byte[] mutate(StFile base, SplittableRandom rnd, StringBuilder note) {
        int op = rnd.nextInt(100);
        if (op < 40) {
            StFile f = base.copy();
            tensorEdit(f, rnd, note);
            return f.bytes();
        }
        if (op < 58) {
            byte[] header = JsonMutations.mutate(base.header(), rnd, List.of("__metadata__", "x"), note);
            return StFile.image(header, base.data());
        }
        if (op < 70) {
            return StFile.image(headerTextEdit(base.header(), rnd, note), base.data());
        }
        if (op < 78) {
            return lengthEdit(base.bytes(), rnd, note);
        }
        byte[] b = base.bytes();
        int headerEnd = 8 + (int) ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return switch (rnd.nextInt(4)) {
            case 0 -> {
                int n = rnd.nextInt(b.length);
                note.append("truncate to ").append(n).append(" bytes");
                yield Mutations.truncate(b, n);
            }
            case 1 -> {
                byte[] extra = new byte[1 + rnd.nextInt(64)];
                rnd.nextBytes(extra);
                note.append("append ").append(extra.length).append(" bytes");
                yield Mutations.splice(b, b.length, 0, extra);
            }
            case 2 -> Mutations.byteEdit(rnd, b, 0, headerEnd, note.append("header: "));
            default -> Mutations.byteEdit(rnd, b, headerEnd, b.length, note.append("data: "));
        };
    }

    /** An edit of the tensors that keeps the file valid safetensors (unless a name repeats). */
    static void tensorEdit(StFile f, SplittableRandom rnd, StringBuilder note) {
        if (f.tensors.isEmpty()) {
            f.tensors.add(new StFile.Tensor("x", "F32", new long[] {1}, new byte[4]));
        }
        StFile.Tensor t = Mutations.pick(rnd, f.tensors);
        switch (rnd.nextInt(10)) {
            case 0, 1 -> {
                t.dtype = Mutations.pick(rnd, DTYPES);
                t.data = Mutations.floats(rnd, t.dtype, (int) Math.min(t.elements(), MAX_ELEMENTS));
                note.append("retype ").append(t.name).append(" to ").append(t.dtype);
            }
            case 2, 3 -> {
                t.shape = otherShape(t.shape, t.elements(), rnd);
                long n = t.elements();
                t.data = Mutations.floats(rnd, t.dtype, (int) Math.min(n, MAX_ELEMENTS));
                note.append("reshape ").append(t.name).append(" to ").append(java.util.Arrays.toString(t.shape));
                if (n > MAX_ELEMENTS) {
                    note.append(" (data cut)");
                }
            }
            case 4 -> {
                String old = t.name;
                t.name = otherName(old, rnd, f);
                note.append("rename ").append(old).append(" to ").append(JsonMutations.shortText(t.name));
            }
            case 5 -> {
                f.tensors.remove(t);
                note.append("drop ").append(t.name);
            }
            case 6 -> {
                StFile.Tensor c = t.copy();
                c.name = otherName(t.name, rnd, f);
                f.tensors.add(rnd.nextInt(f.tensors.size() + 1), c);
                note.append("copy ").append(t.name).append(" as ").append(JsonMutations.shortText(c.name));
            }
            case 7 -> {
                Collections.shuffle(f.tensors, new Random(rnd.nextLong()));
                note.append("reorder the data");
            }
            case 8 -> {
                f.metadata = rnd.nextBoolean() ? null : new java.util.LinkedHashMap<>(java.util.Map.of("format",
                        Mutations.pick(rnd, List.of("pt", "tf", "np", "", "x".repeat(10_000), "a\nb"))));
                note.append("metadata ").append(f.metadata == null ? "removed" : "changed");
            }
            default -> {
                int target = Mutations.pick(rnd, List.of(640, 896, 1152, 1408)) + 65536 * rnd.nextInt(2);
                f.metadata = f.metadata == null ? new java.util.LinkedHashMap<>() : new java.util.LinkedHashMap<>(f.metadata);
                f.metadata.put("pad", "");
                int now = f.header().getBytes(StandardCharsets.UTF_8).length;
                f.metadata.put("pad", " ".repeat(Math.floorMod(target - now, 65536)));
                note.append("header length ≡ ").append(target % 65536).append(" mod 65536 (bytes 80 0x)");
            }
        }
    }

    /** Another shape: of another rank, with trailing ones, other element counts, or none at all with huge dims. */
    static long[] otherShape(long[] shape, long n, SplittableRandom rnd) {
        return switch (rnd.nextInt(8)) {
            case 0 -> new long[] {};
            case 1 -> new long[] {n};
            case 2 -> {
                long[] s = new long[shape.length + 1 + rnd.nextInt(rnd.nextBoolean() ? 3 : 1000)];
                System.arraycopy(shape, 0, s, 0, shape.length);
                java.util.Arrays.fill(s, shape.length, s.length, 1);
                yield s;
            }
            case 3 -> Mutations.pick(rnd, EMPTY_HUGE).clone();
            case 4 -> {
                long[] s = shape.clone();
                if (s.length > 0) {
                    s[rnd.nextInt(s.length)] += rnd.nextBoolean() ? 1 : -1;
                }
                yield s;
            }
            case 5 -> {
                long[] s = shape.clone();
                for (int i = 0; i < s.length / 2; i++) {
                    long x = s[i];
                    s[i] = s[s.length - 1 - i];
                    s[s.length - 1 - i] = x;
                }
                yield s;
            }
            case 6 -> shape.length > 1 ? java.util.Arrays.copyOf(shape, shape.length - 1) : new long[] {n, 1};
            default -> {
                long[] s = shape.clone();
                if (s.length > 0) {
                    s[0] = 0;
                }
                yield s;
            }
        };
    }

    /** Another name: a number in it changed to a hostile one, a suffix, a line break, a long tail, or a neighbour's. */
    static String otherName(String name, SplittableRandom rnd, StFile f) {
        Matcher m = DIGITS.matcher(name);
        List<int[]> runs = new ArrayList<>();
        while (m.find()) {
            runs.add(new int[] {m.start(), m.end()});
        }
        return switch (rnd.nextInt(7)) {
            case 0, 1 -> {
                if (runs.isEmpty()) {
                    yield name + ".0";
                }
                int[] r = Mutations.pick(rnd, runs);
                String number = Mutations.pick(rnd, Mutations.INTEGERS).replace("-", "");
                yield name.substring(0, r[0]) + number + name.substring(r[1]);
            }
            case 2 -> name + Mutations.pick(rnd, List.of(".x", "_", ".weight", "\n", "é"));
            case 3 -> name.replace(".", rnd.nextBoolean() ? ".\n" : "..");
            case 4 -> name + "x".repeat(Mutations.pick(rnd, List.of(200, 5000, 1_000_000)));
            case 5 -> Mutations.pick(rnd, f.tensors).name;
            default -> name.contains(".") ? name.substring(name.indexOf('.') + 1) : "";
        };
    }

    /** Header text the reference's JSON parser refuses or that costs a naive one: escapes, nesting, length. */
    private static byte[] headerTextEdit(String header, SplittableRandom rnd, StringBuilder note) {
        int entry = header.indexOf("\"dtype\"");
        String insert = switch (rnd.nextInt(6)) {
            case 0 -> "\"note\":\"a\\ud800b\",";
            case 1 -> "\"note\":[\"\\udc00\"],";
            case 2 -> "\"x\\ud83d\\ude00\":\"ok\",";
            case 3 -> {
                int d = Mutations.pick(rnd, List.of(124, 125, 126, 127, 128));
                yield "\"nest\":" + "[".repeat(d) + "]".repeat(d) + ",";
            }
            case 4 -> "\"note\":\"" + "y".repeat(Mutations.pick(rnd, List.of(100, 100_000, 3_000_000))) + "\",";
            default -> "\"note\":{\"k\":1,\"k\":2},";
        };
        note.append("header: insert ").append(JsonMutations.shortText(insert));
        String out = entry < 0 ? header : header.substring(0, entry) + insert + header.substring(entry);
        return out.getBytes(StandardCharsets.UTF_8);
    }

    /** The 8-byte header length: off by a little, huge, zero, or past the end. */
    private static byte[] lengthEdit(byte[] b, SplittableRandom rnd, StringBuilder note) {
        ByteBuffer buf = ByteBuffer.wrap(b.clone()).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        long v = switch (rnd.nextInt(6)) {
            case 0 -> n + 1 + rnd.nextInt(8);
            case 1 -> n - 1 - rnd.nextInt(8);
            case 2 -> 0;
            case 3 -> Long.MAX_VALUE;
            case 4 -> 100_000_001;
            default -> (n & ~0xffffL) | 0x0280;
        };
        note.append("header length ").append(n).append(" → ").append(v);
        buf.putLong(0, v);
        return buf.array();
    }
}
