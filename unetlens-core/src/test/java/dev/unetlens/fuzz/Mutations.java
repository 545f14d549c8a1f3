package dev.unetlens.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Byte-level edits and the hostile values the fuzzer draws from. */
final class Mutations {
    /** Integers at the edges: zero, signs, int and long limits, past them, Python's int(1e30). */
    static final List<String> INTEGERS = List.of("0", "1", "2", "3", "-1", "-2", "7", "16", "77", "255", "256",
            "1000", "65535", "65536", "1048576", "2097152", "2147483647", "2147483648", "-2147483648", "-2147483649",
            "4294967296", "4294967298", "4294967328", "9223372036854775807", "9223372036854775808",
            "-9223372036854775809", "1000000000000000019884624838656", "1" + "0".repeat(400));
    /** Other numbers: fractions, extremes, Python's non-standard literals. */
    static final List<String> NUMBERS = List.of("1.5", "0.5", "-0.0", "2.0", "1e30", "1e-300", "1e308", "1e309",
            "-1e309", "NaN", "Infinity", "-Infinity", "3.4028235e38", "0.00085");
    /** Strings: empty, control characters, a lone surrogate escape, long, and names the configs use. */
    static final List<String> STRINGS = List.of("\"\"", "\"x\"", "\"\\n\"", "\"a\\nb\"", "\"\\u0000\"", "\"\\ud800\"",
            "\"\\udc00x\"", "\"日本\"", "\"" + "a".repeat(20_000) + "\"", "\"silu\"", "\"gelu\"", "\"linear\"",
            "\"text_time\"", "\"epsilon\"", "\"v_prediction\"", "\"CrossAttnDownBlock2D\"", "\"UpBlock2D\"",
            "\"DownBlock2D\"", "\"CLIPTextModel\"", "\"CLIPTextModelWithProjection\"", "\"DDIMScheduler\"",
            "\"EulerDiscreteScheduler\"", "\"trailing\"", "\"<|endoftext|>\"", "\"!\"");
    /** Other JSON values. */
    static final List<String> OTHERS = List.of("null", "true", "false", "[]", "{}", "[1]", "[0]", "[-1]",
            "[2147483648]", "[1, 2, 3, 4, 5, 6, 7, 8, 9]", "[[1, 2], [3]]", "{\"a\": 1}", "[\"x\"]",
            "[" + "[".repeat(200) + "]".repeat(200) + "]", "[" + "1,".repeat(5000) + "1]");

    private Mutations() {
    }

    static <T> T pick(SplittableRandom rnd, List<T> list) {
        return list.get(rnd.nextInt(list.size()));
    }

    /** Any hostile JSON value, as text. */
    static String hostileValue(SplittableRandom rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> pick(rnd, INTEGERS);
            case 1 -> pick(rnd, NUMBERS);
            case 2 -> pick(rnd, STRINGS);
            default -> pick(rnd, OTHERS);
        };
    }

    /** Random little-endian values of a floating dtype (N(0, 1)), or random bytes for other dtypes. */
    static byte[] floats(SplittableRandom rnd, String dtype, int n) {
        int size = StFile.size(dtype);
        ByteBuffer b = ByteBuffer.allocate(n * size).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            float v = (float) rnd.nextGaussian() * 0.1f;
            switch (dtype) {
                case "F32" -> b.putFloat(v);
                case "F16" -> b.putShort(Float.floatToFloat16(v));
                case "BF16" -> b.putShort((short) (Float.floatToIntBits(v) >>> 16));
                case "F64" -> b.putDouble(v);
                default -> {
                    byte[] r = new byte[size];
                    rnd.nextBytes(r);
                    b.put(r);
                }
            }
        }
        return b.array();
    }

    /** One byte-level edit of {@code b} between {@code from} and {@code to}: a flip, an insertion, a deletion. */
    static byte[] byteEdit(SplittableRandom rnd, byte[] b, int from, int to, StringBuilder note) {
        if (to <= from) {
            from = 0;
            to = b.length;
        }
        int at = from + rnd.nextInt(Math.max(1, to - from));
        return switch (rnd.nextInt(4)) {
            case 0 -> {
                byte[] out = b.clone();
                if (at < out.length) {
                    out[at] ^= (byte) (1 << rnd.nextInt(8));
                }
                note.append("flip a bit of byte ").append(at);
                yield out;
            }
            case 1 -> {
                byte[] out = b.clone();
                if (at < out.length) {
                    out[at] = (byte) (int) pick(rnd, List.of(0, 0xff, 0x80, (int) '"', (int) '{', (int) '}', (int) '\\', 10, 0xc3, 0xed));
                }
                note.append("set byte ").append(at);
                yield out;
            }
            case 2 -> {
                byte[] ins = new byte[1 + rnd.nextInt(8)];
                rnd.nextBytes(ins);
                note.append("insert ").append(ins.length).append(" bytes at ").append(at);
                yield splice(b, at, 0, ins);
            }
            default -> {
                int n = Math.min(1 + rnd.nextInt(8), b.length - Math.min(at, b.length));
                note.append("delete ").append(n).append(" bytes at ").append(at);
                yield splice(b, Math.min(at, b.length), n, new byte[0]);
            }
        };
    }

    /** {@code b} without {@code remove} bytes at {@code at}, with {@code insert} there instead. */
    static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] out = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
        return out;
    }

    /** The first {@code n} bytes. */
    static byte[] truncate(byte[] b, int n) {
        return Arrays.copyOf(b, Math.max(0, Math.min(n, b.length)));
    }
}
